"""Northflank, through API v1 with our own httpx calls (see docs/northflank.md).

A deployment here is a deployment service in a project. The library keeps
``<project id>/<service id>`` as its id; the names are for display and lookup.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from ..._config import Endpoint
from ..._errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    RequestRejectedError,
    TransportError,
)
from ..._models import Connection, Deployment, DeploySpec, GpuOffer, State
from ..._ratelimit import Budget, Pacer, account_of
from ..._redact import excerpt, register_secret
from .. import _gpus
from .._base import Candidate, Capability, Launch, Provider
from . import listing, mapping, placement
from .catalog import Catalog
from .placement import Placement

logger = logging.getLogger("sindri_jupyter")

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

    error_mapper = staticmethod(map_error)

    def __init__(self, endpoint: Endpoint, **options: Any):
        super().__init__(endpoint, **options)
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
        gpu = placement.single_gpu(spec, gpus)
        catalog = await self.catalog()
        project_id = mapping.slug(placement.project_name(spec))
        existing = await self._project(project_id)
        launch.extra["northflank"] = placement.place(spec, catalog, gpu, existing)
        return self.candidates(spec, launch, gpus)

    def candidates(
        self, spec: DeploySpec, launch: Launch, gpus: list[GpuOffer]
    ) -> list[Candidate]:
        where: Placement = launch.extra["northflank"]
        catalog = _catalogs[self.endpoint.base_url]
        gpu = gpus[0] if gpus else None
        return [placement.candidate(spec, launch, gpu, where, catalog)]

    async def create(self, candidate: Candidate) -> dict[str, Any]:
        where: Placement = candidate.extra["placement"]
        project = where.project_id
        if where.new_project:
            await self._ensure_project(where)
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

    async def _ensure_project(self, where: Placement) -> None:
        body: dict[str, Any] = {
            "name": where.project_name,
            "description": "Made by sindri-jupyter.",
        }
        if where.region:
            body["region"] = where.region
        try:
            # Repeating it is harmless: a second create of the name gets 409.
            await self._data("POST", "/v1/projects", json=body, safe_to_repeat=True)
        except ConflictError:
            logger.info("project %s exists already; using it", where.project_id)

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

    async def list_tagged(self, *, everywhere: bool = False) -> list[dict[str, Any]]:
        """Our services: one list per project, a service read only where needed.

        What a round reads, and when: docs/northflank.md and ``listing.py``;
        ``everywhere`` scans every project now, whenever the last scan was.
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
        if everywhere or reads.scan_due(unplaced):
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
