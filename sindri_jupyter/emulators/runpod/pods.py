"""The emulated pod: configuration, lifecycle on the virtual clock, and its JSON.

Nothing ticks in the background. Each action records a `Boot` (when it was asked
for, how long provisioning and container start take) and status is read off the
clock: PROVISIONING, then STARTING, then RUNNING. Random values a boot needs
(public IP, port mappings) are drawn when the action happens, so the order of
later reads cannot change them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .._clock import format_instant
from .logs import LogBook

ACTIONS: dict[str, list[str]] = {
    "PROVISIONING": ["stop", "terminate"],
    "STARTING": ["stop", "terminate"],
    "RUNNING": ["stop", "restart", "terminate"],
    "EXITED": ["start", "terminate"],
    "ERROR": ["start", "terminate"],
    "TERMINATED": [],
}
PROXY_HOST = "ssh.runpod.io"
HOURS_PER_MONTH = 730  # RunPod's storage rates are per GB-month of 730 hours
CONTAINER_DISK_RATE = 0.10  # USD per GB-month while the pod holds compute
VOLUME_RUNNING_RATE = 0.10  # persistent mount, USD per GB-month while running
VOLUME_STOPPED_RATE = 0.20  # persistent mount, USD per GB-month while stopped


def parse_ports(ports: list[str]) -> list[tuple[int, str]]:
    """`["8888/http", "22/tcp"]` as (port, protocol) pairs."""
    parsed = []
    for entry in ports:
        number, _, protocol = entry.partition("/")
        parsed.append((int(number), protocol))
    return parsed


@dataclass
class Boot:
    """One run of the container, from create, start or restart until stop."""

    requested_at: datetime
    provisioning: float
    starting: float
    public_ip: str
    port_map: dict[int, int]

    @property
    def machine_at(self) -> datetime:
        return self.requested_at + timedelta(seconds=self.provisioning)

    @property
    def running_at(self) -> datetime:
        return self.machine_at + timedelta(seconds=self.starting)

    def status(self, now: datetime) -> str:
        if now < self.machine_at:
            return "PROVISIONING"
        if now < self.running_at:
            return "STARTING"
        return "RUNNING"


@dataclass
class Segment:
    """A stretch of time billed at constant rates (USD per hour)."""

    start: datetime
    end: datetime | None
    compute_rate: float
    disk_rate: float


@dataclass
class Pod:
    id: str
    name: str
    image: str
    gpu: dict[str, Any]
    cloud: str
    data_center: str
    cuda_version: str | None
    cost_per_hour: float
    proxy_username: str
    created_at: datetime
    args: str = ""
    disk: int = 50
    ports: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    registry: str | None = None
    mounts: dict[str, Any] = field(default_factory=dict)
    locked: bool = False
    global_networking: bool = False
    global_ip: str | None = None
    boot: Boot | None = None
    machine_at: datetime | None = None
    last_started_at: datetime | None = None
    segments: list[Segment] = field(default_factory=list)
    logs: LogBook = field(default_factory=LogBook)
    #: runs the container's command for real (`container.Containers`), if set
    container: Any = field(default=None, repr=False)

    # -- lifecycle -------------------------------------------------------------

    def status(self, now: datetime) -> str:
        return "EXITED" if self.boot is None else self.boot.status(now)

    def begin(self, boot: Boot) -> None:
        """Start a boot (create, start or restart) and bill from its request."""
        self.remember_start(boot.requested_at)
        self.boot = boot
        if self.machine_at is None:
            self.machine_at = boot.machine_at
        self.bill(boot.requested_at)
        self.logs.boot(self, boot)
        if self.container is not None:
            self.container.boot(self, boot)

    def stop(self, now: datetime) -> None:
        self.remember_start(now)
        self.boot = None
        self.bill(now)
        self.logs.stopped(now)
        if self.container is not None:
            self.container.halt(self.id)

    def terminate(self, now: datetime) -> None:
        self.remember_start(now)
        self.boot = None
        self.close_segment(now)
        self.logs.terminated(now)
        if self.container is not None:
            self.container.forget(self.id)

    def remember_start(self, now: datetime) -> None:
        if self.boot is not None and self.boot.status(now) == "RUNNING":
            self.last_started_at = self.boot.running_at

    def started_at(self, now: datetime) -> datetime | None:
        if self.boot is not None and self.boot.status(now) == "RUNNING":
            return self.boot.running_at
        return self.last_started_at

    # -- billing ---------------------------------------------------------------

    def rates(self) -> tuple[float, float]:
        """(compute, disk) USD per hour in the current state."""
        volume = (self.mounts.get("persistent") or {}).get("size", 0)
        if self.boot is None:
            return 0.0, volume * VOLUME_STOPPED_RATE / HOURS_PER_MONTH
        disk = self.disk * CONTAINER_DISK_RATE + volume * VOLUME_RUNNING_RATE
        return self.cost_per_hour, disk / HOURS_PER_MONTH

    def close_segment(self, now: datetime) -> None:
        if self.segments and self.segments[-1].end is None:
            self.segments[-1].end = now

    def bill(self, now: datetime) -> None:
        """Close the open segment and open one at the current rates."""
        self.close_segment(now)
        compute, disk = self.rates()
        self.segments.append(Segment(now, None, compute, disk))

    # -- the contract's view -----------------------------------------------------

    def as_json(self, now: datetime, *, stuck_runtime: bool = False) -> dict:
        status = self.status(now)
        running = status == "RUNNING"
        assigned = self.machine_at is not None and now >= self.machine_at
        direct = None
        if running and "22/tcp" in self.ports and not stuck_runtime:
            direct = self.direct_endpoint()
        started = self.started_at(now)
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "status": status,
            "actions": list(ACTIONS[status]),
            "image": self.image,
            "args": self.args,
            "disk": self.disk,
            "mounts": self.mounts,
            "ports": list(self.ports),
            "env": dict(self.env),
            "registry": self.registry,
            "gpu": dict(self.gpu),
            "cloud": self.cloud,
            "dataCenterId": self.data_center,
            "cudaVersion": self.cuda_version if assigned else None,
            "ssh": {
                "proxy": self.proxy_endpoint() if assigned else None,
                "direct": direct,
            },
            "template": None,
            "cost": self.cost_per_hour
            if status not in ("EXITED", "TERMINATED")
            else 0.0,
            "locked": self.locked,
            "globalNetworking": self.networking_json(),
            "runtime": self.runtime(now) if running and not stuck_runtime else None,
            "createdAt": format_instant(self.created_at),
            "startedAt": format_instant(started) if started else None,
        }
        return body

    def gpu_util(self) -> list[int]:
        """Per-GPU utilisation: what a test set, else idle."""
        found = self.container.gpu_util.get(self.id) if self.container else None
        return list(found or [0] * self.gpu["count"])

    def proxy_endpoint(self) -> dict:
        user = self.proxy_username
        return {
            "host": PROXY_HOST,
            "port": 22,
            "username": user,
            "command": f"ssh {user}@{PROXY_HOST}",
        }

    def direct_endpoint(self) -> dict | None:
        assert self.boot is not None
        port = self.boot.port_map.get(22)
        if port is None:
            return None
        address = self.boot.public_ip
        return {
            "host": address,
            "port": port,
            "username": "root",
            "command": f"ssh root@{address} -p {port}",
        }

    def networking_json(self) -> dict:
        if not self.global_ip:  # applied at a boot, not when PATCHed
            return {"enabled": False}
        internal = f"{self.id}.runpod.internal"
        return {"enabled": True, "ip": self.global_ip, "internalDns": internal}

    def runtime(self, now: datetime) -> dict:
        assert self.boot is not None
        ports = []
        for number, protocol in parse_ports(self.ports):
            public = self.boot.port_map.get(number) if protocol == "tcp" else None
            address = self.boot.public_ip if public else None
            ports.append(
                {"private": number, "public": public, "type": protocol, "ip": address}
            )
        uptime = int((now - self.boot.running_at).total_seconds())
        util = self.gpu_util()
        return {
            "uptime": uptime,
            "gpus": [{"util": value, "memoryUtil": 0} for value in util],
            "cpu": {"util": 0},
            "memory": {"util": 0},
            "ports": ports,
        }
