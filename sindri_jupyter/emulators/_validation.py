"""Request validation against a provider's bundled contract document.

Schemas are addressed by JSON pointer into the whole document, so every `$ref`
resolves the way the provider's published contract intends. The document and
the JSON Schema dialect are parameters: RunPod publishes OpenAPI 3.1 (2020-12),
other providers may publish draft-07 schema collections.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012, Specification

SPEC_PACKAGE = "sindri_jupyter.emulators.specs"
DIALECTS: dict[str, tuple[Specification, type[Validator]]] = {
    "2020-12": (DRAFT202012, Draft202012Validator),
    "draft-07": (DRAFT7, Draft7Validator),
}


@cache
def load_bundled(filename: str) -> Any:
    """Read one of the contract files shipped in `sindri_jupyter.emulators.specs`."""
    text = resources.files(SPEC_PACKAGE).joinpath(filename).read_text("utf-8")
    return json.loads(text)


DATE_TIME = re.compile(
    r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$"
)


def is_date_time(value: object) -> bool:
    """RFC 3339 `date-time`, checked without the optional rfc3339 packages."""
    if not isinstance(value, str):
        return True
    if not DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_date_time)
    return checker


class ContractSchemas:
    """Validators for schemas inside one contract document, built on first use."""

    def __init__(self, document: Any, *, uri: str, dialect: str = "2020-12") -> None:
        specification, self._validator_class = DIALECTS[dialect]
        self.document = document
        self.uri = uri
        resource = Resource(contents=document, specification=specification)
        self._registry = Registry().with_resource(uri, resource)
        self._validators: dict[str, Validator] = {}
        self._formats = format_checker()

    def validator(self, pointer: str) -> Validator:
        """The validator for the schema at a pointer like `#/components/schemas/Pod`."""
        if pointer not in self._validators:
            schema = {"$ref": f"{self.uri}{pointer}"}
            self._validators[pointer] = self._validator_class(
                schema, registry=self._registry, format_checker=self._formats
            )
        return self._validators[pointer]

    def errors(self, pointer: str, instance: Any) -> list[str]:
        """Every violation of the schema at `pointer`, sorted by instance path."""
        found = list(self.validator(pointer).iter_errors(instance))
        described = {self.describe(error) for error in found}
        if found and described <= {None}:
            return ["$: the body does not match the schema"]
        return sorted(text for text in described if text)

    def describe(self, error: Any) -> str | None:
        """One violation as `<instance path>: <message>`.

        `unevaluatedProperties` also flags declared properties whenever a sibling
        subschema failed, which buries the real mistake; name only the properties
        the schema declares nowhere.
        """
        if error.validator == "unevaluatedProperties" and isinstance(
            error.instance, dict
        ):
            unknown = sorted(set(error.instance) - self.declared(error.schema))
            if unknown:
                names = ", ".join(repr(name) for name in unknown)
                return f"{error.json_path}: unknown properties {names} not allowed"
            return None  # a cascade of another error, which is reported itself
        return f"{error.json_path}: {error.message}"

    def declared(self, schema: Any) -> set[str]:
        """Property names a schema declares through allOf/anyOf/oneOf/if/then/$ref."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return set()
        names = set(schema.get("properties", {}))
        for key in ("allOf", "anyOf", "oneOf"):
            for part in schema.get(key, []):
                names |= self.declared(part)
        for key in ("if", "then", "else"):
            if key in schema:
                names |= self.declared(schema[key])
        return names

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s until a node without one."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target[int(part) if isinstance(target, list) else part]
            node = target
        return node

    def query_values(
        self, method: str, template: str, query: dict[str, list[str]]
    ) -> tuple[dict[str, Any], list[str]]:
        """Coerce and validate an OpenAPI operation's query parameters.

        Returns the typed values of the parameters present and every violation,
        each prefixed with the parameter name. Unknown parameters are ignored,
        as most HTTP APIs do.
        """
        values: dict[str, Any] = {}
        problems: list[str] = []
        for name, pointer in self._query_parameters(method, template):
            if name not in query:
                continue
            schema = self.resolve(self.resolve_pointer(pointer))
            value = coerce(query[name][-1], schema, self)
            values[name] = value
            for error in self.validator(pointer).iter_errors(value):
                where = error.json_path.replace("$", name, 1)
                problems.append(f"{where}: {error.message}")
        problems = list(dict.fromkeys(problems))
        return values, sorted(problems)

    def _query_parameters(self, method: str, template: str) -> list[tuple[str, str]]:
        escaped = template.replace("~", "~0").replace("/", "~1")
        path_item = self.document["paths"][template]
        found: list[tuple[str, str]] = []
        groups = [
            (path_item.get("parameters", []), f"#/paths/{escaped}/parameters"),
            (
                path_item[method.lower()].get("parameters", []),
                f"#/paths/{escaped}/{method.lower()}/parameters",
            ),
        ]
        for parameters, base in groups:
            for index, parameter in enumerate(parameters):
                pointer = parameter.get("$ref", f"{base}/{index}")
                parameter = self.resolve(parameter)
                if parameter.get("in") == "query":
                    found.append((parameter["name"], f"{pointer}/schema"))
        return found

    def resolve_pointer(self, pointer: str) -> Any:
        return self.resolve({"$ref": pointer})


def coerce(text: str, schema: dict, schemas: ContractSchemas) -> Any:
    """Turn a query string value into the JSON type its schema expects.

    Values that do not convert are returned unchanged, so validation reports
    them as type errors instead of this function guessing.
    """
    kind = schema.get("type")
    if kind == "array":
        items = schemas.resolve(schema.get("items", {}))
        return [coerce(part, items, schemas) for part in text.split(",")]
    if kind == "integer":
        return int(text) if re.fullmatch(r"[+-]?\d+", text.strip()) else text
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.strip().lower(), text)
    return text
