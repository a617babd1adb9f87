"""The control surface under `/_emulator/`: no auth, loopback only.

Control requests do not tick the clock, are not journalled and never meet a
fault, so a test can inspect and steer the emulator without disturbing it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ._clock import format_instant, parse_instant
from ._http import HttpError, NotJson, Request, Response, Route, RouteTable

if TYPE_CHECKING:
    from ._server import EmulatorServer

PREFIX = "/_emulator"


def body_object(request: Request, *, required: bool = False) -> dict[str, Any]:
    """The control request's JSON object body ({} when absent and optional)."""
    if not request.body and not required:
        return {}
    try:
        body = request.json()
    except NotJson as error:
        raise HttpError(400, str(error)) from error
    if not isinstance(body, dict):
        raise HttpError(400, "the body must be a JSON object")
    return body


def instant_field(body: dict, name: str) -> Any:
    if body.get(name) is None:
        return None
    try:
        return parse_instant(str(body[name]))
    except ValueError as error:
        raise HttpError(400, f"{name} must be an RFC 3339 time: {error}") from error


class ControlSurface:
    """Routes for the shared control endpoints plus the provider's own."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        shared = [
            Route("GET", f"{PREFIX}/health", self.health),
            Route("GET", f"{PREFIX}/requests", self.list_requests),
            Route("DELETE", f"{PREFIX}/requests", self.clear_requests),
            Route("GET", f"{PREFIX}/clock", self.get_clock),
            Route("POST", f"{PREFIX}/clock", self.set_clock),
            Route("GET", f"{PREFIX}/faults", self.list_faults),
            Route("POST", f"{PREFIX}/faults", self.enable_fault),
            Route("DELETE", f"{PREFIX}/faults", self.clear_faults),
            Route("POST", f"{PREFIX}/reset", self.reset),
        ]
        self.table = RouteTable(shared + server.app.control_routes())

    def handle(self, request: Request) -> Response:
        route, params, allowed = self.table.resolve(request.method, request.path)
        try:
            if route is None:
                status = 405 if allowed else 404
                raise HttpError(
                    status, f"no control endpoint {request.method} {request.path}"
                )
            request.params = params
            with self.server.app.lock:
                return route.handler(request)
        except HttpError as error:
            return Response.json(error.problem.status, {"error": error.problem.detail})
        except ValueError as error:
            return Response.json(400, {"error": str(error)})

    # -- shared endpoints ----------------------------------------------------

    def health(self, request: Request) -> Response:
        app = self.server.app
        payload = {"provider": app.provider, "ok": True, "pid": os.getpid()}
        return Response.json(200, {**payload, "seed": app.seed, **app.health()})

    def list_requests(self, request: Request) -> Response:
        return Response.json(200, {"requests": self.server.journal.entries()})

    def clear_requests(self, request: Request) -> Response:
        return Response.json(200, {"cleared": self.server.journal.clear()})

    def get_clock(self, request: Request) -> Response:
        return Response.json(200, self.server.clock.settings().as_json())

    def set_clock(self, request: Request) -> Response:
        body = body_object(request, required=True)
        unknown = set(body) - {"mode", "speed", "step", "epoch", "advance"}
        if unknown:
            raise HttpError(400, f"unknown clock fields {sorted(unknown)}")
        clock = self.server.clock
        clock.configure(
            mode=body.get("mode"),
            speed=body.get("speed"),
            step=body.get("step"),
            epoch=instant_field(body, "epoch"),
        )
        if body.get("advance") is not None:
            clock.advance(float(body["advance"]))
        return Response.json(200, clock.settings().as_json())

    def list_faults(self, request: Request) -> Response:
        return Response.json(200, self.server.faults.as_json())

    def enable_fault(self, request: Request) -> Response:
        body = body_object(request, required=True)
        unknown = set(body) - {"name", "count", "match", "params"}
        if unknown:
            raise HttpError(400, f"unknown fault fields {sorted(unknown)}")
        if not isinstance(body.get("name"), str):
            raise HttpError(400, "name is required")
        fault = self.server.faults.enable(
            body["name"],
            count=body.get("count"),
            match=body.get("match"),
            params=body.get("params"),
        )
        return Response.json(201, fault.as_json())

    def clear_faults(self, request: Request) -> Response:
        name = request.query_value("name")
        return Response.json(200, {"cleared": self.server.faults.clear(name)})

    def reset(self, request: Request) -> Response:
        body = body_object(request)
        seed = body.get("seed", self.server.app.initial_seed)
        if seed is not None and not isinstance(seed, int):
            raise HttpError(400, "seed must be an integer")
        epoch = instant_field(body, "epoch")
        if epoch is not None:
            self.server.clock.configure(epoch=epoch)
        self.server.journal.clear()
        self.server.faults.clear()
        self.server.app.reset(seed)
        now = format_instant(self.server.clock.now())
        return Response.json(200, {"seed": seed, "now": now})
