"""Projects, deployment services and volumes, and how a service's status moves.

Nothing advances in the background. A service records when its current
rollout began and how that rollout ends; every read derives the status from
the clock (PENDING, then IN_PROGRESS, then COMPLETED or FAILED), so a frozen
clock freezes the whole emulated cloud.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .._clock import format_instant
from .catalog import Region

DEPLOYING, SCALING = "DEPLOYING", "SCALING"
PENDING, IN_PROGRESS = "PENDING", "IN_PROGRESS"
COMPLETED, FAILED = "COMPLETED", "FAILED"
PUBLIC_PROTOCOLS = ("HTTP", "HTTP/2")
DNS_SUFFIX = "code.run"
DEFAULT_STORAGE = {"ephemeralStorage": {"storageSize": 1024}, "shmSize": 64}
DEFAULT_GRACE_PERIOD_SECONDS = 30


@dataclass(frozen=True)
class Timings:
    """How long each phase of a rollout lasts, in virtual seconds."""

    pending: float = 1.0
    deploying: float = 3.0
    scaling: float = 1.0
    dns: float = 2.0


@dataclass
class Rollout:
    """One deployment or scaling change and how it is going to end."""

    reason: str
    started: datetime
    pending: float
    running: float
    outcome: str = COMPLETED  # FAILED, or IN_PROGRESS for one that never ends

    def status(self, now: datetime) -> dict[str, str]:
        elapsed = (now - self.started).total_seconds()
        if elapsed < self.pending:
            status, since = PENDING, self.started
        elif elapsed < self.pending + self.running or self.outcome == IN_PROGRESS:
            status = IN_PROGRESS
            since = self.started + timedelta(seconds=self.pending)
        else:
            status = self.outcome
            since = self.started + timedelta(seconds=self.pending + self.running)
        return {
            "status": status,
            "reason": self.reason,
            "lastTransitionTime": format_instant(since),
        }


@dataclass
class Volume:
    id: str
    name: str
    project_id: str
    mounts: list[dict]
    spec: dict
    created: datetime
    updated: datetime
    attached_to: str | None = None  # the service id, one at most (ReadWriteOnce)

    def as_json(self) -> dict[str, Any]:
        attached = (
            [{"id": self.attached_to, "type": "service"}] if self.attached_to else []
        )
        return {
            "id": self.id,
            "name": self.name,
            "tags": [],
            "mounts": copy.deepcopy(self.mounts),
            "spec": copy.deepcopy(self.spec),
            "attachedObjects": attached,
            # Kubernetes keeps an unused claim pending until a container mounts it.
            "status": "BOUND" if self.attached_to else "PENDING",
            "createdAt": format_instant(self.created),
            "updatedAt": format_instant(self.updated),
        }


@dataclass
class Service:
    """A deployment service: its configuration as sent, plus lifecycle state."""

    id: str
    project_id: str
    app_id: str
    config: dict[str, Any]
    region: str
    cluster: dict[str, str]
    created: datetime
    updated: datetime
    rollout: Rollout
    dns_token: str
    ports: list[dict[str, Any]] = field(default_factory=list)
    paused: bool = False
    resume_instances: int = 1
    volumes: list[str] = field(default_factory=list)
    container_generation: int = 1
    filesystem_generation: int = 1
    container_token: str = ""

    # -- configuration views -------------------------------------------------

    @property
    def name(self) -> str:
        return self.config["name"]

    @property
    def deployment(self) -> dict[str, Any]:
        return self.config["deployment"]

    @property
    def instances(self) -> int:
        return 0 if self.paused else int(self.deployment.get("instances", 0))

    def gpu(self) -> dict[str, Any] | None:
        spec = self.deployment.get("gpu") or self.config.get("billing", {}).get("gpu")
        return copy.deepcopy(spec) if spec and spec.get("enabled", True) else None

    def external(self) -> dict[str, Any]:
        external = self.deployment.get("external") or {}
        image = external.get("imagePath", "")
        return {
            "imagePath": image,
            "registryProvider": registry_provider(image),
            "privateImage": bool(external.get("credentials")),
            **(
                {"credentials": external["credentials"]}
                if external.get("credentials")
                else {}
            ),
        }

    def deployment_view(self) -> dict[str, Any]:
        deployment = self.deployment
        view: dict[str, Any] = {
            "region": self.region,
            "instances": self.instances,
            "type": deployment.get("type", "deployment"),
            "external": self.external(),
            "docker": copy.deepcopy(
                deployment.get("docker", {"configType": "default"})
            ),
            "storage": merged_storage(deployment.get("storage")),
            "gracePeriodSeconds": deployment.get(
                "gracePeriodSeconds", DEFAULT_GRACE_PERIOD_SECONDS
            ),
        }
        gpu = self.gpu()
        if gpu:
            view["gpu"] = gpu
        return view

    def port_views(self, now: datetime) -> list[dict[str, Any]]:
        views = []
        for port in self.ports:
            view = {
                key: copy.deepcopy(value)
                for key, value in port.items()
                if not key.startswith("_")
            }
            view.setdefault("public", False)
            view.setdefault("domains", [])
            if self.dns_ready(port, now):
                view["dns"] = (
                    f"{port['name']}--{self.id}--{self.dns_token}.{DNS_SUFFIX}"
                )
            views.append(view)
        return views

    def dns_ready(self, port: dict[str, Any], now: datetime) -> bool:
        public = port.get("public") and port.get("protocol") in PUBLIC_PROTOCOLS
        return bool(
            public and not port.get("disableNfDomain") and now >= port["_dns_at"]
        )

    def status(self, now: datetime) -> dict[str, Any]:
        return {"deployment": self.rollout.status(now)}

    def summary(self) -> dict[str, Any]:
        """The entry a project read lists."""
        entry = {
            "id": self.id,
            "appId": self.app_id,
            "name": self.name,
            "serviceType": "deployment",
        }
        if self.config.get("description"):
            entry["description"] = self.config["description"]
        return entry

    def list_view(self, now: datetime) -> dict[str, Any]:
        view = {
            **self.summary(),
            "projectId": self.project_id,
            "tags": list(self.config.get("tags", [])),
            "disabledCI": False,
            "disabledCD": False,
            "status": self.status(now),
        }
        return view

    def view(self, now: datetime) -> dict[str, Any]:
        """The `GET .../services/{serviceId}` payload."""
        return {
            **self.list_view(now),
            "createdAt": format_instant(self.created),
            "updatedAt": format_instant(self.updated),
            "billing": {"deploymentPlan": self.config["billing"]["deploymentPlan"]},
            "servicePaused": self.paused,
            "deployment": self.deployment_view(),
            "ports": self.port_views(now),
            "cluster": dict(self.cluster),
            "healthChecks": copy.deepcopy(self.config.get("healthChecks", [])),
            "autoscaling": copy.deepcopy(self.config.get("autoscaling", {})),
        }

    def echo(self, now: datetime) -> dict[str, Any]:
        """The create/patch answer: the configuration as sent plus identity.

        Ports carry no `dns` here: the real API assigns it seconds later.
        """
        echoed = copy.deepcopy(self.config)
        echoed.update(
            id=self.id,
            appId=self.app_id,
            serviceType="deployment",
            cluster=dict(self.cluster),
            createdAt=format_instant(self.created),
            updatedAt=format_instant(self.updated),
            status=self.status(now),
        )
        return echoed

    def containers(self, now: datetime) -> list[dict[str, Any]]:
        """Running containers; none while paused, pending or scaled to zero."""
        state = self.rollout.status(now)["status"]
        if self.instances == 0 or state == PENDING:
            return []
        task = "TASK_RUNNING" if state == COMPLETED else "TASK_STARTING"
        if state == FAILED:
            task = "TASK_FAILED"
        started = int(self.rollout.started.timestamp())
        return [
            {
                "name": f"{self.id}-{self.container_token}-{index}",
                "createdAt": started,
                "updatedAt": int(now.timestamp()),
                "status": task,
            }
            for index in range(self.instances)
        ]

    def control_view(self, now: datetime) -> dict[str, Any]:
        """What `/_emulator/` shows beyond the API: generations and volumes."""
        return {
            "id": self.id,
            "projectId": self.project_id,
            "paused": self.paused,
            "resumeInstances": self.resume_instances,
            "status": self.rollout.status(now),
            "rolloutOutcome": self.rollout.outcome,
            "containerGeneration": self.container_generation,
            "filesystemGeneration": self.filesystem_generation,
            "volumes": list(self.volumes),
            "runtimeEnvironment": copy.deepcopy(
                self.config.get("runtimeEnvironment", {})
            ),
        }


@dataclass
class Project:
    id: str
    name: str
    region: Region
    created: datetime
    updated: datetime
    namespace: str
    description: str | None = None
    color: str | None = None
    networking: dict | None = None
    services: dict[str, Service] = field(default_factory=dict)
    volumes: dict[str, Volume] = field(default_factory=dict)

    @property
    def cluster(self) -> dict[str, str]:
        return {
            "id": f"nf-{self.region.id}",
            "name": f"nf-{self.region.id}",
            "namespace": self.namespace,
        }

    def fields(self) -> dict[str, Any]:
        found = {"id": self.id, "name": self.name}
        for key, value in (("description", self.description), ("color", self.color)):
            if value is not None:
                found[key] = value
        return found

    def echo(self) -> dict[str, Any]:
        """The create/upsert answer."""
        echoed = {
            **self.fields(),
            "region": self.region.id,
            "createdAt": format_instant(self.created),
            "updatedAt": format_instant(self.updated),
        }
        if self.networking is not None:
            echoed["networking"] = copy.deepcopy(self.networking)
        return echoed

    def list_entry(self) -> dict[str, Any]:
        entry = {"id": self.id, "name": self.name}
        if self.description is not None:
            entry["description"] = self.description
        return entry

    def view(self) -> dict[str, Any]:
        return {
            **self.fields(),
            "deployment": {"region": self.region.id},
            "createdAt": format_instant(self.created),
            "services": [service.summary() for service in self.services.values()],
            "jobs": [],
            "addons": [],
            "cluster": self.cluster,
        }


def registry_provider(image: str) -> str:
    """Which registry an image path names, the way the API classifies it."""
    first, slash, _ = image.partition("/")
    host = first if slash and ("." in first or ":" in first) else ""
    if not host or host in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        return "dockerhub"
    if host == "ghcr.io":
        return "github"
    if host.startswith("registry.gitlab"):
        return "gitlab"
    if host.endswith((".pkg.dev", "gcr.io")):
        return "gar"
    if ".ecr." in host:
        return "ecr"
    if host.endswith(".azurecr.io"):
        return "acr"
    return "custom"


def merged_storage(storage: dict | None) -> dict[str, Any]:
    merged = copy.deepcopy(DEFAULT_STORAGE)
    for key, value in (storage or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
