"""The RunPod REST v2 emulator: routes, error bodies, validation and read-only APIs.

Pod handlers live in `pod_routes.py` and the `/_emulator/` extras in
`control.py`; this module wires them together with the catalog, account and
billing endpoints.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from .._base import DEFAULT_API_KEY, ProviderApp
from .._clock import VirtualClock, parse_instant
from .._http import HttpError, NotJson, Problem, Request, Response, Route
from .._validation import ContractSchemas, load_bundled
from . import availability, billing
from .catalog import Catalog
from .container import Containers
from .control import ControlRoutes
from .pod_routes import PodRoutes
from .pods import Pod
from .ratelimit import RateLimiter

SPEC_FILE = "runpod-rest-v2.openapi.json"
PROBLEM = "application/problem+json"
SCHEMAS = "#/components/schemas/"
AVAILABILITY_ONLY = ("count", "cloud", "countryCodes", "cudaVersions", "minCudaVersion")


class RunPodApp(PodRoutes, ControlRoutes, ProviderApp):
    """RunPod REST v2 as `https://api.runpod.io` serves it, on the virtual clock."""

    provider = "runpod"
    faults: ClassVar[dict[str, str]] = {
        "stuck-runtime": "RUNNING pods report runtime null and ssh.direct null",
        "capacity": "pod create (and start) is refused for lack of capacity",
    }

    def __init__(
        self,
        *,
        clock: VirtualClock,
        seed: int | None = None,
        api_keys: Iterable[str] = (DEFAULT_API_KEY,),
        provisioning_seconds: float = 1.0,
        starting_seconds: float = 1.5,
        log_follow_seconds: float = 2.0,
        enforce_rate_limits: bool = False,
        run_containers: bool = True,
    ) -> None:
        self.schemas = ContractSchemas(load_bundled(SPEC_FILE), uri="urn:runpod-v2")
        self.provisioning_seconds = provisioning_seconds
        self.starting_seconds = starting_seconds
        self.log_follow_seconds = log_follow_seconds
        self.enforce_rate_limits = enforce_rate_limits
        self.run_containers = run_containers
        self.containers: Containers | None = None
        super().__init__(clock=clock, seed=seed, api_keys=api_keys)

    def reset(self, seed: int | None) -> None:
        super().reset(seed)
        self.catalog = Catalog(self.ids)
        self.pods: dict[str, Pod] = {}
        self.billed: dict[str, Pod] = {}  # every pod ever created, for billing
        self.ssh_keys: list[str] = []
        self.limiter = RateLimiter()
        if self.containers is not None:
            self.containers.close()
        self.containers = Containers(self.clock) if self.run_containers else None

    def health(self) -> dict[str, Any]:
        return {"pods": len(self.pods)}

    def build_pod(self, *args: Any, **kwargs: Any) -> Pod:
        """A new pod whose boots run its container's command (see `container`)."""
        pod = super().build_pod(*args, **kwargs)
        pod.container = self.containers
        return pod

    def authenticate(self, request: Request) -> bool:
        """The account's keys, or a pod's own key for that pod's paths only."""
        if super().authenticate(request):
            return True
        if self.containers is None:
            return False
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        pod_id = self.containers.pod_of_key(token.strip())
        if scheme.lower() != "bearer" or pod_id is None:
            return False
        own = f"/v2/pods/{pod_id}"
        return request.path == own or request.path.startswith(own + "/")

    def origin(self, request: Request) -> str:
        """A pod's own key marks a call from inside that pod (its watchdog)."""
        if self.containers is None:
            return "client"
        inside = self.containers.pod_of_key(self.token(request))
        return "pod" if inside is not None else "client"

    def routes(self) -> list[Route]:
        return [
            *self.pod_routes(),
            Route("GET", "/v2/catalog/gpus", self.list_gpu_types),
            Route("GET", "/v2/catalog/gpus/{id}", self.get_gpu_type),
            Route("GET", "/v2/catalog/datacenters", self.list_data_centers),
            Route("GET", "/v2/catalog/datacenters/{id}", self.get_data_center),
            Route("GET", "/v2/account/ssh-keys", self.get_ssh_keys),
            Route("PUT", "/v2/account/ssh-keys", self.put_ssh_keys),
            Route("GET", "/v2/billing/pods", self.pod_billing),
        ]

    # -- provider conventions --------------------------------------------------

    def problem_response(self, problem: Problem) -> Response:
        body: dict[str, Any] = {
            "title": problem.title,
            "status": problem.status,
            "detail": problem.detail,
        }
        if problem.errors:
            body["errors"] = problem.errors
        response = Response.json(problem.status, body, PROBLEM)
        response.problem = problem
        return response

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        detail = "rate limit exceeded for the minute window"
        response = self.problem_response(Problem(429, "Too Many Requests", detail))
        response.headers["Retry-After"] = str(retry_after)
        return response

    @staticmethod
    def token(request: Request) -> str:
        return (request.header("authorization") or "").partition(" ")[2].strip()

    def handle(self, request: Request) -> Response:
        host = request.header("host")
        if self.containers is not None and host and not self.containers.base_url:
            self.containers.base_url = f"http://{host}"
        if request.authorized and self.enforce_rate_limits:
            with self.lock:
                exhausted = self.limiter.exhausted(self.token(request), request.now)
            if exhausted:
                window, reset = exhausted
                detail = f"rate limit exceeded for the {window} window"
                problem = Problem(429, "Too Many Requests", detail)
                response = self.problem_response(problem)
                response.headers["Retry-After"] = str(reset)
                return response
        return super().handle(request)

    def decorate(self, request: Request, response: Response) -> None:
        if not request.authorized:
            return  # the limits are per user, and an unknown caller is no user
        with self.lock:
            headers = self.limiter.hit(self.token(request), request.now)
        response.headers.update(headers)

    # -- validation ------------------------------------------------------------

    def body(self, request: Request, schema: str) -> dict[str, Any]:
        """The JSON body, valid against `schema`, or a 400/422 problem."""
        try:
            body = request.json()
        except NotJson as error:
            raise HttpError(400, f"The request body must be JSON: {error}") from error
        errors = self.schemas.errors(SCHEMAS + schema, body)
        if errors:
            raise HttpError(422, "Request validation failed.", errors=errors)
        return body

    def query(self, request: Request, template: str) -> dict[str, Any]:
        values, errors = self.schemas.query_values(
            request.method, template, request.query
        )
        if errors:
            raise HttpError(422, "Request validation failed.", errors=errors)
        return values

    # -- catalog ---------------------------------------------------------------

    def stock_query(self, values: dict[str, Any]) -> availability.StockQuery | None:
        """Apply the include/product pairing rules; None when not asked."""
        if "include" not in values:
            if "product" in values:
                raise HttpError(400, "product is valid only with include=AVAILABILITY")
            stray = [name for name in AVAILABILITY_ONLY if name in values]
            if stray:
                raise HttpError(400, f"{stray[0]} is valid only with include")
            return None
        if "product" not in values:
            raise HttpError(400, "include=AVAILABILITY requires product")
        if "cudaVersions" in values and "minCudaVersion" in values:
            raise HttpError(400, "cudaVersions and minCudaVersion are exclusive")
        countries = values.get("countryCodes")
        exact = values.get("cudaVersions")
        return availability.StockQuery(
            products=tuple(values["product"]),
            count=values.get("count", 1),
            cloud=values.get("cloud", "SECURE"),
            countries=tuple(countries) if countries is not None else None,
            cuda_exact=tuple(exact) if exact is not None else None,
            cuda_minimum=values.get("minCudaVersion"),
        )

    def list_gpu_types(self, request: Request) -> Response:
        query = self.stock_query(self.query(request, "/v2/catalog/gpus"))
        gpus = []
        for model in self.catalog.gpus.values():
            if query is None:
                gpus.append(model.as_json())
                continue
            body = availability.gpu_with_availability(
                self.catalog, model, query, listing=True
            )
            if body is not None:
                gpus.append(body)
        return Response.json(200, {"gpus": gpus})

    def get_gpu_type(self, request: Request) -> Response:
        query = self.stock_query(self.query(request, "/v2/catalog/gpus/{id}"))
        model = self.catalog.gpu(request.params["id"])
        if model is None:
            raise HttpError(404, f"GPU type {request.params['id']!r} not found")
        if query is None:
            return Response.json(200, model.as_json())
        body = availability.gpu_with_availability(
            self.catalog, model, query, listing=False
        )
        return Response.json(200, body)

    def list_data_centers(self, request: Request) -> Response:
        values = self.query(request, "/v2/catalog/datacenters")
        centers = availability.data_center_list(
            self.catalog,
            include=tuple(values.get("include", ())),
            regions=values.get("regions"),
            volume_types=values.get("networkVolumeTypes"),
            compliance=values.get("compliance"),
            global_network=values.get("globalNetwork"),
        )
        return Response.json(200, {"dataCenters": centers})

    def get_data_center(self, request: Request) -> Response:
        values = self.query(request, "/v2/catalog/datacenters/{id}")
        center = request.params["id"]
        if center not in self.catalog.data_centers:
            raise HttpError(404, f"data center {center!r} not found")
        include = tuple(values.get("include", ()))
        body = availability.data_center_json(self.catalog, center, include)
        return Response.json(200, body)

    # -- account and billing ---------------------------------------------------

    def get_ssh_keys(self, request: Request) -> Response:
        return Response.json(200, {"keys": list(self.ssh_keys)})

    def put_ssh_keys(self, request: Request) -> Response:
        self.ssh_keys = list(self.body(request, "UpdateSshKeysRequest")["keys"])
        return Response.json(200, {"keys": list(self.ssh_keys)})

    def pod_billing(self, request: Request) -> Response:
        values = self.query(request, "/v2/billing/pods")
        last = values.get("lastN")
        if last is not None and ("startTime" in values or "endTime" in values):
            raise HttpError(400, "lastN is mutually exclusive with startTime/endTime")
        start = parse_instant(values["startTime"]) if "startTime" in values else None
        end = parse_instant(values["endTime"]) if "endTime" in values else None
        if start and end and start >= end:
            raise HttpError(400, "startTime must be before endTime")
        report = billing.report(
            self.billed.values(),
            request.now,
            bucket=values.get("bucketSize", "day"),
            start=start,
            end=end,
            last=last,
            pod_id=values.get("podId"),
        )
        return Response.json(200, report)
