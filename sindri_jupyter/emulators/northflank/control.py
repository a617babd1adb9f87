"""Northflank-only control endpoints under `/_emulator/`.

- `GET|POST /_emulator/ratelimit`: read or steer the account budget, e.g.
  `{"remaining": 3}` to drive a client into "nearly spent";
- `GET /_emulator/projects/{projectId}/services/{serviceId}`: what the API does
  not show (container and filesystem generations, attached volumes);
- `POST .../services/{serviceId}/delete`: delete a service outside the library;
- `POST .../services/{serviceId}/rollout`: `{"outcome": "FAILED"}` (or
  COMPLETED, IN_PROGRESS) decides how the current rollout ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._control import PREFIX, body_object
from .._http import HttpError, Request, Response, Route
from .model import COMPLETED, FAILED, IN_PROGRESS

if TYPE_CHECKING:
    from .app import NorthflankApp

    _Base = NorthflankApp
else:
    _Base = object

OUTCOMES = (COMPLETED, FAILED, IN_PROGRESS)


class ControlRoutes(_Base):
    """Provider-specific control endpoints, mounted by the shared server."""

    def control_routes(self) -> list[Route]:
        service = PREFIX + "/projects/{projectId}/services/{serviceId}"
        return [
            Route("GET", PREFIX + "/ratelimit", self.control_rate_limit),
            Route("POST", PREFIX + "/ratelimit", self.control_set_rate_limit),
            Route("GET", service, self.control_service),
            Route("POST", service + "/delete", self.control_delete_service),
            Route("POST", service + "/rollout", self.control_rollout),
        ]

    def control_rate_limit(self, request: Request) -> Response:
        return Response.json(200, self.rate_limit.as_json(self.clock.now()))

    def control_set_rate_limit(self, request: Request) -> Response:
        body = body_object(request, required=True)
        unknown = set(body) - {"remaining", "limit"}
        if unknown:
            raise HttpError(400, f"unknown rate-limit fields {sorted(unknown)}")
        now = self.clock.now()
        self.rate_limit.configure(
            now, remaining=body.get("remaining"), limit=body.get("limit")
        )
        return Response.json(200, self.rate_limit.as_json(now))

    def control_lookup(self, request: Request):
        project = self.projects.get(request.params["projectId"])
        service = project.services.get(request.params["serviceId"]) if project else None
        if service is None:
            raise HttpError(404, "no such project and service")
        return project, service

    def control_service(self, request: Request) -> Response:
        _, service = self.control_lookup(request)
        return Response.json(200, service.control_view(self.clock.now()))

    def control_delete_service(self, request: Request) -> Response:
        project, service = self.control_lookup(request)
        self.remove_service(project, service, children=False)
        return Response.json(200, {"deleted": service.id})

    def control_rollout(self, request: Request) -> Response:
        _, service = self.control_lookup(request)
        outcome = body_object(request, required=True).get("outcome")
        if outcome not in OUTCOMES:
            raise HttpError(400, f"outcome must be one of {', '.join(OUTCOMES)}")
        service.rollout.outcome = outcome
        return Response.json(200, service.control_view(self.clock.now()))
