"""What a guarded deployment ran across all its starts, for the kernel's limits.

The in-pod watchdog counts from the pod's last start. The kernel enforces
``--max-hours`` and ``--max-cost`` on the total across starts: it keeps, in the
store record's details, the longest uptime it saw of each start (keyed by the
provider's start time) and the $/h it saw then. Every status read, every
background check and every stop by this library adds to it.

A start may have run longer than the kernel saw (the watchdog or the provider's
console stopped it). So before this library starts a guarded RunPod pod again,
it reads the pod's billing records once (``GET /v2/billing/pods?podId=…``) and
counts the billed compute where that is more. Status rounds never read billing:
they stay one list request per provider.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._errors import ProviderError

if TYPE_CHECKING:
    from ._models import Deployment
    from ._store import Record, Store
    from .providers._base import Provider

logger = logging.getLogger("sindri_jupyter")

#: details key: {start time (ISO): {"seconds": longest uptime seen, "rate": $/h}}
RUNS = "runs"
#: details key: billed compute before a start: {"at": ISO, "seconds", "dollars"}
BILLED = "billed"
#: details key: the $/h the deploy saw, for turning billed dollars into hours
PRICE = "price"
#: the key of a run whose start time the provider does not give
UNKNOWN_START = "unknown"


@dataclass(frozen=True)
class Total:
    """Running time and dollars across starts, and how many starts were seen."""

    seconds: float
    dollars: float
    starts: int

    @property
    def hours(self) -> float:
        return self.seconds / 3600

    def __add__(self, other: Total) -> Total:
        return Total(
            self.seconds + other.seconds,
            self.dollars + other.dollars,
            self.starts + other.starts,
        )

    @property
    def across(self) -> str:
        """`` across 2 starts`` where there was more than one, else nothing."""
        return f" across {self.starts} starts" if self.starts > 1 else ""


def _running(deployment: Deployment) -> bool:
    from ._models import State

    return (
        deployment.state in (State.RUNNING, State.READY)
        and deployment.uptime_seconds is not None
    )


def _start_key(deployment: Deployment) -> str:
    started = deployment.started_at
    return started.isoformat() if started is not None else UNKNOWN_START


def _instant(text: str) -> datetime | None:
    """The time an ISO key names (UTC where it names no zone), or None."""
    try:
        found = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def _with_run(details: dict, deployment: Deployment) -> dict:
    """``details`` with what ``deployment`` shows of its current start."""
    runs = dict(details.get(RUNS) or {})
    key = _start_key(deployment)
    seen = runs.get(key) or {}
    before = float(seen.get("seconds") or 0)
    uptime = float(deployment.uptime_seconds or 0)
    seconds = max(before, uptime)
    rate = float(deployment.cost_per_hour or 0)
    # The time since the last look counts at the $/h seen now: a price change
    # moves only what comes after it.
    dollars = _dollars(seen) + (seconds - before) / 3600 * rate
    highest = max(rate, float(seen.get("highest") or 0))
    runs[key] = {"seconds": seconds, "rate": rate, "dollars": dollars}
    runs[key]["highest"] = highest
    return {**details, RUNS: runs}


def _dollars(run: dict) -> float:
    """A run's dollars; older records kept only seconds and one rate."""
    if "dollars" in run:
        return float(run["dollars"] or 0)
    return float(run.get("seconds") or 0) / 3600 * float(run.get("rate") or 0)


def observe(store: Store, record: Record, deployment: Deployment) -> dict:
    """Add this read of a guarded deployment to its record; the details after."""
    details = record.details or {}
    if not details.get("guards") or not _running(deployment):
        return details
    written = store.update_details(
        record.provider, record.launch_id, lambda now: _with_run(now, deployment)
    )
    return written if written is not None else details


def observe_by_remote(store: Store, provider: str, deployment: Deployment) -> None:
    """``observe``, for a deployment known by its remote id (before a stop)."""
    record = store.by_remote(provider, deployment.id)
    if record is not None:
        observe(store, record, deployment)


def total(details: dict, deployment: Deployment | None = None) -> Total:
    """The total so far; ``deployment`` is a fresh read of its current start."""
    if deployment is not None and _running(deployment):
        details = _with_run(details, deployment)
    runs = details.get(RUNS) or {}
    billed = details.get(BILLED) or {}
    cut = _instant(billed.get("at", ""))
    seen_before = Total(0.0, 0.0, 0)  # the starts the billing read covers
    seen_after = Total(0.0, 0.0, 0)
    for key, run in runs.items():
        seconds = float(run.get("seconds") or 0)
        one = Total(seconds, _dollars(run), 1)
        started = _instant(key)
        if cut is not None and (started is None or started < cut):
            seen_before = seen_before + one
        else:
            seen_after = seen_after + one
    if cut is not None:
        seen_before = Total(
            max(seen_before.seconds, float(billed.get("seconds") or 0)),
            max(seen_before.dollars, float(billed.get("dollars") or 0)),
            seen_before.starts,
        )
    return seen_before + seen_after


def highest_rate(details: dict, deployment: Deployment) -> float:
    """The $/h to turn billed dollars into hours: the highest ever seen.

    Dollars divided by the highest rate never count more hours than ran, so a
    price that fell never makes the kernel refuse a start it should allow.
    """
    seen = [
        max(float(run.get("highest") or 0), float(run.get("rate") or 0))
        for run in (details.get(RUNS) or {}).values()
    ]
    seen += [float(deployment.cost_per_hour or 0), float(details.get(PRICE) or 0)]
    return max(seen)


async def read_billed(
    api: Provider, details: dict, deployment: Deployment
) -> dict[str, Any] | None:
    """RunPod's billed compute for this pod so far, or None where unknown."""
    if api.name != "runpod":
        return None
    from ._cost.report import billing_records

    try:
        records = await billing_records(
            api, start=deployment.created_at, bucket="month", pod_id=deployment.id
        )
    except ProviderError as error:
        logger.info("no billing records for %s: %s", deployment.id, error)
        return None
    dollars = sum(
        float(r.get("gpuAmount") or 0) + float(r.get("cpuAmount") or 0)
        for r in records
        if r.get("podId") == deployment.id
    )
    now = api.server_time() or deployment.as_of
    if now is None:
        return None
    rate = highest_rate(details, deployment)
    seconds = dollars / rate * 3600 if rate else 0.0
    return {"at": now.isoformat(), "seconds": seconds, "dollars": dollars}


def keep_billed(store: Store, record: Record, billed: dict[str, Any]) -> dict:
    """Store a billing read; a later one replaces an earlier one."""

    def change(details: dict) -> dict:
        kept = _instant((details.get(BILLED) or {}).get("at", ""))
        if kept is not None and kept > (_instant(billed["at"]) or kept):
            return details
        return {**details, BILLED: billed}

    written = store.update_details(record.provider, record.launch_id, change)
    return written if written is not None else record.details or {}
