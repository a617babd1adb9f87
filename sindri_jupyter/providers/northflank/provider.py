"""Northflank, through API v1 with our own httpx calls (see docs/northflank.md).

A deployment here is a deployment service in a project. The library keeps
``<project id>/<service id>`` as its id; the names are for display and lookup.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from ..._config import Endpoint
from ..._errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    RequestRejectedError,
    TransportError,
)
from ..._http import ApiClient
from ..._models import Connection, Deployment, DeploySpec, GpuOffer, State
from ..._ratelimit import Budget, Pacer, account_of
from ..._redact import excerpt, register_secret
from .. import _gpus
from .._base import Candidate, Capability, Launch, Provider
from . import listing, mapping
from .catalog import Catalog

logger = logging.getLogger("sindri_jupyter")

DEFAULT_PORTS = ("8888/http",)
PER_PAGE = 100
#: catalogs read once per process and endpoint
_catalogs: dict[str, Catalog] = {}


def map_error(response: httpx.Response) -> ProviderError:
    """A typed error for Northflank's ``{"error": {...}}`` envelope, masked."""
    status = response.status_code
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict) or not error.get("message"):
        return TransportError(
            f"Northflank answered {status} with no error envelope "
            f"({excerpt(response.text, 80)!r}); the outcome is unknown.",
            provider="northflank",
            status=status,
        )
    details = [excerpt(str(d), 120) for d in (error.get("details") or [])[:3]]
    said = excerpt(str(error["message"]), 200)
    said += f" ({'; '.join(details)})" if details else ""
    said += f" [error id {error['id']}]" if error.get("id") else ""
    kwargs = {"provider": "northflank", "status": status, "detail": said}
    if status >= 500:
        return TransportError(f"Northflank failed ({status}): {said}", **kwargs)
    if status == 401:
        return AuthenticationError(
            "Northflank refused the API token (401): set NORTHFLANK_API_TOKEN to a "
            "valid token.",
            **kwargs,
        )
    if status == 403:
        return AuthenticationError(
            f"The Northflank token's role lacks a permission for this (403): {said}",
            **kwargs,
        )
    if status == 404:
        return NotFoundError(f"Northflank does not know this: {said}", **kwargs)
    if status == 409:
        return ConflictError(
            f"Northflank refused in the current state: {said}", **kwargs
        )
    if status == 429:
        return RateLimitedError(
            f"Northflank is rate limiting requests: {said}",
            provider="northflank",
            retry_after=None,
        )
    return RequestRejectedError(f"Northflank refused the request: {said}", **kwargs)


@dataclass
class Placement:
    """Where a deploy goes, decided before anything is created."""

    project_id: str
    project_name: str
    region: str | None
    new_project: bool
    plan_id: str
    notes: list[str] = field(default_factory=list)


class Northflank(Provider):
    name: ClassVar[str] = "northflank"
    needs_gpu: ClassVar[bool] = False
    reuses_ids: ClassVar[bool] = True
    unsupported: ClassVar[tuple[Capability, ...]] = (
        Capability("use spot", "API v1 offers no spot GPUs on the managed cloud."),
        Capability(
            "use SSH",
            "services have no SSH server; `%sindri connect` gives the "
            "`northflank exec` command for a shell.",
        ),
        Capability(
            "set a server-side timer",
            "Northflank services have no stop timer; pause it with `%sindri stop`.",
        ),
    )

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        private_key_path: str | None = None,
        sleep: Any = None,
        timeout: float = 30.0,
    ):
        self.endpoint = endpoint
        self._sleep = sleep or asyncio.sleep
        self.api = ApiClient(
            endpoint, map_error, transport=transport, sleep=sleep, timeout=timeout
        )
        self.budget: Budget | None = None
        self.store: Any = None
        #: reads kept between rounds; shared once a store is known (listing.py)
        self.reads = listing.Reads()

    def use_store(self, store: Any) -> None:
        self.store = store
        account = account_of(self.endpoint.api_key)
        self.reads = listing.shared(store, self.endpoint.base_url, account)
        self.budget = Budget(
            store,
            self.name,
            account_of(self.endpoint.api_key),
            server_now=lambda: self.api.last_server_time,
            sleep=self._sleep,
        )
        self.api.budget = self.budget

    def pacer(self) -> Pacer:
        return Pacer.for_endpoint(self.budget, sandbox=self.endpoint.sandbox)

    async def aclose(self) -> None:
        await self.api.aclose()

    def server_time(self) -> datetime | None:
        return self.api.last_server_time

    async def _data(self, method: str, path: str, **options: Any) -> Any:
        options.setdefault("safe_to_repeat", method in ("GET", "DELETE"))
        reply = await self.api.call(method, path, **options)
        if not isinstance(reply.data, dict) or "data" not in reply.data:
            raise TransportError(
                f"Northflank answered {method} {path} without data; the outcome "
                "is unknown.",
                provider=self.name,
                status=reply.status,
            )
        return reply.data["data"]

    async def _pages(self, path: str, key: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"per_page": PER_PAGE}
        while True:
            reply = await self.api.call("GET", path, params=params, safe_to_repeat=True)
            self.reads.now = listing.seconds(self.api.last_server_time)
            body = reply.data if isinstance(reply.data, dict) else {}
            found += [i for i in (body.get("data") or {}).get(key, []) if i]
            pagination = body.get("pagination") or {}
            if not pagination.get("hasNextPage") or not pagination.get("cursor"):
                return found
            params = {"per_page": PER_PAGE, "cursor": pagination["cursor"]}

    # -- catalog -----------------------------------------------------------------
    async def catalog(self) -> Catalog:
        cached = _catalogs.get(self.endpoint.base_url)
        if cached is None:
            plans = await self._data("GET", "/v1/plans")
            regions = await self._data("GET", "/v1/regions")
            cached = _catalogs[self.endpoint.base_url] = Catalog.from_api(
                plans, regions
            )
        return cached

    async def gpu_offers(self, *, cloud: str = "SECURE") -> list[GpuOffer]:
        return (await self.catalog()).gpu_offers(self.name)

    def resolve_gpu(
        self, text: str, offers: list[GpuOffer], cloud: str | None = None
    ) -> GpuOffer:
        aliases = _gpus.alias_table("northflank_gpu_aliases.json")
        return _gpus.resolve(text, offers, aliases=aliases, cloud=cloud)

    # -- placement and requests -----------------------------------------------------
    async def prepare(
        self, spec: DeploySpec, launch: Launch, gpus: list[GpuOffer]
    ) -> list[Candidate]:
        """Decide project, region and plan; every refusal comes before a create."""
        if len(gpus) > 1:
            raise InputError(
                "--gpu takes one GPU type on northflank (its regions differ).",
                option="--gpu",
                value=spec.gpu,
            )
        catalog = await self.catalog()
        gpu = gpus[0] if gpus else None
        project_name = spec.project or "sindri"
        project_id = mapping.slug(project_name)
        existing = await self._project(project_id)
        region, notes = self._region(spec, catalog, gpu, project_name, existing)
        if gpu is not None:
            options = catalog.device(region or "", gpu.id).count_options  # type: ignore[union-attr]
            if spec.gpu_count not in options:
                allowed = ", ".join(str(c) for c in options)
                raise InputError(
                    f"--count {spec.gpu_count} is not offered for {gpu.id} in "
                    f"{region}: choose one of {allowed}.",
                    option="--count",
                    value=spec.gpu_count,
                )
        plan = catalog.choose_plan(
            named=spec.plan, cpu=spec.cpu, memory_mb=spec.memory_mb, gpu=bool(gpu)
        )
        launch.extra["northflank"] = Placement(
            project_id, project_name, region, existing is None, plan.id, notes
        )
        return self.candidates(spec, launch, gpus)

    def _region(
        self,
        spec: DeploySpec,
        catalog: Catalog,
        gpu: GpuOffer | None,
        project: str,
        existing: dict[str, Any] | None,
    ) -> tuple[str | None, list[str]]:
        if spec.region:
            catalog.check_region(spec.region, "--region")
        offering = catalog.offering(gpu.id) if gpu else list(catalog.regions)
        where = ", ".join(offering)
        if existing is not None:
            region = (existing.get("deployment") or {}).get("region")
            if spec.region and spec.region != region:
                raise InputError(
                    f"--region {spec.region} does not match project {project!r}, "
                    f"which is in {region}; a project's region is fixed, so choose "
                    "another --project.",
                    option="--region",
                    value=spec.region,
                )
            if gpu and region not in offering:
                raise InputError(
                    f"--gpu {gpu.id} is not offered in {region}, the region of "
                    f"project {project!r}; regions that offer it: {where}. Use a new "
                    "--project with --region set to one of them.",
                    option="--gpu",
                    value=gpu.id,
                )
            return region, [f"Using project {project!r} in {region}."]
        default = spec.default_region
        if spec.region:
            region, why = spec.region, "--region"
        elif default and (gpu is None or default in offering):
            region, why = default, "the configured default"
        elif gpu:
            region, why = offering[0], f"the first region that offers {gpu.id}"
        else:
            region, why = None, "the API's default region"
        if gpu and region not in offering:
            raise InputError(
                f"--region {region} does not offer {gpu.id}; regions that do: {where}.",
                option="--region",
                value=region,
            )
        said = f"in {region} ({why})" if region else f"in {why}"
        return region, [f"Creating project {project!r} {said}."]

    def candidates(
        self, spec: DeploySpec, launch: Launch, gpus: list[GpuOffer]
    ) -> list[Candidate]:
        placement: Placement = launch.extra["northflank"]
        catalog = _catalogs[self.endpoint.base_url]
        gpu = gpus[0] if gpus else None
        service_id = mapping.slug(spec.name)
        volume = f"{service_id[:34]}-data" if spec.volume_gb else None
        body = self.create_body(spec, launch, gpu, placement.plan_id, volume)
        price = catalog.hourly(
            plan_id=placement.plan_id,
            region_id=placement.region,
            gpu_type=gpu.id if gpu else None,
            gpu_count=spec.gpu_count,
            instances=1,
        )
        plan = catalog.plans[placement.plan_id]
        cost = f"plan {plan.id} ${plan.dollars_per_hour}/h"
        if gpu:
            each = catalog.gpu_dollars(placement.region, gpu.id)
            cost += f" + {spec.gpu_count} × {gpu.id} ${each:.2f}/h"
        notes = [
            *placement.notes,
            f"Estimate: 1 instance × ({cost}) = ${price:.2f}/h; volumes and egress "
            "are extra.",
        ]
        extra = {"placement": placement, "launch_id": launch.launch_id}
        if volume:
            extra["volume"] = {
                "name": volume,
                "mounts": [{"containerMountPath": spec.volume_path}],
                "spec": {
                    "accessMode": "ReadWriteOnce",
                    "storageSize": spec.volume_gb * 1024,  # type: ignore[operator]
                },
                "attachedObjects": [{"id": service_id, "type": "service"}],
            }
        label = gpu.id if gpu else placement.plan_id
        return [Candidate(label, body, price, notes=notes, extra=extra)]

    def create_body(
        self,
        spec: DeploySpec,
        launch: Launch,
        gpu: GpuOffer | None,
        plan_id: str,
        volume: str | None,
    ) -> dict[str, Any]:
        environment = dict(spec.env)
        environment[mapping.LAUNCH_ENV] = launch.launch_id
        environment[mapping.NAME_ENV] = launch.name
        if launch.jupyter_password:
            environment.setdefault(mapping.TOKEN_ENV, launch.jupyter_password)
        deployment: dict[str, Any] = {
            "instances": 1,
            "external": {"imagePath": spec.image},
            "docker": {"configType": "default"},
        }
        if spec.disk_gb:
            deployment["storage"] = {
                "ephemeralStorage": {"storageSize": spec.disk_gb * 1024}
            }
        if gpu:
            deployment["gpu"] = {
                "enabled": True,
                "configuration": {"gpuType": gpu.id, "gpuCount": spec.gpu_count},
            }
        ports = []
        for entry in spec.ports if spec.ports is not None else DEFAULT_PORTS:
            number, _, kind = entry.partition("/")
            http = kind == "http"
            ports.append(
                {
                    "name": f"{'p' if http else 't'}{number}",
                    "internalPort": int(number),
                    "protocol": "HTTP" if http else "TCP",
                    "public": http,
                }
            )
        return {
            "name": spec.name,
            "description": mapping.description(launch.launch_id, volume),
            "billing": {"deploymentPlan": plan_id},
            "deployment": deployment,
            "ports": ports,
            "runtimeEnvironment": environment,
        }

    async def create(self, candidate: Candidate) -> dict[str, Any]:
        placement: Placement = candidate.extra["placement"]
        project = placement.project_id
        if placement.new_project:
            await self._ensure_project(placement)
        self.reads.launches[candidate.extra["launch_id"]] = project
        self.reads.projects.add(project)
        path = f"/v1/projects/{_q(project)}/services/deployment"
        try:
            service = await self._data(
                "POST", path, json=candidate.body, safe_to_repeat=False
            )
        except ConflictError:
            service = await self._adopt_or_refuse(project, candidate)
        volume = candidate.extra.get("volume")
        if volume:
            await self._add_volume(project, volume)
        return mapping.as_remote(project, service)

    async def _project(self, project_id: str) -> dict[str, Any] | None:
        try:
            return await self._data("GET", f"/v1/projects/{_q(project_id)}")
        except NotFoundError:
            return None

    async def _ensure_project(self, placement: Placement) -> None:
        body: dict[str, Any] = {
            "name": placement.project_name,
            "description": "Made by sindri-jupyter.",
        }
        if placement.region:
            body["region"] = placement.region
        try:
            # Repeating it is harmless: a second create of the name gets 409.
            await self._data("POST", "/v1/projects", json=body, safe_to_repeat=True)
        except ConflictError:
            logger.info("project %s exists already; using it", placement.project_id)

    async def _adopt_or_refuse(
        self, project: str, candidate: Candidate
    ) -> dict[str, Any]:
        """After a 409: the service is ours (an earlier try of this create) or not."""
        service_id = mapping.slug(candidate.body["name"])
        base = f"/v1/projects/{_q(project)}/services/{_q(service_id)}"
        environment = await self._data("GET", f"{base}/runtime-environment")
        launch = (environment.get("runtimeEnvironment") or {}).get(mapping.LAUNCH_ENV)
        if launch != candidate.extra["launch_id"]:
            raise ConflictError(
                f"--name {candidate.body['name']!r} is taken in Northflank project "
                f"{project!r} by a service this deploy did not create (id "
                f"{project}/{service_id}): choose another --name or --project.",
                provider=self.name,
                status=409,
                detail="name taken",
            )
        return await self._data("GET", base)

    async def _add_volume(self, project: str, volume: dict[str, Any]) -> None:
        try:
            await self._data("POST", f"/v1/projects/{_q(project)}/volumes", json=volume)
        except ConflictError:
            logger.info("volume %s exists already", volume["name"])

    async def find_by_launch(self, launch_id: str) -> list[dict[str, Any]]:
        """Fresh reads of what a launch made: after an unclear create, nothing kept."""
        project = self.reads.launches.get(launch_id)
        projects = [project] if project else await self._all_projects()
        found = []
        for project in projects:
            for item in await self._services(project):
                if mapping.marked(item)[0] == launch_id:
                    remote = await self.get(f"{project}/{item['id']}")
                    if remote is not None:
                        found.append(remote)
        return found

    async def list_tagged(self) -> list[dict[str, Any]]:
        """Our services: one list per project, a service read only where needed.

        What a round reads, and when: docs/northflank.md and ``listing.py``.
        """
        reads = self.reads
        projects = set(reads.projects)
        unplaced = False
        for record in self.store.records(self.name) if self.store else []:
            if record.remote_id and mapping.is_id(record.remote_id):
                projects.add(mapping.split_id(record.remote_id)[0])
            elif record.state == "launching" and record.launch_id in reads.launches:
                projects.add(reads.launches[record.launch_id])
            elif record.state == "launching":
                # Launched by another process, into a project not known here.
                unplaced = True
        found = await self._tagged(sorted(projects))
        # Known projects first: their answers tell whether a scan is due.
        if reads.scan_due(unplaced):
            others = [p for p in await self._all_projects() if p not in projects]
            found += await self._tagged(others)
            reads.scanned()
            reads.projects = {remote["projectId"] for remote in found}
        return found

    async def _tagged(self, projects: list[str]) -> list[dict[str, Any]]:
        found = []
        for project in projects:
            for item in await self._services(project):
                if mapping.marked(item)[0]:
                    remote = await self._listed(project, item)
                    if remote is not None:
                        found.append(remote)
        return found

    async def _all_projects(self) -> list[str]:
        return [item["id"] for item in await self._pages("/v1/projects", "projects")]

    async def _services(self, project: str) -> list[dict[str, Any]]:
        try:
            return await self._pages(f"/v1/projects/{_q(project)}/services", "services")
        except NotFoundError:
            self.reads.projects.discard(project)  # deleted elsewhere
            return []

    async def _listed(
        self, project: str, item: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The service as listed, over its kept read, or a fresh read if it moved."""
        remote_id = f"{project}/{item['id']}"
        kept = self.reads.kept(remote_id, item)
        if kept is None:
            return await self.get(remote_id)
        remote = mapping.as_remote(project, kept)
        if remote_id in self.reads.environments:
            remote["runtimeEnvironment"] = self.reads.environments[remote_id]
        return remote

    async def get(self, remote_id: str) -> dict[str, Any] | None:
        """A fresh read of one service, kept for the rounds that follow."""
        if not mapping.is_id(remote_id):
            return None  # not project/service: no such service can exist
        project, service = mapping.split_id(remote_id)
        await self.catalog()
        base = f"/v1/projects/{_q(project)}/services/{_q(service)}"
        try:
            answer = await self._data("GET", base)
        except NotFoundError:
            self.reads.forget(remote_id, environment=True)
            return None
        self.reads.now = listing.seconds(self.api.last_server_time)
        self.reads.keep(remote_id, answer, self.reads.now)
        remote = mapping.as_remote(project, answer)
        state, _ = mapping.state_of(remote)
        environments = self.reads.environments
        if state is State.READY and remote_id not in environments:
            # Read once per service: the Jupyter token, for the link.
            found = await self._data("GET", f"{base}/runtime-environment")
            environments[remote_id] = found.get("runtimeEnvironment") or {}
        if remote_id in environments:
            remote["runtimeEnvironment"] = environments[remote_id]
        return remote

    async def _action(self, remote_id: str, action: str, body: Any) -> dict | None:
        project, service = mapping.split_id(remote_id)
        path = f"/v1/projects/{_q(project)}/services/{_q(service)}/{action}"
        self.reads.forget(remote_id)
        try:
            await self._data("POST", path, json=body, safe_to_repeat=True)
        except ConflictError as refusal:
            # Already paused, or (a resume) already running: nothing to do.
            logger.info("%s of %s: %s", action, remote_id, refusal.detail)
        return await self.get(remote_id)

    async def stop(self, remote_id: str) -> dict[str, Any] | None:
        return await self._action(remote_id, "pause", None)

    async def start(self, remote_id: str) -> dict[str, Any] | None:
        return await self._action(remote_id, "resume", {})

    async def destroy(self, remote_id: str, *, delete_volumes: bool = False) -> bool:
        project, service = mapping.split_id(remote_id)
        params = {"delete_child_objects": "true"} if delete_volumes else None
        self.reads.forget(remote_id, environment=True)
        try:
            await self._data(
                "DELETE",
                f"/v1/projects/{_q(project)}/services/{_q(service)}",
                params=params,
            )
        except NotFoundError:
            return False
        return True

    # -- mapping -----------------------------------------------------------------
    def to_deployment(
        self, remote: dict[str, Any], *, now: datetime | None
    ) -> Deployment:
        state, detail = mapping.state_of(remote)
        catalog = _catalogs.get(self.endpoint.base_url) or Catalog({}, {})
        cost = mapping.hourly_cost(remote, catalog, state)
        since = mapping.running_since(remote, state)
        uptime = max(0.0, (now - since).total_seconds()) if now and since else None
        gpu, count = mapping.gpu_of(remote)
        launch_id, volume = mapping.marked(remote)
        environment = remote.get("runtimeEnvironment") or {}
        token = environment.get(mapping.TOKEN_ENV)
        register_secret(token)
        rollout = (remote.get("status") or {}).get("deployment") or {}
        return Deployment(
            provider=self.name,
            id=remote["id"],
            name=remote.get("name") or remote["serviceId"],
            launch_id=launch_id,
            state=state,
            provider_status=rollout.get("status"),
            detail=detail,
            gpu=gpu,
            gpu_count=count,
            image=((remote.get("deployment") or {}).get("external") or {}).get(
                "imagePath"
            ),
            cost_per_hour=cost,
            spent=round(cost * uptime / 3600, 4) if uptime is not None else None,
            uptime_seconds=uptime,
            created_at=remote.get("createdAt"),
            started_at=since,
            as_of=now,
            ports=[
                f"{p.get('internalPort')}/{str(p.get('protocol', '')).lower()}"
                for p in remote.get("ports") or []
            ],
            storage=f"volume {volume}" if volume else None,
            connection=self.connection(remote),
        )

    def connection(self, remote: dict[str, Any]) -> Connection:
        return mapping.connection(remote, mapping.state_of(remote)[0])

    def data_loss_warning(
        self, action: str, remote: dict[str, Any], *, delete_volumes: bool = False
    ) -> str | None:
        return mapping.data_loss_warning(action, remote, delete_volumes=delete_volumes)

    def destroyed(
        self, remote: dict[str, Any], *, delete_volumes: bool = False
    ) -> str | None:
        _, volume = mapping.marked(remote)
        if not volume:
            return None
        if delete_volumes:
            return f"Deleted its volume {volume}."
        return (
            f"Kept its volume {volume}: it still bills; delete it in Northflank, "
            "or destroy with --delete-volumes next time."
        )

    @classmethod
    def check_name(cls, value: str) -> str:
        return mapping.check_name(value)


def _q(part: str) -> str:
    return quote(part, safe="")
