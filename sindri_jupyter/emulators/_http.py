"""Plain request, response and route types shared by every emulator.

They are deliberately framework-free: the server turns socket traffic into a
`Request`, a provider app turns that into a `Response`, and the server writes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from ._faults import Fault, FaultBook

JSON = "application/json"


class NotJson(Exception):
    """The request body is not a JSON document."""


@dataclass
class Request:
    """A provider-API request after parsing; handlers read, never write it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    now: datetime
    authorized: bool = False
    params: dict[str, str] = field(default_factory=dict)
    faults: FaultBook | None = None
    fired: dict[str, Fault | None] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        """The body parsed as JSON; raises `NotJson` when it is not."""
        if not self.body:
            raise NotJson("the request has no body")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise NotJson(f"the body is not JSON: {error}") from error

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except NotJson:
            return None

    def fault(self, name: str) -> Fault | None:
        """Fire a provider-level fault at most once for this request."""
        if name not in self.fired:
            fired = (
                self.faults.take(name, self.method, self.path) if self.faults else None
            )
            self.fired[name] = fired
        return self.fired[name]


@dataclass
class Problem:
    """The parts of an error a provider renders into its own error body."""

    status: int
    title: str
    detail: str
    errors: list[str] | None = None


@dataclass
class Response:
    """What the server writes back; `stream` replaces `body` for event streams."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None
    problem: Problem | None = None

    @classmethod
    def json(cls, status: int, payload: Any, content_type: str = JSON) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, content_type)

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status)

    def payload(self) -> Any:
        return json.loads(self.body) if self.body else None


class HttpError(Exception):
    """Raised by handlers to answer with the provider's error body."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.problem = Problem(status, title or reason_phrase(status), detail, errors)
        self.headers = headers or {}


REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def reason_phrase(status: int) -> str:
    return REASONS.get(status, "Error")


Handler = Callable[[Request], Response]


class Route:
    """A method and a path template such as `/v2/pods/{id}`, bound to a handler.

    Path parameters match one segment and are percent-decoded, so GPU ids with
    spaces (`NVIDIA%20GeForce%20RTX%204090`) arrive as written.
    """

    def __init__(
        self, method: str, template: str, handler: Handler, *, name: str = ""
    ) -> None:
        self.method = method.upper()
        self.template = template
        self.handler = handler
        self.name = name or template
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        self._pattern = re.compile(f"^{pattern}$")

    def match(self, path: str) -> dict[str, str] | None:
        found = self._pattern.match(path)
        if found is None:
            return None
        return {key: unquote(value) for key, value in found.groupdict().items()}


class RouteTable:
    """Routes in order; answers which route serves a path and which methods exist."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = list(routes)

    def resolve(self, method: str, path: str) -> tuple[Route | None, dict, list[str]]:
        """Return (route, params, allowed methods for the path)."""
        allowed: list[str] = []
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == method.upper():
                return route, params, allowed
            allowed.append(route.method)
        return None, {}, allowed
