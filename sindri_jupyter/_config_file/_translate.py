"""A checked sindri.yaml to the options of a deploy, field by field.

Every field of the two provider blocks, and every deployment field they draw
on, ends in one of three places: an option that reaches the create request, a
refusal with its reason (an :class:`InputError`, nothing sent), or a note shown
before the deploy (a warning, or "not used here" for parts of the file this
library does not deploy). Nothing is dropped without a word.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any

from .._errors import InputError

#: Sindri v3's tier names for RunPod GPUs, and its default GPU
RUNPOD_TIERS = {
    "gpu-small": "NVIDIA RTX A4000",
    "gpu-medium": "NVIDIA RTX A5000",
    "gpu-large": "NVIDIA A100 80GB PCIe",
    "gpu-xlarge": "NVIDIA H100 80GB HBM3",
}
RUNPOD_DEFAULT_GPU = "NVIDIA RTX A4000"
#: Sindri's Northflank GPU names to the API's ids; native ids pass as they are
NORTHFLANK_GPUS = {
    "nvidia-l4": "l4-24",
    "nvidia-a100-40gb": "a100-40",
    "nvidia-a100": "a100-80",
    "nvidia-a100-80gb": "a100-80",
    "nvidia-h100": "h100-80",
    "nvidia-h200": "h200-141",
    "nvidia-b200": "b200-180",
}
_FULL_DATACENTER = re.compile(r"^[A-Z]{2}-[A-Z]{2,4}-\d+$")
_SIZE = re.compile(r"^(\d+)(MB|GB)$")


def keyword(flag: str) -> str:
    """The ``build_spec`` keyword of a command-line flag."""
    if flag == "--datacenter":
        return "datacenters"
    return flag.removeprefix("--").replace("-", "_")


@dataclasses.dataclass
class Translation:
    """What the file asks for, as ``build_spec`` options, and what to tell first."""

    origin: str
    provider: str
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: the command-line option each value stands for → the field it came from
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)
    unused: list[str] = dataclasses.field(default_factory=list)
    #: a RunPod region such as ``US``, expanded to data center ids before a deploy
    region_prefix: str | None = None

    def set(self, option: str, value: Any, source: str) -> None:
        self.options[keyword(option)] = value
        self.sources[option] = source

    def refuse(self, path: str, value: Any, reason: str) -> InputError:
        return InputError(
            f"{self.origin}: {path} {_shown(value)} is refused: {reason}.",
            option=path,
            value=value,
        )


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return str(value).lower()  # as YAML writes it
    return str(value)


def translate(document: dict[str, Any], origin: str) -> Translation:
    """The deploy options of a checked file (see ``_check.check``)."""
    deployment = document["deployment"]
    provider = deployment["provider"]
    if provider not in ("runpod", "northflank"):
        raise InputError(
            f"{origin}: deployment.provider {provider!r} is not deployed by this "
            "library: use runpod or northflank.",
            option="deployment.provider",
            value=provider,
        )
    result = Translation(origin, provider)
    _generic(document, result)
    blocks = document.get("providers") or {}
    if provider == "runpod":
        _runpod(blocks.get("runpod") or {}, deployment, result)
    else:
        if "northflank" not in blocks:
            raise InputError(
                f"{origin}: providers.northflank is needed for a Northflank deploy "
                "(at least its projectName).",
                option="providers.northflank",
            )
        from ._northflank import northflank

        northflank(blocks["northflank"], deployment, result)
    for other in blocks:
        if other != provider:
            result.unused.append(
                f"providers.{other} (deployment.provider is {provider})"
            )
    return result


def _generic(document: dict[str, Any], result: Translation) -> None:
    deployment = document["deployment"]
    result.set("--name", document["name"], "name")
    if "extensions" in document:
        result.unused.append("extensions (Sindri installs them in its own image)")
    distro = deployment.get("distro", "ubuntu")
    if distro != "ubuntu":
        raise result.refuse(
            "deployment.distro",
            distro,
            "the images used here are Ubuntu; name another with deployment.image",
        )
    if "image" in deployment:
        result.set("--image", deployment["image"], "deployment.image")
    if "image_config" in deployment:
        if "image" not in deployment:
            raise result.refuse(
                "deployment.image_config",
                "{...}",
                "Sindri's image resolution is not done here; name the image with "
                "deployment.image",
            )
        result.unused.append("deployment.image_config (deployment.image wins)")
    build = deployment.get("buildFromSource") or {}
    if build.get("enabled"):
        raise result.refuse(
            "deployment.buildFromSource.enabled",
            True,
            "nothing is built here; push an image and name it in deployment.image",
        )
    if "buildFromSource" in deployment:
        result.unused.append("deployment.buildFromSource (not enabled)")
    _secrets(document.get("secrets") or [], result)


def _secrets(secrets: list[dict[str, Any]], result: Translation) -> None:
    env: dict[str, str] = {}
    for index, secret in enumerate(secrets):
        path, name = f"secrets[{index}]", secret["name"]
        if secret["source"] != "env":
            raise result.refuse(
                f"{path}.source",
                secret["source"],
                f"only env secrets are passed here; export {name} and use source: env",
            )
        value = os.environ.get(name)
        if value is None and secret.get("required"):
            raise InputError(
                f"{result.origin}: {path} needs {name} in the environment; set it "
                "first.",
                option=path,
                value=name,
            )
        if value is None:
            result.notes.append(f"{name} is not set in the environment: not sent.")
            continue
        env[name] = value
    if env:
        # Secret-looking names are masked by build_spec; list them as env pairs.
        result.set("--env", [f"{k}={v}" for k, v in env.items()], "secrets")


def _gigabytes(text: str, path: str, result: Translation) -> int:
    number, unit = _SIZE.match(text).groups()  # type: ignore[union-attr]
    if unit == "GB":
        return int(number)
    if int(number) % 1024:
        raise result.refuse(path, text, "volumes are sized in whole GB here")
    return int(number) // 1024


def _pick(
    result: Translation,
    block: dict[str, Any],
    field: str,
    where: str,
    generic: Any,
    generic_path: str,
) -> tuple[Any, str | None]:
    """Provider field over generic value (warn where they differ); path used."""
    if field in block:
        if generic is not None and generic != block[field]:
            result.notes.append(
                f"{where}.{field} ({block[field]}) wins over {generic_path} "
                f"({generic})."
            )
        return block[field], f"{where}.{field}"
    if generic is not None:
        return generic, generic_path
    return None, None


def _workspace(deployment: dict[str, Any], result: Translation) -> tuple[Any, Any]:
    workspace = (deployment.get("volumes") or {}).get("workspace") or {}
    size = workspace.get("size")
    if size is not None:
        size = _gigabytes(size, "deployment.volumes.workspace.size", result)
    return size, workspace.get("path")


def _runpod(
    block: dict[str, Any], deployment: dict[str, Any], result: Translation
) -> None:
    where = "providers.runpod"
    refusals = {
        "templateId": "templates are not used here; name the image with "
        "deployment.image",
        "cpuInstanceId": "RunPod CPU pods are not deployed by this library",
    }
    for field, reason in refusals.items():
        if field in block:
            raise result.refuse(f"{where}.{field}", block[field], reason)
    if block.get("cpuOnly"):
        reason = (
            "it conflicts with gpuTypeId; keep one"
            if "gpuTypeId" in block
            else "RunPod CPU pods are not deployed by this library; remove cpuOnly "
            "for a GPU pod"
        )
        raise result.refuse(f"{where}.cpuOnly", True, reason)
    if block.get("startSsh") is False:
        raise result.refuse(
            f"{where}.startSsh",
            False,
            "SSH is always started here (connect and ssh-config rely on it)",
        )
    resources = deployment.get("resources") or {}
    gpu = resources.get("gpu") or {}
    _runpod_gpu(block, gpu, result)
    for field in ("cpus", "memory"):
        if field in resources:
            result.unused.append(
                f"deployment.resources.{field} (RunPod sizes CPU and memory by GPU)"
            )
    size, path = _workspace(deployment, result)
    disk = block.get("containerDiskGb", 20)
    result.set("--disk", disk, f"{where}.containerDiskGb")
    volume, source = _pick(
        result, block, "volumeSizeGb", where, size, "deployment.volumes.workspace.size"
    )
    result.set("--volume", 50 if volume is None else volume, source or where)
    if volume is not None and 0 < volume < 10:
        raise result.refuse(
            source, volume, "RunPod's smallest volume is 10 GB; use 0 for none"
        )
    mount, source = _pick(
        result,
        block,
        "volumeMountPath",
        where,
        path,
        "deployment.volumes.workspace.path",
    )
    result.set("--volume-path", mount or "/workspace", source or where)
    result.set("--cloud", block.get("cloudType", "COMMUNITY"), f"{where}.cloudType")
    if "exposePorts" in block:
        ports = [f"{port}/http" for port in block["exposePorts"]] + ["22/tcp"]
        result.set("--ports", ",".join(dict.fromkeys(ports)), f"{where}.exposePorts")
    if "region" in block:
        region = block["region"]
        if _FULL_DATACENTER.match(region):
            result.set("--datacenter", region, f"{where}.region")
        else:
            result.region_prefix = region
            result.sources["--datacenter"] = f"{where}.region"
    if block.get("spotBid"):
        result.notes.append(
            f"{where}.spotBid {block['spotBid']}: spot pods are withdrawn from "
            "RunPod's API, so this deploys on-demand."
        )


def _runpod_gpu(
    block: dict[str, Any], gpu: dict[str, Any], result: Translation
) -> None:
    where = "providers.runpod"
    if not gpu.get("enabled"):
        result.notes.append(
            "Sindri v3 made a CPU pod when deployment.resources.gpu is absent or "
            "disabled; here a RunPod pod has a GPU unless cpuOnly is true, so this "
            "is a GPU pod."
        )
    if "gpuTypeId" in block:
        result.set("--gpu", block["gpuTypeId"], f"{where}.gpuTypeId")
    elif gpu.get("enabled") and gpu.get("type") == "amd":
        raise result.refuse(
            "deployment.resources.gpu.type",
            "amd",
            "the tiers name NVIDIA GPUs; name an AMD one with gpuTypeId",
        )
    elif gpu.get("enabled") and "tier" in gpu:
        result.set("--gpu", RUNPOD_TIERS[gpu["tier"]], "deployment.resources.gpu.tier")
    else:
        result.set("--gpu", RUNPOD_DEFAULT_GPU, where)
        result.notes.append(
            f"No GPU named: using Sindri's default, {RUNPOD_DEFAULT_GPU}."
        )
    if "memory" in gpu:
        result.unused.append("deployment.resources.gpu.memory (the GPU type fixes it)")
    count, source = _pick(
        result,
        block,
        "gpuCount",
        where,
        gpu.get("count"),
        "deployment.resources.gpu.count",
    )
    result.set("--count", count or 1, source or where)
