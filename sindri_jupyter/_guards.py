"""Guards that stop runaway deployments: ``--max-hours``, ``--max-cost``, idle.

On RunPod a limit is enforced inside the pod, so it holds when the kernel, the
laptop or the network is gone: a small watchdog (``_watchdog``) starts with the
pod's own start script (RunPod images' ``/start.sh``, so SSH and Jupyter still
start) and stops the pod with ``runpodctl``, or with the REST call where
``runpodctl`` fails. It uses the pod's own ``RUNPOD_POD_ID`` and
``RUNPOD_API_KEY``; no key is ever put in the request. The watchdog counts from
its own start, so it restarts with the pod. For an image whose start command the
library cannot know, and on Northflank, only the kernel enforces the limit, and
the user is told so.

The kernel also enforces every limit while it runs: each status read checks the
guarded deployments it sees, and a background check repeats that every
``CHECK_SECONDS`` while guarded deployments live. The kernel counts hours and
dollars across all starts (``_guard_totals``), and refuses to start again what
has already reached its limit.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import _guard_totals
from ._errors import ConflictError, InputError, LimitReachedError, NotFoundError
from ._watchdog import IDLE_PERCENT, start_command, watchdog_script

if TYPE_CHECKING:
    from ._engine import Session
    from ._models import Deployment, DeploySpec
    from .providers._base import Candidate, Provider

logger = logging.getLogger("sindri_jupyter")

#: the largest --max-hours or --max-cost taken; more is no limit at all
LIMIT_CEILING = 1_000_000
#: how often the kernel's background check looks, in wall seconds
CHECK_SECONDS = 60.0
#: images whose start script is known, by name prefix
KNOWN_START_SCRIPTS = {"runpod/": "/start.sh"}


@dataclass(frozen=True)
class Limits:
    """What the user allowed one deployment; ``None`` means no limit."""

    max_hours: float | None = None
    max_cost: float | None = None
    idle_seconds: float | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in asdict(self).values())

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def describe(self) -> str:
        parts = []
        if self.max_hours is not None:
            parts.append(f"--max-hours {self.max_hours:g}")
        if self.max_cost is not None:
            parts.append(f"--max-cost {self.max_cost:g}")
        if self.idle_seconds is not None:
            parts.append(f"--stop-when-idle {_duration(self.idle_seconds)}")
        return ", ".join(parts)

    def seconds_allowed(self, rate_per_hour: float | None) -> float | None:
        """Running seconds until the first of max-hours and max-cost is reached."""
        found = []
        if self.max_hours is not None:
            found.append(self.max_hours * 3600)
        if self.max_cost is not None and rate_per_hour:
            found.append(self.max_cost / rate_per_hour * 3600)
        return min(found) if found else None


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def check_limit(value: Any, option: str) -> float | None:
    """A positive number of hours or dollars, or None."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
        raise InputError(
            f"{option} {value!r} must be a number greater than zero.",
            option=option,
            value=value,
        )
    if number > LIMIT_CEILING:
        raise InputError(
            f"{option} {value!r} is more than {LIMIT_CEILING:,}: leave the option "
            "out for no limit.",
            option=option,
            value=value,
        )
    return number


def limits_of(spec: DeploySpec) -> Limits:
    return Limits(spec.max_hours, spec.max_cost, spec.stop_when_idle_seconds)


def start_script(image: str | None) -> str | None:
    """The image's own start script, where the library knows it."""
    for prefix, script in KNOWN_START_SCRIPTS.items():
        if (image or "").startswith(prefix):
            return script
    return None


def apply(spec: DeploySpec, candidates: list[Candidate]) -> list[str]:
    """Put the watchdog in each RunPod create body; sentences on who enforces."""
    limits = limits_of(spec)
    if not limits.any:
        return []
    said = limits.describe()
    if spec.provider != "runpod":
        return [
            (
                f"{said}: {spec.provider} has no way to stop a service from inside, so "
                "only this kernel enforces the limit, and only while it runs."
            )
        ]
    image_start = start_script(spec.image)
    if image_start is None:
        return [
            (
                f"{said}: the start command of image {spec.image!r} is unknown, so no "
                "watchdog can run in the pod without replacing it; only this kernel "
                "enforces the limit, and only while it runs."
            )
        ]
    for candidate in candidates:
        script = watchdog_script(limits, candidate.price_per_hour)
        candidate.body["args"] = start_command(script, image_start)
    return [
        (
            f"{said}: a watchdog inside the pod stops it (it keeps its volume), even "
            f"with this kernel gone; it runs before {image_start}, so SSH and Jupyter "
            "start as usual. This kernel also checks while it runs."
        )
    ]


# -- the kernel's side ---------------------------------------------------------------
@dataclass
class _Seen:
    idle_since: datetime | None = None


_idle: dict[tuple[str, str], _Seen] = {}


def verdict(
    limits: Limits,
    deployment: Deployment,
    total: _guard_totals.Total | None = None,
) -> str | None:
    """Why this deployment must stop now, or None.

    ``total`` is what it ran across its starts; without it, since its last start.
    """
    from ._models import State

    if deployment.state not in (State.RUNNING, State.READY):
        return None
    total = total or _guard_totals.total({}, deployment)
    reached = _reached(limits, total)
    if reached is None:
        return _idle_verdict(limits, deployment)
    option, limit = reached
    verb = "ran" if option == "--max-hours" else "cost"
    return f"it {verb} {_amount(option, total)}{total.across} of {option} {limit:g}"


def _reached(limits: Limits, total: _guard_totals.Total) -> tuple[str, float] | None:
    """``(option, limit)`` of the first of max-hours and max-cost the total reached."""
    if limits.max_hours is not None and total.hours >= limits.max_hours:
        return "--max-hours", limits.max_hours
    if limits.max_cost is not None and total.dollars >= limits.max_cost:
        return "--max-cost", limits.max_cost
    return None


def _amount(option: str, total: _guard_totals.Total) -> str:
    """``3.02 h`` or ``$2.01``: the total the option limits."""
    if option == "--max-hours":
        return f"{total.hours:.2f} h"
    return f"${total.dollars:.2f}"


def _idle_verdict(limits: Limits, deployment: Deployment) -> str | None:
    key = (deployment.provider, deployment.id)
    util = deployment.gpu_util
    if limits.idle_seconds is None or util is None or deployment.as_of is None:
        return None
    seen = _idle.setdefault(key, _Seen())
    if util >= IDLE_PERCENT:
        seen.idle_since = None
        return None
    seen.idle_since = seen.idle_since or deployment.as_of
    idle = (deployment.as_of - seen.idle_since).total_seconds()
    if idle >= limits.idle_seconds:
        return f"its GPU was idle for {_duration(idle)}"
    return None


async def enforce(
    session: Session, api: Provider, deployments: list[Deployment]
) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Stop every guarded deployment past its limit, counting across its starts.

    Returns ``(id, sentence, what the provider answered)`` per stop.
    """
    said = []
    records = session.store.by_remote_ids(api.name)  # one read for the round
    for deployment in deployments:
        record = records.get(deployment.id)
        if record is None or not (record.details or {}).get("guards"):
            continue
        details = _guard_totals.observe(session.store, record, deployment)
        limits = Limits(**(details.get("guards") or {}))
        why = verdict(limits, deployment, _guard_totals.total(details, deployment))
        if why is None:
            continue
        try:
            after = await api.stop(deployment.id)
        except (ConflictError, NotFoundError):
            # Stopped (or gone) since the list: the watchdog, another kernel or
            # the console acted on the same limit first. Nothing is left to do.
            logger.info("%s was stopped elsewhere first", deployment.id)
            continue
        sentence = (
            f"Stopped {deployment.ref} (id {deployment.id}): {why}. Its volume is kept."
        )
        said.append((deployment.id, sentence, after))
    return said


async def before_start(
    session: Session,
    api: Provider,
    before: Deployment,
    *,
    label: str,
    max_hours: float | None = None,
    max_cost: float | None = None,
) -> str:
    """Refuse to start what has reached a kernel limit; keep new limits.

    ``max_hours`` and ``max_cost`` replace the stored limits. Returns a sentence
    for the outcome (new limits), or "".
    """
    record = session.store.by_remote(api.name, before.id)
    if record is None:
        return ""
    stored, limits = _limits_given(record, label, max_hours, max_cost)
    if limits.max_hours is None and limits.max_cost is None:
        return ""
    details = record.details or {}
    billed = await _guard_totals.read_billed(api, details, before)
    if billed is not None:
        details = _guard_totals.keep_billed(session.store, record, billed)
    total = _guard_totals.total(details)
    reached = _reached(limits, total)
    if reached is not None:
        raise _refusal(label, before.name, total, *reached)
    return _keep_limits(session, api, before, record, stored, limits)


def replace_limits(
    session: Session,
    api: Provider,
    before: Deployment,
    *,
    label: str,
    max_hours: float | None = None,
    max_cost: float | None = None,
) -> str:
    """New kernel limits for a deployment already running; a sentence, or ""."""
    record = session.store.by_remote(api.name, before.id)
    if record is None:
        return ""
    stored, limits = _limits_given(record, label, max_hours, max_cost)
    return _keep_limits(session, api, before, record, stored, limits)


def _limits_given(
    record: Any, label: str, max_hours: float | None, max_cost: float | None
) -> tuple[Limits, Limits]:
    """``(stored limits, stored with the given ones replaced)``."""
    from ._engine import UNTAGGED

    stored = Limits(**((record.details or {}).get("guards") or {}))
    given = {"max_hours": max_hours, "max_cost": max_cost}
    if any(v is not None for v in given.values()) and record.launch_id.startswith(
        UNTAGGED
    ):
        raise InputError(
            f"{label} was not launched by this library, so no status round checks "
            "it: it cannot take kernel limits.",
            option="--max-hours" if max_hours is not None else "--max-cost",
        )
    return stored, replace(stored, **{k: v for k, v in given.items() if v is not None})


def _keep_limits(
    session: Session,
    api: Provider,
    before: Deployment,
    record: Any,
    stored: Limits,
    limits: Limits,
) -> str:
    if limits.any:
        session.guard_check().ensure_running()
    if limits == stored:
        return ""
    session.store.update_details(
        record.provider,
        record.launch_id,
        lambda now: {**now, "guards": limits.as_dict()},
    )
    said = f" Its kernel limits are now {limits.describe()}"
    if api.name == "runpod" and start_script(before.image) is not None:
        said += "; the watchdog inside the pod keeps those it was deployed with"
    return said + "."


def _refusal(
    label: str, name: str, total: _guard_totals.Total, option: str, limit: float
) -> LimitReachedError:
    amount = total.hours if option == "--max-hours" else total.dollars
    higher = math.ceil((amount + limit) * 10) / 10
    keyword = option.removeprefix("--").replace("-", "_")
    verb = "run" if option == "--max-hours" else "cost"
    return LimitReachedError(
        f"{label} has already {verb} {_amount(option, total)}{total.across} of "
        f"{option} {limit:g}, so this kernel would stop it again at once: to go on, "
        f"start it with a higher limit, e.g. `%sindri start {name} {option} "
        f"{higher:g}` (in Python, {keyword}={higher:g}).",
        option=option,
        limit=limit,
        total=amount,
    )


class BackgroundCheck:
    """Checks guarded deployments every ``CHECK_SECONDS`` while the kernel runs."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.messages: list[str] = []

    def ensure_running(self) -> None:
        self.session.last_guard_check = time.monotonic()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._loop, name="sindri-guards", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        from . import _api, _sync

        while not self._stop.wait(CHECK_SECONDS / 4):
            if _api._session is not self.session:
                return  # a newer session took over; its own check runs
            # Every status read checks too: look only after a quiet minute.
            if time.monotonic() - self.session.last_guard_check < CHECK_SECONDS:
                continue
            self.session.last_guard_check = time.monotonic()
            guarded = [
                r
                for r in self.session.store.records()
                if (r.details or {}).get("guards") and r.remote_id
            ]
            if not guarded:
                return
            try:
                self.messages += _sync.run(lambda emit, now=guarded: self._check(now))
            except Exception:  # a failed check retries next round
                logger.warning("the guard check failed; retrying", exc_info=True)

    async def _check(self, guarded: list[Any]) -> list[str]:
        said: list[str] = []
        for provider in sorted({r.provider for r in guarded}):
            async with self.session.provider(provider) as api:
                # One list request per provider, as a status round makes.
                wanted = {r.remote_id for r in guarded if r.provider == provider}
                found = [
                    deployment
                    for remote in await api.list_tagged()
                    if (deployment := to_deployment(api, remote)).id in wanted
                ]
                stopped = await enforce(self.session, api, found)
                said += [sentence for _, sentence, _ in stopped]
        return said


def to_deployment(api: Provider, remote: dict[str, Any]) -> Deployment:
    """The deployment, with its busiest GPU's utilisation where the runtime says."""
    deployment = api.to_deployment(remote, now=api.server_time())
    gpus = ((remote.get("runtime") or {}).get("gpus")) or []
    utils = [g.get("util") for g in gpus if isinstance(g, dict)]
    if utils and all(isinstance(u, int | float) for u in utils):
        deployment = deployment.model_copy(update={"gpu_util": max(utils)})
    return deployment
