"""Reading a sindri.yaml: YAML syntax, snake_case aliases, unknown keys, the schema.

The schema shipped in ``sindri_jupyter/data`` is the one source of the field
names: the unknown-key check walks it, so a key it does not list is refused
with the nearest one it does.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

from .._errors import InputError

SCHEMA_FILE = "sindri-yaml.schema.json"

#: the loader's snake_case spellings of the provider blocks' fields (reference §4)
ALIASES: dict[str, dict[str, str]] = {
    "runpod": {
        "gpu_type_id": "gpuTypeId",
        "gpu_type": "gpuTypeId",
        "gpu_count": "gpuCount",
        "container_disk_gb": "containerDiskGb",
        "volume_size_gb": "volumeSizeGb",
        "volume_mount_path": "volumeMountPath",
        "cloud_type": "cloudType",
        "expose_ports": "exposePorts",
        "spot_bid": "spotBid",
        "start_ssh": "startSsh",
        "cpu_only": "cpuOnly",
        "cpu_instance_id": "cpuInstanceId",
        "template_id": "templateId",
    },
    "northflank": {
        "project_name": "projectName",
        "service_name": "serviceName",
        "compute_plan": "computePlan",
        "gpu_type": "gpuType",
        "gpu_count": "gpuCount",
        "volume_size_gb": "volumeSizeGb",
        "volume_mount_path": "volumeMountPath",
        "registry_credentials": "registryCredentials",
        "health_check": "healthCheck",
        "auto_scaling": "autoScaling",
    },
}


@functools.cache
def schema() -> dict[str, Any]:
    """The JSON Schema for sindri.yaml, as shipped in the package."""
    text = resources.files("sindri_jupyter.data").joinpath(SCHEMA_FILE).read_text()
    return json.loads(text)


def schema_path() -> Path:
    """Where the schema file is, for an editor's ``yaml-language-server`` line."""
    return Path(str(resources.files("sindri_jupyter.data").joinpath(SCHEMA_FILE)))


def parse(text: str, origin: str) -> dict[str, Any]:
    """YAML text to a mapping; a syntax error is one sentence with its line."""
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "it is not valid YAML"
        raise InputError(
            f"{origin}: cannot read the YAML{where} ({problem}).",
            option="--config",
            value=origin,
        ) from None
    if not isinstance(document, dict):
        raise InputError(
            f"{origin} holds no mapping: a sindri.yaml starts with keys such as "
            "version, name and deployment.",
            option="--config",
            value=origin,
        )
    return document


def read(path: str) -> tuple[dict[str, Any], str]:
    """The file's mapping and the name to use for it in messages."""
    target = Path(path).expanduser()
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"--config {path!r} cannot be read ({error.strerror or error}).",
            option="--config",
            value=path,
        ) from None
    return parse(text, target.name), target.name


def check(document: dict[str, Any], origin: str) -> dict[str, Any]:
    """Aliases resolved, unknown keys refused, the schema applied; a new mapping."""
    document = copy.deepcopy(document)
    providers = document.get("providers")
    if isinstance(providers, dict):
        for provider, aliases in ALIASES.items():
            block = providers.get(provider)
            if isinstance(block, dict):
                providers[provider] = _resolve_aliases(
                    block, aliases, f"providers.{provider}", origin
                )
    _unknown_keys(document, schema(), "", origin)
    _apply_schema(document, origin)
    return document


def _resolve_aliases(
    block: dict[str, Any], aliases: dict[str, str], where: str, origin: str
) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in block.items():
        canonical = aliases.get(key, key)
        if canonical in resolved:
            raise InputError(
                f"{origin}: {where} gives {canonical} twice (as {spelled[canonical]} "
                f"and {key}); keep one.",
                option=f"{where}.{key}",
                value=key,
            )
        resolved[canonical] = value
        spelled[canonical] = key
    return resolved


def _resolve_ref(node: dict[str, Any]) -> dict[str, Any]:
    reference = node.get("$ref")
    if not reference:
        return node
    found: Any = schema()
    for part in reference.removeprefix("#/").split("/"):
        found = found[part]
    return found


def _unknown_keys(value: Any, node: dict[str, Any], where: str, origin: str) -> None:
    node = _resolve_ref(node)
    if isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            _unknown_keys(item, node["items"], f"{where}[{index}]", origin)
        return
    if not isinstance(value, dict) or "properties" not in node:
        return
    known = node["properties"]
    for key, item in value.items():
        path = f"{where}.{key}" if where else str(key)
        if key in known:
            _unknown_keys(item, known[key], path, origin)
        elif node.get("additionalProperties", True) is False:
            raise InputError(
                f"{origin}: unknown key {path}{_nearest(str(key), known)}",
                option=path,
                value=key,
            )


def _nearest(key: str, known: dict[str, Any]) -> str:
    lowered = {name.lower(): name for name in known}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.5)
    if close:
        return f"; did you mean {lowered[close[0]]}?"
    return f"; the keys here are {', '.join(known)}."


def _apply_schema(document: dict[str, Any], origin: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return
    path = _dotted(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "a key"
        place = f"{path} needs" if path else "the file needs"
        message = f"{origin}: {place} {missing}."
    else:
        shown = json.dumps(error.instance) if path else "the file"
        message = f"{origin}: {path or 'the file'} {shown} is refused: {_why(error)}."
    raise InputError(message, option=path or "--config", value=error.instance)


def _dotted(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _why(error: Any) -> str:
    rule, expected = error.validator, error.validator_value
    if rule == "enum":
        return "use one of " + ", ".join(json.dumps(v) for v in expected)
    if rule == "pattern":
        return f"it must match {expected}"
    if rule in ("minimum", "maximum"):
        word = "at least" if rule == "minimum" else "at most"
        return f"it must be {word} {expected}"
    if rule in ("minLength", "maxLength"):
        word = "at least" if rule == "minLength" else "at most"
        return f"it must be {word} {expected} characters"
    if rule == "type":
        return f"it must be {'an' if expected[0] in 'aeiou' else 'a'} {expected}"
    return error.message
