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
from ._errors import InputError, SindriError
from ._models import Deployment, DeployPlan, DeploySpec, Progress, State
from ._redact import is_secret_env_key, register_secret

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

    def __init__(self, found: Sequence[Deployment] = (), *, everything: bool = False):
        super().__init__(found)
        #: the ``--all`` view: what is not in the store is offered for adoption
        self.everything = everything

    def _repr_html_(self) -> str:
        return _display.status_html(list(self), everything=self.everything)

    def __str__(self) -> str:
        return _display.status_text(list(self), everything=self.everything)


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
    port: str | Sequence[str] | None = None,
    project: str | None = None,
    region: str | None = None,
    plan: str | None = None,
    cpu: str | float | None = None,
    memory: str | float | None = None,
    max_hours: float | str | None = None,
    max_cost: float | str | None = None,
    stop_when_idle: str | float | None = None,
) -> DeploySpec:
    """Validate every value, fill defaults from the settings; nothing is sent."""
    _check_types(locals())
    settings = session().settings
    provider = provider or settings.default_provider
    if name is None:
        name = f"gpu-{secrets.token_hex(2)}"
    if isinstance(datacenters, str):
        datacenters = [d.strip() for d in datacenters.split(",") if d.strip()]
    northflank = provider == "northflank"
    _northflank_only(provider, project=project, region=region, plan=plan, cpu=cpu)
    _northflank_only(provider, memory=memory)
    if port:
        extra = [port] if isinstance(port, str) else list(port)
        listed = ports.split(",") if isinstance(ports, str) else list(ports or [])
        ports = [*listed, *extra]
    if disk is None and not northflank:
        disk = settings.disk_gb
    if volume is None:
        volume = 0 if northflank else settings.volume_gb
    gpu = _validate.text(gpu, "--gpu")
    if gpu is not None and not all(part.strip() for part in gpu.split(",")):
        raise InputError(
            f"--gpu {gpu!r} has an empty choice: list GPU ids separated by commas.",
            option="--gpu",
            value=gpu,
        )
    image = _validate.text(image, "--image")
    volume_path = _validate.mount_path(volume_path)
    for key, value in _validate.env(env).items():
        if is_secret_env_key(key):
            register_secret(value)  # masked wherever it could be shown
    return DeploySpec(
        provider=provider,
        name=_check_name(provider, name),
        gpu=gpu,
        gpu_count=_validate.count(count, "--count", high=16),
        image=image or (settings.northflank_image if northflank else settings.image),
        cloud=_validate.cloud(cloud if cloud is not None else settings.cloud),
        disk_gb=(
            _validate.count(disk, "--disk", high=4096) if disk is not None else None
        ),
        volume_gb=_validate.volume(volume),
        volume_path=volume_path,
        ports=_validate.ports(ports) if ports is not None else None,
        project=(project or settings.northflank_project) if northflank else None,
        region=region,
        default_region=settings.northflank_region if northflank else None,
        plan=plan,
        cpu=_validate.cpu(cpu),
        memory_mb=_validate.memory(memory),
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
        **_guard_fields(settings, max_hours, max_cost, stop_when_idle),
    )


def _guard_fields(
    settings: Any, max_hours: Any, max_cost: Any, stop_when_idle: Any
) -> dict[str, float | None]:
    """The cost guards, from the options or the ``%config`` defaults."""
    from ._guards import check_limit

    idle = stop_when_idle if stop_when_idle is not None else settings.stop_when_idle
    return {
        "max_hours": check_limit(
            max_hours if max_hours is not None else settings.max_hours, "--max-hours"
        ),
        "max_cost": check_limit(
            max_cost if max_cost is not None else settings.max_cost, "--max-cost"
        ),
        "stop_when_idle_seconds": (
            _validate.duration(idle, "--stop-when-idle") if idle else None
        ),
    }


_TEXT = (str,)
_NUMBER = (int, float)
_TEXTS = (str, list, tuple)
# What each option may be when it comes from Python rather than a parsed line.
_OPTION_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "provider": (_TEXT, "text"),
    "gpu": (_TEXT, "text"),
    "name": (_TEXT, "text"),
    "image": (_TEXT, "text"),
    "cloud": (_TEXT, "text"),
    "volume_path": (_TEXT, "text"),
    "project": (_TEXT, "text"),
    "region": (_TEXT, "text"),
    "plan": (_TEXT, "text"),
    "count": ((int,), "a whole number"),
    "disk": ((int,), "a whole number"),
    "volume": ((int,), "a whole number"),
    "ports": (_TEXTS, "text or a list of text"),
    "port": (_TEXTS, "text or a list of text"),
    "datacenters": (_TEXTS, "text or a list of text"),
    "env": ((dict, list, tuple), "a dict or a list of KEY=VALUE text"),
    "timeout": ((str, *_NUMBER), "a duration such as 30m"),
    "stop_after": ((str, *_NUMBER), "a duration such as 30m"),
    "cpu": ((str, *_NUMBER), "a number of vCPUs"),
    "memory": ((str, *_NUMBER), "a size such as 4GB"),
    "wait": ((bool,), "True or False"),
    "spot": ((bool,), "True or False"),
}


def _check_types(given: dict[str, Any]) -> None:
    """Refuse a value of the wrong type by name, before any other check."""
    for field, value in given.items():
        if value is None or field not in _OPTION_TYPES:
            continue
        kinds, wanted = _OPTION_TYPES[field]
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if wrong_bool or not isinstance(value, kinds):
            option = "--" + field.replace("_", "-")
            raise InputError(
                f"{option} must be {wanted}, not {value!r}.", option=option, value=value
            )
        if isinstance(value, list | tuple) and not all(
            isinstance(v, str) for v in value
        ):
            option = "--" + field.replace("_", "-")
            raise InputError(
                f"{option} must list text only, not {value!r}.",
                option=option,
                value=value,
            )


def _check_name(provider: str, name: str) -> str:
    """The provider's own naming rule where it has one, else the library's."""
    from .providers import available, provider_class

    if provider in available():
        return provider_class(provider).check_name(name)
    return _validate.name(name)


def _northflank_only(provider: str, **given: Any) -> None:
    for option, value in given.items():
        if value is not None and provider != "northflank":
            raise InputError(
                f"--{option} {value!r} is a Northflank option; {provider} does not "
                "take it.",
                option=f"--{option}",
                value=value,
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


async def astatus(
    provider: str | None = None, *, everything: bool = False
) -> DeploymentList:
    found = await session().status(provider, everything=everything)
    return DeploymentList(found, everything=everything)


def status(provider: str | None = None, *, everything: bool = False) -> DeploymentList:
    """Every deployment: state, GPU, $/h, $ so far, uptime.

    Deployments that carry this library's tag but are not in this store (started
    on another machine, or the store was lost) are listed with ``in_store``
    False. ``everything=True`` searches every place the providers have (all
    Northflank projects) and lists records already gone too.
    """
    return _sync.run(lambda emit: astatus(provider, everything=everything))


async def aadopt(name: str) -> ActionResult:
    return ActionResult(await session().adopt(name), None)


def adopt(name: str) -> ActionResult:
    """Track a deployment this store does not know (found by its tag, or an id)."""
    return _sync.run(lambda emit: aadopt(name))


async def agpus(provider: str | None = None, *, cloud: str | None = None) -> GpuList:
    provider = provider or session().settings.default_provider
    return GpuList(await session().gpus(provider, cloud=_validate.cloud(cloud)))


def gpus(provider: str | None = None, *, cloud: str | None = None) -> GpuList:
    """The live GPU catalog: id, memory, $/h per cloud, stock."""
    return _sync.run(lambda emit: agpus(provider, cloud=cloud))


async def agpu_table(
    provider: str | None = None,
    *,
    cloud: str | None = None,
    min_memory: float | str | None = None,
    max_price: float | str | None = None,
    count: int = 1,
) -> Any:
    """Both providers' GPU offers in one table (or one provider's), cheapest first."""
    from ._cost import gpus as table

    filters = table.Filters(
        min_memory_gb=table.check_number(min_memory, "--min-memory"),
        max_price=table.check_number(max_price, "--max-price"),
        count=_validate.count(count, "--count", high=16),
        cloud=_validate.cloud(cloud) or session().settings.cloud,
    )
    if provider is not None:
        session().endpoint(provider)  # an unknown provider is refused here
    providers = [provider] if provider else session().configured()
    return await table.table(session(), providers, filters)


def gpu_table(provider: str | None = None, **filters: Any) -> Any:
    """GPU offers with ``min_memory`` (GB), ``max_price`` ($/h), ``count``, ``cloud``."""
    return _sync.run(lambda emit: agpu_table(provider, **filters))


async def acost(
    provider: str | None = None, *, since: str | float | None = None
) -> Any:
    from ._cost import report

    seconds = _validate.duration(since, "--since") if since is not None else None
    return await report.build(session(), provider, seconds)


def cost(provider: str | None = None, *, since: str | float | None = None) -> Any:
    """What runs now and its burn rate; with ``since`` (e.g. ``"7d"``), the spend."""
    return _sync.run(lambda emit: acost(provider, since=since))


async def aconnect(name: str) -> Deployment:
    deployment = await session().describe(name)
    if deployment.state not in (State.RUNNING, State.READY):
        raise SindriError(
            f"{deployment.ref} is {deployment.state.value}: it has no addresses. "
            f"Start it first (`%sindri start {deployment.name}`)."
        )
    return deployment


def connect(name: str) -> Deployment:
    """Fresh connection details; refused for a deployment that is not running."""
    return _sync.run(lambda emit: aconnect(name))


class ActionResult:
    """What a stop, start, pause or destroy did: one sentence, and what is left."""

    def __init__(self, message: str, deployment: Deployment | None):
        self.message = message
        self.deployment = deployment

    def __str__(self) -> str:
        if self.deployment is None:
            return self.message
        return f"{self.message}\n{_display.deployment_text(self.deployment)}"

    def __repr__(self) -> str:
        return f"ActionResult({self.message!r})"

    def _repr_html_(self) -> str:
        card = _display.deployment_html(self.deployment) if self.deployment else ""
        return f"<p>{_display.escape(self.message)}</p>{card}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


async def _act(
    action: str, name: str, wait: bool, on_progress: Any, **options: Any
) -> ActionResult:
    report = on_progress or (lambda _: None)
    deployment, message = await session().act(
        action, name, wait=wait, report=report, **options
    )
    return ActionResult(message, deployment)


async def astop(name: str) -> ActionResult:
    return await _act("stop", name, False, None)


def stop(name: str) -> ActionResult:
    """Stop: compute is released, the container disk is wiped, volumes are kept."""
    return _sync.run(lambda emit: astop(name))


async def apause(name: str) -> ActionResult:
    return await _act("pause", name, False, None)


def pause(name: str) -> ActionResult:
    """Pause, where the provider has a pause distinct from stop."""
    return _sync.run(lambda emit: apause(name))


async def astart(
    name: str,
    *,
    wait: bool = True,
    on_progress: Callable[[Progress], None] | None = None,
    max_hours: float | str | None = None,
    max_cost: float | str | None = None,
) -> ActionResult:
    limits = _start_limits(max_hours, max_cost)
    return await _act("start", name, wait, on_progress, **limits)


def start(
    name: str,
    *,
    wait: bool = True,
    on_progress: Callable[[Progress], None] | None = None,
    max_hours: float | str | None = None,
    max_cost: float | str | None = None,
) -> ActionResult:
    """Start a stopped deployment and, unless ``wait=False``, wait until reachable.

    The kernel counts ``--max-hours`` and ``--max-cost`` across all starts and
    refuses to start what has reached them; ``max_hours`` and ``max_cost``
    replace those limits, so it can go on.
    """
    limits = _start_limits(max_hours, max_cost)
    return _sync.run(
        lambda emit: _act("start", name, wait, emit, **limits), on_progress
    )


def _start_limits(max_hours: Any, max_cost: Any) -> dict[str, float | None]:
    from ._guards import check_limit

    return {
        "max_hours": check_limit(max_hours, "--max-hours"),
        "max_cost": check_limit(max_cost, "--max-cost"),
    }


async def adestroy(name: str, *, delete_volumes: bool = False) -> ActionResult:
    """Destroy without asking (the awaitable form cannot prompt)."""
    result = await _act("destroy", name, False, None, delete_volumes=delete_volumes)
    from ._ssh_config import forget

    forget(name)  # its Host block, where `ssh-config` wrote one
    return result


def destroy(
    name: str, *, yes: bool = False, delete_volumes: bool = False
) -> ActionResult:
    """Destroy, after saying what goes and asking (``yes=True`` skips the question).

    Volumes that outlive their service (Northflank) are kept unless
    ``delete_volumes=True``.
    """
    if not yes:
        label, warning = _sync.run(
            lambda emit: session().preview(
                "destroy", name, delete_volumes=delete_volumes
            )
        )
        if warning and not confirm(f"{warning} Destroy {label}? [y/N] ", warning):
            return ActionResult(f"Nothing was done to {label}.", None)
    return _sync.run(lambda emit: adestroy(name, delete_volumes=delete_volumes))


def confirm(question: str, warning: str) -> bool:
    """Ask in the calling thread; where nobody can answer, refuse in one sentence."""
    try:
        answer = input(question)
    except (EOFError, RuntimeError, NotImplementedError):
        print()
        raise InputError(
            f"{warning} Nobody can answer a question here, so nothing was destroyed: "
            "add --yes (in Python, yes=True) to destroy without asking.",
            option="--yes",
        ) from None
    return answer.strip().lower() in ("y", "yes")
