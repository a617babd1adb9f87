"""RunPod, through its REST v2 API only (contract: runpod-rest-v2.openapi.json)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from .._errors import (
    AuthenticationError,
    CapacityError,
    ConflictError,
    NotFoundError,
    PaymentRequiredError,
    ProviderError,
    RequestRejectedError,
    TransportError,
)
from .._models import Connection, Deployment, DeploySpec, GpuOffer, State
from .._redact import excerpt, register_secret
from . import _gpus
from ._base import Candidate, Capability, Launch, LogLine, Provider

logger = logging.getLogger("sindri_jupyter")

LAUNCH_ENV = "SINDRI_LAUNCH_ID"
NAME_ENV = "SINDRI_NAME"
DEFAULT_PORTS = ("8888/http", "22/tcp")
PROXY_HOST = "proxy.runpod.net"
# Published storage rates (reference §13): a stopped pod bills its volume.
STOPPED_VOLUME_PER_GB_MONTH = 0.20
_HTML_TITLE = re.compile(r"(?is)<title>(.*?)</title>")
#: what a pod id can look like; anything else is no pod, with nothing sent
_POD_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_CAPACITY_WORDS = ("no longer any instances", "no instances", "capacity", "not enough")


def _problem(response: httpx.Response) -> tuple[str, list[str]]:
    try:
        body = response.json()
    except ValueError:
        title = _HTML_TITLE.search(response.text)
        return (excerpt(title.group(1)) if title else excerpt(response.text)), []
    if not isinstance(body, dict):
        return excerpt(response.text), []
    detail = str(body.get("detail") or body.get("title") or "")
    errors = [str(e) for e in body.get("errors") or [] if e]
    return excerpt(detail, 200), [excerpt(e, 120) for e in errors[:5]]


def map_error(response: httpx.Response) -> ProviderError:
    """A typed error for a RunPod error answer, with a masked excerpt."""
    status = response.status_code
    is_problem = "json" in response.headers.get("content-type", "")
    detail, errors = _problem(response)
    said = detail + (" (" + "; ".join(errors) + ")" if errors else "")
    kwargs = {"provider": "runpod", "status": status, "detail": said}
    if status >= 500 or not is_problem:
        return TransportError(
            f"RunPod failed to answer properly ({status}: {said or 'no details'}).",
            **kwargs,
        )
    if status in (401, 403):
        return AuthenticationError(
            f"RunPod refused the API key ({status}): set RUNPOD_API_KEY (or run "
            "`%sindri login runpod`) with a valid key that may manage pods.",
            **kwargs,
        )
    if status == 402:
        return PaymentRequiredError(
            "RunPod says the account balance is too low for this: add credit.",
            **kwargs,
        )
    if status == 404:
        return NotFoundError(f"RunPod does not know this: {said}", **kwargs)
    if status == 409:
        return ConflictError(f"RunPod refused in the current state: {said}", **kwargs)
    if status == 400 and any(word in said.lower() for word in _CAPACITY_WORDS):
        return CapacityError(f"RunPod has no capacity: {said}", **kwargs)
    return RequestRejectedError(f"RunPod refused the request: {said}", **kwargs)


class RunPod(Provider):
    name: ClassVar[str] = "runpod"
    unsupported: ClassVar[tuple[Capability, ...]] = (
        Capability("pause", "RunPod has no pause distinct from stop; use stop."),
        Capability("use spot", "spot (interruptible) pods are withdrawn in REST v2."),
        Capability(
            "set a server-side timer",
            "REST v2 has no stop or terminate timer.",
        ),
    )
    error_mapper = staticmethod(map_error)

    # -- catalog -----------------------------------------------------------------
    async def gpu_offers(self, *, cloud: str = "SECURE") -> list[GpuOffer]:
        params = {"include": "AVAILABILITY", "product": "POD", "cloud": cloud}
        reply = await self.api.call(
            "GET", "/v2/catalog/gpus", params=params, safe_to_repeat=True
        )
        items = (reply.data or {}).get("gpus", [])
        offers = []
        for item in items:
            price = item.get("price") or {}
            offers.append(
                GpuOffer(
                    provider=self.name,
                    id=item["id"],
                    name=item.get("name") or item["id"],
                    memory_gb=item.get("memory"),
                    price_secure=price.get("secure") if item.get("secure") else None,
                    price_community=(
                        price.get("community") if item.get("community") else None
                    ),
                    stock=item.get("availability"),
                    max_count=(item.get("maxCount") or {}).get(cloud.lower()),
                )
            )
        return offers

    def resolve_gpu(
        self, text: str, offers: list[GpuOffer], cloud: str | None = None
    ) -> GpuOffer:
        aliases = _gpus.alias_table("runpod_gpu_aliases.json")
        return _gpus.resolve(text, offers, aliases=aliases, cloud=cloud)

    # -- requests ----------------------------------------------------------------
    def candidates(
        self, spec: DeploySpec, launch: Launch, gpus: list[GpuOffer]
    ) -> list[Candidate]:
        cloud = (spec.cloud or "SECURE").upper()
        found: list[Candidate] = []
        for gpu in gpus:
            price = gpu.price(cloud)
            total = price * spec.gpu_count if price is not None else None
            for datacenter in spec.datacenters or (None,):
                body = self.create_body(spec, launch, gpu.id)
                label = gpu.id
                if datacenter:
                    body["dataCenterIds"] = [datacenter]
                    label = f"{gpu.id} in {datacenter}"
                found.append(Candidate(label, body, total))
        return found

    def create_body(self, spec: DeploySpec, launch: Launch, gpu_id: str) -> dict:
        """The documented default set plus the user's fields; never a null."""
        env = dict(spec.env)
        env[LAUNCH_ENV] = launch.launch_id
        env[NAME_ENV] = launch.name
        if launch.jupyter_password:
            env.setdefault("JUPYTER_PASSWORD", launch.jupyter_password)
        if spec.ssh_public_key:
            env.setdefault("PUBLIC_KEY", spec.ssh_public_key)
        body: dict[str, Any] = {
            "name": launch.remote_name,
            "gpu": {"id": gpu_id, "count": spec.gpu_count},
            "cloud": (spec.cloud or "SECURE").upper(),
            "ports": list(spec.ports if spec.ports is not None else DEFAULT_PORTS),
            "env": env,
            "startSsh": True,
        }
        if spec.image:
            body["image"] = spec.image
        if spec.disk_gb:
            body["disk"] = spec.disk_gb
        if spec.volume_gb:
            body["mounts"] = {
                "persistent": {"size": spec.volume_gb, "path": spec.volume_path}
            }
        return body

    async def create(self, candidate: Candidate) -> dict[str, Any]:
        reply = await self.api.call(
            "POST", "/v2/pods", json=candidate.body, safe_to_repeat=False
        )
        if not isinstance(reply.data, dict) or "id" not in reply.data:
            raise TransportError(
                "RunPod answered the create without a pod; its outcome is unknown.",
                provider=self.name,
                status=reply.status,
            )
        return reply.data

    async def _list(self) -> list[dict[str, Any]]:
        reply = await self.api.call("GET", "/v2/pods", safe_to_repeat=True)
        pods = (reply.data or {}).get("pods", [])
        return [pod for pod in pods if isinstance(pod, dict)]

    async def find_by_launch(self, launch_id: str) -> list[dict[str, Any]]:
        return [
            pod
            for pod in await self._list()
            if (pod.get("env") or {}).get(LAUNCH_ENV) == launch_id
        ]

    async def list_tagged(self, *, everywhere: bool = False) -> list[dict[str, Any]]:
        # One list holds every pod of the account: nowhere else to look.
        return [
            pod for pod in await self._list() if (pod.get("env") or {}).get(LAUNCH_ENV)
        ]

    async def get(self, remote_id: str) -> dict[str, Any] | None:
        if not _POD_ID.fullmatch(remote_id):
            return None
        try:
            reply = await self.api.call(
                "GET", f"/v2/pods/{quote(remote_id, safe='')}", safe_to_repeat=True
            )
        except NotFoundError:
            return None
        return reply.data

    async def _action(self, remote_id: str, action: str) -> dict[str, Any] | None:
        reply = await self.api.call(
            "POST",
            f"/v2/pods/{quote(remote_id, safe='')}/action",
            json={"action": action},
            safe_to_repeat=True,
        )
        return reply.data if isinstance(reply.data, dict) else None

    async def stop(self, remote_id: str) -> dict[str, Any] | None:
        return await self._action(remote_id, "stop")

    async def start(self, remote_id: str) -> dict[str, Any] | None:
        return await self._action(remote_id, "start")

    async def destroy(self, remote_id: str, *, delete_volumes: bool = False) -> bool:
        # A pod's own volume always goes with it; network volumes never do.
        try:
            await self.api.call(
                "DELETE",
                f"/v2/pods/{quote(remote_id, safe='')}",
                safe_to_repeat=True,
                expect_json=False,
            )
        except NotFoundError:
            return False
        return True

    # -- mapping -----------------------------------------------------------------
    def state_of(self, pod: dict[str, Any]) -> tuple[State, str | None]:
        status = pod.get("status")
        if status in ("PROVISIONING", "STARTING"):
            return State.PENDING, status.lower()
        if status == "EXITED":
            return State.STOPPED, None
        if status == "ERROR":
            return State.FAILED, "the container failed"
        if status == "TERMINATED":
            return State.GONE, None
        if status != "RUNNING":
            return State.PENDING, f"unknown status {status!r}"
        missing = _unreachable_because(pod)
        if missing:
            return State.RUNNING, f"running, not yet reachable: {missing}"
        return State.READY, None

    def to_deployment(
        self, remote: dict[str, Any], *, now: datetime | None
    ) -> Deployment:
        state, detail = self.state_of(remote)
        env = remote.get("env") or {}
        runtime = remote.get("runtime") or {}
        uptime = (
            runtime.get("uptime") if state in (State.RUNNING, State.READY) else None
        )
        cost = float(remote.get("cost") or 0.0)
        gpu = remote.get("gpu") or {}
        return Deployment(
            provider=self.name,
            id=remote["id"],
            name=env.get(NAME_ENV) or remote.get("name") or remote["id"],
            launch_id=env.get(LAUNCH_ENV),
            state=state,
            provider_status=remote.get("status"),
            detail=detail,
            gpu=gpu.get("id") or (remote.get("cpu") or {}).get("id"),
            gpu_count=int(gpu.get("count") or 0),
            image=remote.get("image"),
            cost_per_hour=cost,
            spent=round(cost * uptime / 3600, 4) if uptime is not None else None,
            uptime_seconds=uptime,
            created_at=remote.get("createdAt"),
            started_at=remote.get("startedAt"),
            as_of=now,
            ports=list(remote.get("ports") or []),
            storage=self._storage(remote, state),
            connection=self.connection(remote),
        )

    def _storage(self, pod: dict[str, Any], state: State) -> str | None:
        persistent = ((pod.get("mounts") or {}).get("persistent")) or None
        if not persistent:
            return None
        size = persistent.get("size") or 0
        text = f"{size} GB volume at {persistent.get('path')}"
        if state is State.STOPPED:
            monthly = size * STOPPED_VOLUME_PER_GB_MONTH
            text += f", bills ${monthly:.2f}/month while stopped"
        return text

    def connection(self, remote: dict[str, Any]) -> Connection:
        if remote.get("status") != "RUNNING":
            return Connection(notes=["No addresses: the pod is not running."])
        pod_id = remote["id"]
        key = f" -i {self.private_key_path}" if self.private_key_path else ""
        ssh = remote.get("ssh") or {}
        runtime = remote.get("runtime") or {}
        public = {
            (p.get("private"), p.get("type")): p
            for p in runtime.get("ports") or []
            if p.get("public")
        }
        connection = Connection()
        direct = ssh.get("direct") or None
        ssh22 = public.get((22, "tcp"))
        host, port = None, None
        if direct:
            host, port = direct.get("host"), direct.get("port")
        elif ssh22:
            host, port = ssh22.get("ip"), ssh22.get("public")
        if host and port:
            connection.ssh_direct = (
                f"ssh root@{host} -p {port}{key} -o StrictHostKeyChecking=no"
            )
        proxy = ssh.get("proxy") or None
        if proxy and proxy.get("username"):
            connection.ssh_proxy = f"ssh {proxy['username']}@{proxy.get('host')}{key}"
        for entry in remote.get("ports") or []:
            number, _, kind = entry.partition("/")
            if kind == "http":
                connection.http[number] = f"https://{pod_id}-{number}.{PROXY_HOST}"
            elif kind == "tcp" and number != "22":
                mapped = public.get((int(number), "tcp"))
                if mapped:
                    connection.tcp[number] = f"{mapped.get('ip')}:{mapped['public']}"
        password = (remote.get("env") or {}).get("JUPYTER_PASSWORD")
        if password:
            # Read back from the pod (another kernel may have made it): mask it too.
            register_secret(password)
        if "8888" in connection.http and password:
            connection.jupyter_url = f"{connection.http['8888']}/lab?token={password}"
            connection.secrets.append(password)
        if connection.ssh_proxy and not connection.ssh_direct:
            connection.notes.append(
                "Only the SSH proxy is available: it gives a shell, but no scp, "
                "sftp or port forwarding."
            )
        return connection

    def data_loss_warning(
        self, action: str, remote: dict[str, Any], *, delete_volumes: bool = False
    ) -> str | None:
        mounts = remote.get("mounts") or {}
        persistent = mounts.get("persistent") or None
        network = mounts.get("network") or []
        disk = remote.get("disk")
        if action == "stop":
            kept = (
                f"the volume at {persistent['path']} ({persistent['size']} GB) is "
                f"kept and bills ${persistent['size'] * STOPPED_VOLUME_PER_GB_MONTH:.2f}"
                "/month while stopped"
                if persistent
                else "nothing else is kept"
            )
            return f"Stopping wipes the container disk ({disk} GB); {kept}."
        if action == "destroy":
            goes = "the pod and its container disk"
            if persistent:
                goes += (
                    f" and its persistent volume at {persistent['path']} "
                    f"({persistent['size']} GB)"
                )
            kept = " Network volumes are kept." if network else ""
            return f"Destroying deletes {goes}.{kept}"
        return None

    # -- logs (reference §6) -----------------------------------------------------
    async def logs(
        self,
        remote_id: str,
        *,
        on_line: Callable[[LogLine], None],
        tail: int = 100,
        after: str | None = None,
    ) -> str | None:
        headers = {"Accept": "text/event-stream"}
        if after:
            headers["Last-Event-ID"] = after
        path = f"/v2/pods/{quote(remote_id, safe='')}/logs"
        cursor = after
        # The stream stays open while it follows, so it has no read timeout. It
        # uses the API client's connection, so the key and loopback rules hold.
        client = self.api._client
        try:
            async with client.stream(
                "GET",
                path,
                params={"tail": tail},
                headers=headers,
                timeout=httpx.Timeout(10.0, read=None),
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise map_error(response)
                async for event_id, data in _sse_events(response.aiter_lines()):
                    line = _log_line(event_id, data)
                    if line is not None:
                        cursor = line.cursor or cursor
                        on_line(line)
        except httpx.TransportError as error:
            raise TransportError(
                f"The RunPod log stream failed ({type(error).__name__}); "
                "it resumes from the last line read.",
                provider=self.name,
            ) from None
        return cursor


async def _sse_events(
    lines: AsyncIterator[str],
) -> AsyncIterator[tuple[str | None, str]]:
    """``(id, data)`` per Server-Sent Event; comments and other fields are skipped."""
    event_id: str | None = None
    data: list[str] = []
    async for raw in lines:
        if not raw:
            if data:
                yield event_id, "\n".join(data)
            event_id, data = None, []
            continue
        if raw.startswith(":"):
            continue
        name, _, value = raw.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            event_id = value
        elif name == "data":
            data.append(value)
    if data:
        yield event_id, "\n".join(data)


def _log_line(event_id: str | None, data: str) -> LogLine | None:
    try:
        body = json.loads(data)
    except ValueError:
        return LogLine(time="", source="", text=data, cursor=event_id)
    if not isinstance(body, dict):
        return None
    return LogLine(
        time=str(body.get("ts") or ""),
        source=str(body.get("source") or ""),
        text=str(body.get("line") or ""),
        cursor=event_id,
    )


def _unreachable_because(pod: dict[str, Any]) -> str | None:
    """Why a RUNNING pod is not ready yet (reference §14), or None when it is."""
    runtime = pod.get("runtime")
    if not runtime:
        return "no runtime reported yet"
    public = {
        p.get("private")
        for p in runtime.get("ports") or []
        if p.get("type") == "tcp" and p.get("public")
    }
    for entry in pod.get("ports") or []:
        number, _, kind = entry.partition("/")
        if kind == "tcp" and int(number) not in public:
            return f"port {number}/tcp has no public mapping yet"
    if "22/tcp" in (pod.get("ports") or []) and not (pod.get("ssh") or {}).get(
        "direct"
    ):
        return "direct SSH is not up yet"
    return None
