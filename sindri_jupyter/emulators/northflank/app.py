"""`NorthflankApp`: the Northflank API v1 emulator.

It serves projects, deployment services (see `services.py`), volumes (see
`volumes.py`), and the plan and region catalogs. Northflank's conventions,
not RunPod's: `{"data": ...}` on success, `{"error": {...}}` on failure,
refusals as 400/404/409, and an account rate limit whose state rides on every
response as `x-ratelimit-*` headers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, ClassVar

from .._base import DEFAULT_API_KEY, ProviderApp
from .._clock import VirtualClock
from .._http import HttpError, Problem, Request, Response, Route
from .._ids import IdSource
from . import catalog
from .contract import flag, json_body, page, slug, validated
from .control import ControlRoutes
from .model import Project, Timings
from .ratelimit import DEFAULT_LIMIT, DEFAULT_WINDOW_SECONDS, RateLimit
from .services import ServiceRoutes
from .volumes import VolumeRoutes

# The catalogs need no token, like the real API's.
PUBLIC_PATHS = frozenset({"/v1/plans", "/v1/regions"})
DEFAULT_REGION = "europe-west"
DEFAULT_TEAM = "sindri-emulator"
PROJECT_PATCH_FIELDS = frozenset({"color", "description", "networking"})


def ok(data: Any = None, status: int = 200) -> Response:
    """Northflank's success envelope; action endpoints answer `{"data": {}}`."""
    return Response.json(status, {"data": {} if data is None else data})


class NorthflankApp(ServiceRoutes, VolumeRoutes, ControlRoutes, ProviderApp):
    """Northflank API v1 on loopback, with state evaluated lazily on the clock."""

    provider = "northflank"
    faults: ClassVar[dict[str, str]] = {
        "stuck": "the next rollout stays IN_PROGRESS until steered",
        "deployment-failed": "the next rollout ends FAILED",
        "image-unverified": "a service create or image change answers 400",
    }

    def __init__(
        self,
        *,
        clock: VirtualClock,
        seed: int | None = None,
        api_keys: Iterable[str] = (DEFAULT_API_KEY,),
        pending_seconds: float = Timings.pending,
        deploying_seconds: float = Timings.deploying,
        scaling_seconds: float = Timings.scaling,
        dns_seconds: float = Timings.dns,
        rate_limit: int = DEFAULT_LIMIT,
        rate_window_seconds: float = DEFAULT_WINDOW_SECONDS,
        default_region: str = DEFAULT_REGION,
        team: str = DEFAULT_TEAM,
    ) -> None:
        self.timings = Timings(
            pending_seconds, deploying_seconds, scaling_seconds, dns_seconds
        )
        self.rate_settings = (rate_limit, rate_window_seconds)
        if catalog.region(default_region) is None:
            raise ValueError(f"unknown default region {default_region!r}")
        self.default_region = default_region
        self.team = team
        super().__init__(clock=clock, seed=seed, api_keys=api_keys)

    def reset(self, seed: int | None) -> None:
        super().reset(seed)
        # Error ids draw from their own source, so a refusal never shifts the
        # ids and DNS names of the resources created after it.
        self.error_ids = IdSource(None if seed is None else seed + 1)
        self.projects: dict[str, Project] = {}
        self.rate_limit = RateLimit(*self.rate_settings)

    def routes(self) -> list[Route]:
        projects = "/v1/projects"
        project = projects + "/{projectId}"
        return [
            Route("GET", "/v1/plans", self.list_plans),
            Route("GET", "/v1/regions", self.list_regions),
            Route("GET", projects, self.list_projects),
            Route("POST", projects, self.create_project),
            Route("PUT", projects, self.upsert_project),
            Route("GET", project, self.get_project),
            Route("PATCH", project, self.patch_project),
            Route("DELETE", project, self.delete_project),
            *self.service_routes(project),
            *self.volume_routes(project),
        ]

    # -- the Northflank wire conventions -------------------------------------

    def problem_response(self, problem: Problem) -> Response:
        error: dict[str, Any] = {
            "status": problem.status,
            "message": problem.detail,
            "id": self.error_ids.hex(24),
        }
        if problem.errors:
            error["details"] = list(problem.errors)
        response = Response.json(problem.status, {"error": error})
        response.problem = problem
        return response

    def handle(self, request: Request) -> Response:
        public = request.method == "GET" and request.path in PUBLIC_PATHS
        if request.authorized:
            with self.lock:
                counted = self.rate_limit.consume(request.now)
            if not counted:
                message = (
                    "Rate limit exceeded: try again after x-ratelimit-reset seconds."
                )
                return self.problem_response(Problem(429, "Too Many Requests", message))
        elif public:
            # The base refuses every unauthenticated request; these two paths
            # answer anyone, so route them as if a token had come with them.
            request = dataclasses.replace(request, authorized=True)
        return super().handle(request)

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        """The `rate-limit` fault: a 429 whose headers agree with Retry-After."""
        response = super().rate_limited(request, retry_after)
        response.headers.update(
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(retry_after)}
        )
        return response

    def decorate(self, request: Request, response: Response) -> None:
        with self.lock:
            headers = self.rate_limit.headers(self.clock.now())
        for name, value in headers.items():
            response.headers.setdefault(name, value)

    def health(self) -> dict[str, Any]:
        with self.lock:
            services = sum(len(project.services) for project in self.projects.values())
            return {
                "projects": len(self.projects),
                "services": services,
                "rateLimit": self.rate_limit.as_json(self.clock.now()),
            }

    # -- lookups shared by the route mixins ----------------------------------

    def project(self, request: Request) -> Project:
        project_id = request.params["projectId"]
        found = self.projects.get(project_id)
        if found is None:
            raise HttpError(404, f"Project {project_id!r} not found.")
        return found

    # -- catalogs ------------------------------------------------------------

    def list_plans(self, request: Request) -> Response:
        return ok({"plans": [dict(item) for item in catalog.plans()]})

    def list_regions(self, request: Request) -> Response:
        return ok({"regions": [region.as_json() for region in catalog.regions()]})

    # -- projects ------------------------------------------------------------

    def list_projects(self, request: Request) -> Response:
        entries = [project.list_entry() for project in self.projects.values()]
        return Response.json(200, page(request, "projects", entries))

    def create_project(self, request: Request) -> Response:
        body = validated(request, "CreateProjectData")
        project_id = self.project_id(body)
        if project_id in self.projects:
            raise HttpError(
                409, f"There is already a project with the identifier {project_id!r}."
            )
        project = self.new_project(request, project_id, body)
        return ok(project.echo())

    def upsert_project(self, request: Request) -> Response:
        body = validated(request, "CreateProjectData")
        project_id = self.project_id(body)
        project = self.projects.get(project_id)
        if project is None:
            return ok(self.new_project(request, project_id, body).echo())
        region = body.get("region")
        if region is not None and region != project.region.id:
            raise HttpError(
                400,
                f"Project {project_id!r} is in region {project.region.id!r}; a "
                "project's region is fixed at creation.",
            )
        self.update_project(request, project, body)
        return ok(project.echo())

    def get_project(self, request: Request) -> Response:
        return ok(self.project(request).view())

    def patch_project(self, request: Request) -> Response:
        project = self.project(request)
        body = self.patch_body(request)
        self.update_project(request, project, body)
        return ok(project.echo())

    def delete_project(self, request: Request) -> Response:
        project = self.project(request)
        children = bool(project.services or project.volumes)
        if children and not flag(request, "delete_child_objects"):
            raise HttpError(
                409,
                f"Project {project.id!r} still has services or volumes; delete them "
                "first or pass delete_child_objects=true.",
            )
        del self.projects[project.id]
        return ok()

    def project_id(self, body: dict[str, Any]) -> str:
        project_id = slug(body["name"])
        if not project_id:
            raise HttpError(400, "The project name must contain letters or digits.")
        return project_id

    def new_project(self, request: Request, project_id: str, body: dict) -> Project:
        if body.get("clusterId") is not None:
            raise HttpError(
                404,
                f"Cluster {body['clusterId']!r} not found: the emulator has no "
                "own (BYOC) clusters, use a managed region.",
            )
        region_id = body.get("region") or self.default_region
        region = catalog.region(region_id)
        if region is None:
            known = ", ".join(item.id for item in catalog.regions())
            raise HttpError(400, f"Unknown region {region_id!r}; known: {known}.")
        project = Project(
            id=project_id,
            name=body["name"],
            region=region,
            created=request.now,
            updated=request.now,
            namespace=f"ns-{self.ids.token(12)}",
        )
        self.update_project(request, project, body)
        self.projects[project_id] = project
        return project

    def update_project(self, request: Request, project: Project, body: dict) -> None:
        for key in PROJECT_PATCH_FIELDS & set(body):
            setattr(project, key, body[key])
        project.updated = request.now

    def patch_body(self, request: Request) -> dict[str, Any]:
        """PATCH takes only color, description and networking."""
        body = json_body(request)
        fixed = sorted(set(body) & {"name", "region", "clusterId"})
        if fixed:
            raise HttpError(
                400, f"{', '.join(fixed)} cannot be changed after a project is created."
            )
        types = {"color": str, "description": str, "networking": dict}
        for key, kind in types.items():
            if key in body and not isinstance(body[key], kind):
                raise HttpError(400, f"{key} must be a {kind.__name__}.")
        return {
            key: value for key, value in body.items() if key in PROJECT_PATCH_FIELDS
        }
