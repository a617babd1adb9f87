"""Northflank's request contract: body validation, refusals, pagination, slugs.

Bodies are checked against the bundled draft-07 schemas; a violation is a 400
with every problem listed in `error.details`, before any state changes, so a
refused request never creates anything.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from jsonschema.exceptions import best_match

from .._http import HttpError, NotJson, Request
from .._validation import ContractSchemas, load_bundled

SCHEMAS_FILE = "northflank-api-schemas.json"
SCHEMAS_URI = "urn:sindri-emulator:northflank-api-schemas"
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
CURSOR_PREFIX = "offset:"

_schemas: ContractSchemas | None = None


def schemas() -> ContractSchemas:
    global _schemas
    if _schemas is None:
        document = load_bundled(SCHEMAS_FILE)
        _schemas = ContractSchemas(document, uri=SCHEMAS_URI, dialect="draft-07")
    return _schemas


def violations(schema: str, instance: Any) -> list[str]:
    """Each violation of `#/schemas/<schema>` as `<path>: <message>`.

    `best_match` descends into anyOf branches, so a bad `deployment` names the
    field at fault instead of "not valid under any of the given schemas".
    """
    validator = schemas().validator(f"#/schemas/{schema}")
    found = []
    for error in validator.iter_errors(instance):
        precise = best_match([error])
        found.append(f"{precise.json_path}: {precise.message}")
    return sorted(dict.fromkeys(found))


def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object body; `{}` when optional and absent."""
    if not request.body and not required:
        return {}
    try:
        body = request.json()
    except NotJson as error:
        raise HttpError(400, f"The request body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise HttpError(400, "The request body must be a JSON object.")
    return body


def validated(request: Request, schema: str, *, required: bool = True) -> dict:
    """The body, refused with 400 unless it satisfies `schema`."""
    body = json_body(request, required=required)
    problems = violations(schema, body)
    if problems:
        raise HttpError(400, f"Validation failed: {problems[0]}", errors=problems)
    return body


def slug(name: str) -> str:
    """The identifier Northflank derives from a name (`My Service` -> `my-service`)."""
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")


def flag(request: Request, name: str) -> bool:
    value = request.query_value(name)
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise HttpError(400, f"Query parameter {name} must be true or false.")
    return lowered == "true"


def _whole_number(
    request: Request, name: str, low: int, high: int | None
) -> int | None:
    text = request.query_value(name)
    if text is None:
        return None
    bound = f"between {low} and {high}" if high else f"at least {low}"
    if (
        not re.fullmatch(r"\d+", text.strip())
        or int(text) < low
        or (high is not None and int(text) > high)
    ):
        raise HttpError(400, f"Query parameter {name} must be a whole number {bound}.")
    return int(text)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith(CURSOR_PREFIX) or not text[len(CURSOR_PREFIX) :].isdigit():
        raise HttpError(400, "The cursor is not one this API handed out.")
    return int(text[len(CURSOR_PREFIX) :])


def page(request: Request, key: str, items: list[Any]) -> dict[str, Any]:
    """One page of `items` as `{data: {key: [...]}, pagination}`.

    `cursor` wins over `page`; both count from the start of the full list.
    """
    per_page = _whole_number(request, "per_page", 1, MAX_PER_PAGE) or DEFAULT_PER_PAGE
    cursor = request.query_value("cursor")
    if cursor:
        offset = decode_cursor(cursor)
    else:
        offset = ((_whole_number(request, "page", 1, None) or 1) - 1) * per_page
    chunk = items[offset : offset + per_page]
    more = offset + per_page < len(items)
    pagination: dict[str, Any] = {"hasNextPage": more, "count": len(chunk)}
    if more:
        pagination["cursor"] = encode_cursor(offset + per_page)
    return {"data": {key: chunk}, "pagination": pagination}
