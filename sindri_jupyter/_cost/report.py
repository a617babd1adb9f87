"""Money spent so far: burn rates now, and spend over a period, per deployment.

Figures come from the providers' own numbers. RunPod: the pod's ``cost`` ($/h)
× running time since its last start (an estimate), and ``GET /v2/billing/pods``
for what was charged (compute and disk, per pod). Northflank: the plan and GPU
prices × running time, always labelled an estimate (its billing API needs a
token with billing rights, which a notebook token rarely has).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._models import Deployment, State

if TYPE_CHECKING:
    from .._engine import Session
    from ..providers._base import Provider

#: RunPod's published storage rates (reference §13), USD per GB-month of 730 h
HOURS_PER_MONTH = 730
STOPPED_VOLUME_PER_GB_MONTH = 0.20
BILLING_DEFAULT_DAYS = 30


@dataclass
class Spend:
    """What one deployment cost over a period, and where the figure came from."""

    provider: str
    name: str
    id: str
    compute: float = 0.0
    disk: float = 0.0
    #: "billing" (the provider's charge records) or "estimate"
    source: str = "billing"

    @property
    def total(self) -> float:
        return self.compute + self.disk


@dataclass
class CostReport:
    """Running now, with burn rates; and, with ``since``, spend over the period."""

    deployments: list[Deployment]
    #: charged so far per deployment id (RunPod billing, last 30 days)
    billed: dict[str, Spend] = field(default_factory=dict)
    period: list[Spend] | None = None
    since: datetime | None = None
    as_of: datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def running(self) -> list[Deployment]:
        live = (State.PENDING, State.RUNNING, State.READY)
        return [d for d in self.deployments if d.state in live]

    @property
    def burn_rate(self) -> float:
        return sum(d.cost_per_hour for d in self.running)

    def stopped_storage(self) -> list[tuple[Deployment, float]]:
        """Stopped deployments whose volume still bills: ``$ per month``."""
        found = []
        for deployment in self.deployments:
            if deployment.state is State.STOPPED and deployment.provider == "runpod":
                size = _volume_size(deployment)
                if size:
                    found.append((deployment, size * STOPPED_VOLUME_PER_GB_MONTH))
        return found

    def by_provider(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for spend in self.period or []:
            totals[spend.provider] = totals.get(spend.provider, 0.0) + spend.total
        return totals

    def _repr_html_(self) -> str:
        from .views import report_html

        return report_html(self)

    def __str__(self) -> str:
        from .views import report_text

        return report_text(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def _volume_size(deployment: Deployment) -> int:
    storage = deployment.storage or ""
    head = storage.split(" GB volume", 1)[0]
    return int(head) if head.isdigit() else 0


async def build(
    session: Session, provider: str | None = None, since_seconds: float | None = None
) -> CostReport:
    """The cost report: one list per provider, and RunPod's billing records."""
    deployments = await session.status(provider)
    report = CostReport(deployments=deployments)
    names = [provider] if provider else session.configured()
    for name in names:
        async with session.provider(name) as api:
            now = session.server_now.get(name) or datetime.now(UTC)
            report.as_of = max(report.as_of or now, now)
            mine = [d for d in deployments if d.provider == name]
            if name == "runpod":
                known = session.store.records(name, live_only=False)
                names = {r.remote_id: r.name for r in known if r.remote_id}
                names.update({d.id: d.name for d in mine})
                await _runpod_billing(api, report, names, now, since_seconds)
            elif since_seconds is not None:
                _estimated_period(report, mine, name)
    if since_seconds is not None and report.as_of is not None:
        report.since = report.as_of - timedelta(seconds=since_seconds)
    return report


async def billing_records(
    api: Provider,
    *,
    start: datetime | None = None,
    bucket: str = "day",
    pod_id: str | None = None,
) -> list[dict[str, Any]]:
    """RunPod's per-pod charge records (``GET /v2/billing/pods``), of one pod or all."""
    params = {"bucketSize": bucket}
    if start is not None:
        params["startTime"] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if pod_id is not None:
        params["podId"] = pod_id
    reply = await api.api.call(  # type: ignore[attr-defined]
        "GET", "/v2/billing/pods", params=params, safe_to_repeat=True
    )
    records = (reply.data or {}).get("records") or []
    return [r for r in records if isinstance(r, dict)]


def _sum_by_pod(
    records: list[dict[str, Any]], names: dict[str, str]
) -> dict[str, Spend]:
    found: dict[str, Spend] = {}
    for record in records:
        pod = str(record.get("podId") or "")
        spend = found.setdefault(
            pod, Spend("runpod", names.get(pod, "(not by this library)"), pod)
        )
        spend.compute += float(record.get("gpuAmount") or 0) + float(
            record.get("cpuAmount") or 0
        )
        spend.disk += float(record.get("diskAmount") or 0)
    return found


async def _runpod_billing(
    api: Provider,
    report: CostReport,
    names: dict[str, str],
    now: datetime,
    since_seconds: float | None,
) -> None:
    start = now - timedelta(seconds=since_seconds) if since_seconds else None
    spends = _sum_by_pod(await billing_records(api, start=start), names)
    report.billed.update({pod: s for pod, s in spends.items() if pod in names})
    if since_seconds is not None:
        report.period = (report.period or []) + sorted(
            spends.values(), key=lambda s: (-s.total, s.name)
        )


def _estimated_period(report: CostReport, mine: list[Deployment], name: str) -> None:
    spends = [
        Spend(name, d.name, d.id, compute=d.spent or 0.0, source="estimate")
        for d in mine
        if d.spent
    ]
    report.period = (report.period or []) + spends
    report.notes.append(
        f"{name}: spend is an estimate (plan and GPU prices × running time since "
        "the last start); its billing records need a token with billing rights."
    )
