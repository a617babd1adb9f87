"""Pod endpoints: create, list, get, update, delete, actions and logs.

A mixin of `RunPodApp`; handlers run under the app lock and read time from
`request.now`, the clock reading taken when the request arrived.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from .._clock import parse_instant
from .._http import HttpError, Request, Response, Route
from . import logs, rules
from .pods import ACTIONS, Boot, Pod, parse_ports

if TYPE_CHECKING:
    from .app import RunPodApp

CAPACITY_DETAIL = (
    "There are no longer any instances available with the requested "
    "specifications. Please refresh and try again."
)
RESTARTING_FIELDS = ("image", "args", "env", "ports", "disk")


def capacity_error() -> HttpError:
    return HttpError(400, CAPACITY_DETAIL)


class PodRoutes:
    """Handlers for `/v2/pods...`; see `RunPodApp` for the state they use."""

    def pod_routes(self: RunPodApp) -> list[Route]:
        return [
            Route("GET", "/v2/pods", self.list_pods),
            Route("POST", "/v2/pods", self.create_pod),
            Route("GET", "/v2/pods/{id}", self.get_pod),
            Route("PATCH", "/v2/pods/{id}", self.update_pod),
            Route("DELETE", "/v2/pods/{id}", self.delete_pod),
            Route("POST", "/v2/pods/{id}/action", self.pod_action),
            Route("GET", "/v2/pods/{id}/logs", self.pod_logs),
        ]

    # -- helpers -------------------------------------------------------------

    def find_pod(self: RunPodApp, request: Request) -> Pod:
        pod = self.pods.get(request.params["id"])
        if pod is None:
            raise HttpError(404, f"pod {request.params['id']!r} not found")
        return pod

    def pod_json(self: RunPodApp, pod: Pod, request: Request) -> dict:
        running = pod.status(request.now) == "RUNNING"
        # Fired at most once per request, and only when it can change the answer.
        stuck = running and request.fault("stuck-runtime") is not None
        return pod.as_json(request.now, stuck_runtime=stuck)

    def new_boot(
        self: RunPodApp, pod: Pod, now: datetime, *, provisioning: float
    ) -> Boot:
        """A boot with fresh public mappings for every `<port>/tcp`."""
        address = self.ids.public_ip()
        mapping = {
            number: self.ids.port()
            for number, protocol in parse_ports(pod.ports)
            if protocol == "tcp"
        }
        if pod.global_networking and pod.global_ip is None:
            pod.global_ip = (
                f"10.65.{self.ids.random.randint(0, 255)}.{self.ids.port(2, 254)}"
            )
        if not pod.global_networking:
            pod.global_ip = None
        return Boot(now, provisioning, self.starting_seconds, address, mapping)

    def release(self: RunPodApp, pod: Pod, now: datetime) -> None:
        """Give the pod's GPUs back to stock if it still holds them."""
        if pod.status(now) != "EXITED":
            self.catalog.release(
                pod.gpu["id"], pod.data_center, pod.cloud, pod.gpu["count"]
            )

    def terminate(self: RunPodApp, pod: Pod, now: datetime) -> None:
        self.release(pod, now)
        pod.terminate(now)
        del self.pods[pod.id]

    # -- list, create, get -----------------------------------------------------

    def list_pods(self: RunPodApp, request: Request) -> Response:
        self.query(request, "/v2/pods")
        pods = [self.pod_json(pod, request) for pod in self.pods.values()]
        return Response.json(200, {"pods": pods})

    def get_pod(self: RunPodApp, request: Request) -> Response:
        return Response.json(200, self.pod_json(self.find_pod(request), request))

    def create_pod(self: RunPodApp, request: Request) -> Response:
        body = self.body(request, "CreatePodRequest")
        rules.check_create(body)
        if "templateId" in body:
            raise HttpError(404, f"template {body['templateId']!r} not found")
        if "cpu" in body:
            raise HttpError(400, f"CPU flavor {body['cpu']['id']!r} is not available")
        for mount in (body.get("mounts") or {}).get("network", []):
            raise HttpError(404, f"network volume {mount['volumeId']!r} not found")
        gpu = {"id": body["gpu"]["id"], "count": body["gpu"].get("count", 1)}
        model = self.catalog.gpu(gpu["id"])
        if model is None:
            raise HttpError(400, f"{gpu['id']!r} is not a valid GPU type id")
        cloud = body.get("cloud", "SECURE")
        if not model.clouds[cloud]:
            raise HttpError(400, f"{model.id} is not offered on the {cloud} cloud")
        if gpu["count"] > model.max_count:
            raise HttpError(400, f"{model.id} pods have at most {model.max_count} GPUs")
        preferred = body.get("dataCenterIds") or []
        unknown = [
            center for center in preferred if center not in self.catalog.data_centers
        ]
        if unknown:
            raise HttpError(400, f"unknown data center {unknown[0]!r}")
        if request.fault("capacity"):
            raise capacity_error()
        placement = self.catalog.place(
            model,
            count=gpu["count"],
            cloud=cloud,
            preferred=preferred,
            allowed_cuda=body["gpu"].get("allowedCudaVersions") or None,
            minimum_cuda=body["gpu"].get("minCudaVersion"),
            global_networking=body.get("globalNetworking", False),
        )
        if placement is None:
            raise capacity_error()
        self.catalog.take(model.id, placement.data_center.id, cloud, gpu["count"])
        pod = self.build_pod(body, gpu, placement, model.price[cloud], request.now)
        pod.begin(
            self.new_boot(pod, request.now, provisioning=self.provisioning_seconds)
        )
        self.pods[pod.id] = pod
        self.billed[pod.id] = pod
        return Response.json(201, self.pod_json(pod, request))

    def build_pod(
        self: RunPodApp,
        body: dict[str, Any],
        gpu: dict[str, Any],
        placement: Any,
        price: float,
        now: datetime,
    ) -> Pod:
        pod_id = self.ids.token(14)
        while pod_id in self.billed:  # pragma: no cover - 36**14 ids
            pod_id = self.ids.token(14)
        env = dict(body.get("env") or {})
        if body.get("startJupyter") and "JUPYTER_PASSWORD" not in env:
            env["JUPYTER_PASSWORD"] = self.ids.secret()
        if body.get("startSsh") and self.ssh_keys and "PUBLIC_KEY" not in env:
            env["PUBLIC_KEY"] = "\n".join(self.ssh_keys)
        return Pod(
            id=pod_id,
            name=body["name"],
            image=body["image"],
            gpu=gpu,
            cloud=placement.cloud,
            data_center=placement.data_center.id,
            cuda_version=placement.cuda_version,
            cost_per_hour=round(price * gpu["count"], 4),
            proxy_username=f"{pod_id}-{self.ids.hex(8)}",
            created_at=now,
            args=body.get("args", ""),
            disk=body.get("disk", 50),
            ports=list(body.get("ports") or []),
            env=env,
            registry=body.get("registry"),
            mounts=dict(body.get("mounts") or {}),
            global_networking=body.get("globalNetworking", False),
        )

    # -- update, delete, actions -----------------------------------------------

    def update_pod(self: RunPodApp, request: Request) -> Response:
        pod = self.find_pod(request)
        body = self.body(request, "UpdatePodRequest")
        rules.check_update(pod.mounts, body)
        if "templateId" in body:
            raise HttpError(404, f"template {body['templateId']!r} not found")
        restart = any(
            field in body and body[field] != getattr(pod, field)
            for field in RESTARTING_FIELDS
        )
        for field in ("name", "image", "args", "disk", "registry", "locked"):
            if field in body:
                setattr(pod, field, body[field])
        if "ports" in body:
            pod.ports = list(body["ports"])
        if "env" in body:
            pod.env = dict(body["env"])  # PATCH replaces the whole map
        if "globalNetworking" in body:
            pod.global_networking = body["globalNetworking"]  # applies at next boot
        for kind, mount in (body.get("mounts") or {}).items():
            pod.mounts[kind] = mount
        now = request.now
        if restart and pod.boot is not None:
            # Changing the container's definition recreates it (and wipes its disk).
            pod.begin(self.new_boot(pod, now, provisioning=0))
        else:
            pod.bill(now)  # disk or volume size may have changed the rates
        return Response.json(200, self.pod_json(pod, request))

    def delete_pod(self: RunPodApp, request: Request) -> Response:
        self.terminate(self.find_pod(request), request.now)
        return Response.empty(204)

    def pod_action(self: RunPodApp, request: Request) -> Response:
        pod = self.find_pod(request)
        action = self.body(request, "PodActionRequest")["action"]
        now = request.now
        status = pod.status(now)
        if action not in ACTIONS[status]:
            raise HttpError(409, f"cannot {action} a pod that is {status}")
        if pod.locked and action in ("stop", "restart"):
            raise HttpError(409, f"pod is locked; unlock it to {action} it")
        if action == "terminate":
            self.terminate(pod, now)
            return Response.empty(204)
        if action == "stop":
            self.release(pod, now)
            pod.stop(now)
        elif action == "start":
            taken = self.catalog.take(
                pod.gpu["id"], pod.data_center, pod.cloud, pod.gpu["count"]
            )
            if not taken or request.fault("capacity"):
                if taken:
                    self.catalog.release(
                        pod.gpu["id"], pod.data_center, pod.cloud, pod.gpu["count"]
                    )
                raise capacity_error()
            pod.begin(self.new_boot(pod, now, provisioning=0))
        else:  # restart in place keeps the machine and its public mappings
            assert pod.boot is not None
            boot = pod.boot
            pod.begin(
                Boot(now, 0, self.starting_seconds, boot.public_ip, boot.port_map)
            )
        return Response.json(200, self.pod_json(pod, request))

    # -- logs ------------------------------------------------------------------

    def pod_logs(self: RunPodApp, request: Request) -> Response:
        pod = self.find_pod(request)
        values = self.query(request, "/v2/pods/{id}/logs")
        after = None
        cursor = request.header("last-event-id")
        if cursor:
            try:
                after = parse_instant(cursor.split("/")[0])
            except ValueError as error:
                detail = "Last-Event-ID must be an event id from this stream"
                raise HttpError(422, detail, errors=[str(error)]) from error
        since = parse_instant(values["since"]) if "since" in values else None
        source = values.get("source")
        visible = pod.logs.visible(request.now, source)
        first = logs.backfill(
            visible, tail=values.get("tail", 100), since=since, after=after
        )

        def read() -> tuple[list[logs.LogEvent], bool]:
            with self.lock:
                alive = pod.id in self.pods
                return pod.logs.visible(self.clock.now(), source), alive

        response = Response(200, content_type="text/event-stream")
        response.headers.update(
            {"Cache-Control": "no-cache", "Connection": "keep-alive",
             "X-Accel-Buffering": "no"}
        )  # fmt: skip
        response.stream = logs.stream(
            read,
            first,
            cursor=visible[-1].ts if visible else None,
            follow_seconds=self.log_follow_seconds,
        )
        return response
