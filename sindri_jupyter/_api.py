"""The Python API: the same verbs as the magics, as plain functions.

Blocking functions work inside a running kernel (no nest_asyncio); ``adeploy``
and friends are their awaitable twins.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from . import _deploy, _display, _sync, _validate
from ._config import read_public_key
from ._engine import Session
from ._errors import InputError
from ._models import Deployment, DeployPlan, DeploySpec, Progress

_session: Session | None = None


def session() -> Session:
    """The process-wide session the magics and these functions share."""
    global _session
    if _session is None:
        _session = Session()
    return _session


class _ShownList(list):
    """A list that shows as a table in a notebook, and as text elsewhere."""

    _as_html: Callable[[list], str]
    _as_text: Callable[[list], str]

    def _repr_html_(self) -> str:
        return type(self)._as_html(list(self))

    def __str__(self) -> str:
        return type(self)._as_text(list(self))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


class DeploymentList(_ShownList):
    """Deployments: state, GPU, $/h, $ so far, uptime."""

    _as_html = staticmethod(_display.status_html)
    _as_text = staticmethod(_display.status_text)


class GpuList(_ShownList):
    """GPU offers: id, memory, $/h per cloud, stock."""

    _as_html = staticmethod(_display.gpus_html)
    _as_text = staticmethod(_display.gpus_text)


def build_spec(
    provider: str | None = None,
    *,
    gpu: str | None = None,
    name: str | None = None,
    count: int = 1,
    image: str | None = None,
    cloud: str | None = None,
    disk: int | None = None,
    volume: int | None = None,
    volume_path: str = "/workspace",
    ports: str | Sequence[str] | None = None,
    env: dict[str, str] | Sequence[str] | None = None,
    datacenters: str | Sequence[str] | None = None,
    timeout: str | float | None = None,
    wait: bool = True,
    spot: bool = False,
    stop_after: str | float | None = None,
) -> DeploySpec:
    """Validate every value, fill defaults from the settings; nothing is sent."""
    settings = session().settings
    provider = provider or settings.default_provider
    if name is None:
        name = f"gpu-{secrets.token_hex(2)}"
    if isinstance(datacenters, str):
        datacenters = [d.strip() for d in datacenters.split(",") if d.strip()]
    return DeploySpec(
        provider=provider,
        name=_validate.name(name),
        gpu=gpu,
        gpu_count=_validate.count(count, "--count", high=16),
        image=image or settings.image,
        cloud=_validate.cloud(cloud or settings.cloud),
        disk_gb=_validate.count(
            disk if disk is not None else settings.disk_gb, "--disk", high=4096
        ),
        volume_gb=_validate.volume(
            volume if volume is not None else settings.volume_gb
        ),
        volume_path=volume_path,
        ports=_validate.ports(ports) if ports is not None else None,
        env=_validate.env(env),
        datacenters=tuple(datacenters or ()),
        ssh_public_key=read_public_key(settings.ssh_key_path),
        timeout_seconds=_validate.duration(
            timeout if timeout is not None else settings.timeout_seconds
        ),
        wait=wait,
        spot=spot,
        stop_after_seconds=(
            _validate.duration(stop_after, "--stop-after") if stop_after else None
        ),
    )


async def adeploy(
    provider: str | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    **options: Any,
) -> Deployment:
    """Deploy and wait until reachable; see :func:`deploy` for the options."""
    spec = build_spec(provider, **options)
    return await _deploy.deploy(session(), spec, on_progress)


def deploy(
    provider: str | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    **options: Any,
) -> Deployment:
    """Deploy a GPU and wait until it is reachable.

    Options: ``gpu`` (id or alias, required), ``name``, ``count``, ``image``,
    ``cloud``, ``disk`` (GB), ``volume`` (GB, 0 for none), ``ports``, ``env``,
    ``datacenters``, ``timeout`` (e.g. ``"20m"``), ``wait``.
    """
    spec = build_spec(provider, **options)
    return _sync.run(lambda emit: _deploy.deploy(session(), spec, emit), on_progress)


def plan(provider: str | None = None, **options: Any) -> DeployPlan:
    """The dry run of :func:`deploy`: what would be sent and its $/h."""
    spec = build_spec(provider, **options)
    return _sync.run(lambda emit: _deploy.plan(session(), spec))


async def astatus(provider: str | None = None) -> DeploymentList:
    return DeploymentList(await session().status(provider))


def status(provider: str | None = None) -> DeploymentList:
    """Every deployment: state, GPU, $/h, $ so far, uptime."""
    return _sync.run(lambda emit: astatus(provider))


async def agpus(provider: str | None = None, *, cloud: str | None = None) -> GpuList:
    provider = provider or session().settings.default_provider
    return GpuList(await session().gpus(provider, cloud=_validate.cloud(cloud)))


def gpus(provider: str | None = None, *, cloud: str | None = None) -> GpuList:
    """The live GPU catalog: id, memory, $/h per cloud, stock."""
    return _sync.run(lambda emit: agpus(provider, cloud=cloud))


async def aconnect(name: str) -> Deployment:
    return await session().describe(name)


def connect(name: str) -> Deployment:
    """Fresh connection details; a deployment that is not running has none."""
    return _sync.run(lambda emit: aconnect(name))


def stop(name: str) -> tuple[Deployment | None, str]:
    """Stop (the container disk is wiped; volumes are kept)."""
    return _sync.run(lambda emit: session().act("stop", name))


def pause(name: str) -> tuple[Deployment | None, str]:
    """Pause where the provider has a pause distinct from stop."""
    return _sync.run(lambda emit: session().act("pause", name))


def start(name: str) -> tuple[Deployment | None, str]:
    """Start a stopped deployment."""
    return _sync.run(lambda emit: session().act("start", name))


def destroy(name: str, *, yes: bool = False) -> tuple[Deployment | None, str]:
    """Destroy, after saying what goes and asking (``yes=True`` skips the question)."""
    if not yes:
        label, warning = _sync.run(lambda emit: session().preview("destroy", name))
        if warning and not confirm(f"{warning} Destroy {label}? [y/N] "):
            return None, f"Nothing was done to {label}."
    return _sync.run(lambda emit: session().act("destroy", name))


def confirm(question: str) -> bool:
    """Ask in the calling thread; where nobody can answer, refuse in one sentence."""
    try:
        answer = input(question)
    except (EOFError, RuntimeError, NotImplementedError) as error:
        raise InputError(
            "Cannot ask before destroying here: pass yes=True (or --yes) to "
            "destroy without asking.",
            option="--yes",
        ) from error
    return answer.strip().lower() in ("y", "yes")
