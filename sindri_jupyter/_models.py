"""Typed models shared by every provider and every front end."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class State(enum.StrEnum):
    """The one state list every provider maps onto (tables in ``docs/states.md``)."""

    PENDING = "pending"  # asked for, not up yet
    RUNNING = "running"  # up, not yet reachable
    READY = "ready"  # reachable
    STOPPED = "stopped"
    FAILED = "failed"
    GONE = "gone"

    @property
    def is_live(self) -> bool:
        return self is not State.GONE

    @property
    def is_settled(self) -> bool:
        """True where a wait for readiness has nothing more to wait for."""
        return self in (State.READY, State.STOPPED, State.FAILED, State.GONE)


class DeploySpec(BaseModel):
    """What the user asked to deploy, validated, before any request is built."""

    model_config = ConfigDict(frozen=True)

    provider: str
    name: str
    gpu: str | None = None
    gpu_count: int = 1
    image: str | None = None
    cloud: str | None = None
    disk_gb: int | None = None
    volume_gb: int | None = None
    volume_path: str = "/workspace"
    ports: tuple[str, ...] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    datacenters: tuple[str, ...] = ()
    ssh_public_key: str | None = None
    timeout_seconds: float = 1200.0
    wait: bool = True
    spot: bool = False
    stop_after_seconds: float | None = None
    # Cost guards (sindri_jupyter._guards): hours, dollars, idle seconds.
    max_hours: float | None = None
    max_cost: float | None = None
    stop_when_idle_seconds: float | None = None
    # Northflank: where the service goes and its size (docs/northflank.md).
    project: str | None = None
    region: str | None = None
    default_region: str | None = None
    plan: str | None = None
    cpu: float | None = None
    memory_mb: int | None = None


class GpuOffer(BaseModel):
    """One GPU type as a provider's live catalog offers it."""

    provider: str
    id: str
    name: str
    memory_gb: float | None = None
    price_secure: float | None = None
    price_community: float | None = None
    stock: str | None = None
    max_count: int | None = None
    count_options: list[int] | None = None  # GPUs per machine, where fixed
    regions: list[str] | None = None  # where offered, where the provider says

    def price(self, cloud: str | None) -> float | None:
        if (cloud or "SECURE").upper() == "COMMUNITY":
            return self.price_community
        return self.price_secure


class Connection(BaseModel):
    """How to reach a deployment. Secret values are listed so front ends can mask."""

    ssh_direct: str | None = None
    ssh_proxy: str | None = None
    http: dict[str, str] = Field(default_factory=dict)
    tcp: dict[str, str] = Field(default_factory=dict)
    shell: str | None = None  # a command that opens a shell, where no SSH exists
    port_forward: str | None = None  # a command that forwards private ports
    # The Jupyter link holds its token: kept out of reprs; views mask it.
    jupyter_url: str | None = Field(default=None, repr=False)
    secrets: list[str] = Field(default_factory=list, repr=False)
    notes: list[str] = Field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.ssh_direct or self.ssh_proxy or self.http or self.tcp)


class Deployment(BaseModel):
    """A pod or service as last seen, in the library's own terms."""

    provider: str
    id: str
    name: str
    launch_id: str | None = None
    state: State
    provider_status: str | None = None
    detail: str | None = None
    gpu: str | None = None
    gpu_count: int = 0
    image: str | None = None
    cost_per_hour: float = 0.0
    spent: float | None = None
    uptime_seconds: float | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    as_of: datetime | None = None
    ports: list[str] = Field(default_factory=list)
    storage: str | None = None
    connection: Connection | None = None
    #: the busiest GPU's utilisation in percent, where the provider reports it
    gpu_util: float | None = None
    #: False for one that carries this library's tag but that this store does
    #: not know: started on another machine, or the store was lost
    in_store: bool = True

    @field_validator("name")
    @classmethod
    def _printable(cls, name: str) -> str:
        # A name read from a pod can hold anything; one line of text shows it.
        return "".join(c if c.isprintable() else "?" for c in name)

    @property
    def ref(self) -> str:
        return f"{self.provider}:{self.name}"


class DeployPlan(BaseModel):
    """What a deploy would send, and what it would cost, before anything is sent."""

    provider: str
    name: str
    launch_id: str
    gpu_id: str | None
    gpu_count: int
    cloud: str | None
    price_per_hour: float | None
    # Request bodies hold the generated Jupyter password: kept out of reprs.
    candidates: list[dict] = Field(default_factory=list, repr=False)
    notes: list[str] = Field(default_factory=list)


class Progress(BaseModel):
    """One step of a long operation, for front ends to show."""

    phase: str
    message: str
    state: State | None = None
    elapsed_seconds: float | None = None
    deployment: Deployment | None = None


def _deployment_html(self: Deployment) -> str:
    from ._display import deployment_html

    return deployment_html(self)


def _deployment_str(self: Deployment) -> str:
    from ._display import deployment_text

    return deployment_text(self)


def _plan_str(self: DeployPlan) -> str:
    from ._display import plan_text

    return plan_text(self)


def _progress_str(self: Progress) -> str:
    from ._display import progress_line

    return progress_line(self)


def _pretty(self: BaseModel, printer: object, cycle: bool) -> None:
    printer.text(str(self))  # type: ignore[attr-defined]


# Notebook views live in _display; the models only point at them.
Deployment._repr_html_ = _deployment_html  # type: ignore[attr-defined]
Deployment.__str__ = _deployment_str  # type: ignore[method-assign]
Deployment._repr_pretty_ = _pretty  # type: ignore[attr-defined]
Progress.__str__ = _progress_str  # type: ignore[method-assign]
DeployPlan.__str__ = _plan_str  # type: ignore[method-assign]
DeployPlan._repr_pretty_ = _pretty  # type: ignore[attr-defined]
