"""Text and HTML views of the GPU table and the cost report.

Every price shows the time it is from; every estimate says it is one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._display import duration, escape, html_table, money, text_table

if TYPE_CHECKING:
    from .gpus import GpuTable
    from .report import CostReport


# -- GPUs ---------------------------------------------------------------------------
_GPU_COLUMNS = ("provider", "id", "memory", "$/h", "GPUs", "stock")


def _gpu_rows(found: GpuTable) -> list[tuple[str, ...]]:
    cloud, count = found.filters.cloud, found.filters.count
    rows = []
    for offer in found.offers:
        price = offer.price(cloud)
        counts = offer.count_options or (
            [1, offer.max_count] if offer.max_count else []
        )
        rows.append(
            (
                offer.provider,
                offer.id,
                f"{offer.memory_gb:g} GB" if offer.memory_gb else "-",
                money(price * count if price is not None else None),
                "-".join(str(c) for c in counts) if counts else "-",
                (offer.stock or ("regions: " + ", ".join(offer.regions or []))).lower(),
            )
        )
    return rows


def _gpu_caption(found: GpuTable) -> str:
    count = found.filters.count
    per = f"$/h for {count} GPUs" if count > 1 else "$/h per GPU"
    return f"{per}, {found.filters.cloud.lower()} cloud where it applies. " + " ".join(
        found.labels()
    )


def gpu_table_text(found: GpuTable) -> str:
    if not found.offers:
        return "No GPU offer matches. " + " ".join(found.labels())
    return text_table(_GPU_COLUMNS, _gpu_rows(found)) + "\n" + _gpu_caption(found)


def gpu_table_html(found: GpuTable) -> str:
    if not found.offers:
        return f"<p>{escape(gpu_table_text(found))}</p>"
    table = html_table(_GPU_COLUMNS, _gpu_rows(found))
    return table + f"<p>{escape(_gpu_caption(found))}</p>"


# -- the cost report ----------------------------------------------------------------
_NOW_COLUMNS = ("name", "provider", "state", "$/h", "since start (est.)", "billed")


def _now_rows(report: CostReport) -> list[tuple[str, ...]]:
    rows = []
    for deployment in report.running:
        billed = report.billed.get(deployment.id)
        rows.append(
            (
                deployment.name,
                deployment.provider,
                deployment.state.value,
                money(deployment.cost_per_hour),
                money(deployment.spent)
                + (f" in {duration(deployment.uptime_seconds)}"
                   if deployment.uptime_seconds is not None else ""),
                money(billed.total) if billed else "-",
            )
        )  # fmt: skip
    return rows


_PERIOD_COLUMNS = ("name", "provider", "compute", "disk", "total", "from", "id")


def _period_rows(report: CostReport) -> list[tuple[str, ...]]:
    return [
        (
            spend.name,
            spend.provider,
            money(spend.compute),
            money(spend.disk),
            money(spend.total),
            "billing records" if spend.source == "billing" else "estimate",
            spend.id,
        )
        for spend in report.period or []
    ]


def _sentences(report: CostReport) -> list[str]:
    when = report.as_of.strftime("%Y-%m-%d %H:%M UTC") if report.as_of else "now"
    running = report.running
    lines = [
        f"As of {when}: {len(running)} running, burn rate "
        f'{money(report.burn_rate, "/h")}; "since start" is an estimate ($/h × '
        'time since the last start), "billed" is RunPod\'s charge records '
        "(compute and disk, last 30 days)."
    ]
    for deployment, monthly in report.stopped_storage():
        lines.append(
            f"{deployment.ref} is stopped; its volume still bills "
            f"{money(monthly, '/month')}."
        )
    if report.period is not None and report.since is not None:
        since = report.since.strftime("%Y-%m-%d %H:%M UTC")
        totals = ", ".join(
            f"{provider} {money(total)}"
            for provider, total in sorted(report.by_provider().items())
        )
        lines.append(f"Spent since {since}: {totals or 'nothing'}.")
    return lines + report.notes


def report_text(report: CostReport) -> str:
    parts = []
    rows = _now_rows(report)
    parts.append(text_table(_NOW_COLUMNS, rows) if rows else "Nothing is running.")
    if report.period is not None:
        period = _period_rows(report)
        parts.append(
            text_table(_PERIOD_COLUMNS, period) if period else "No spend recorded."
        )
    return "\n".join(parts + _sentences(report))


def report_html(report: CostReport) -> str:
    parts = []
    rows = _now_rows(report)
    parts.append(
        html_table(_NOW_COLUMNS, rows) if rows else "<p>Nothing is running.</p>"
    )
    if report.period is not None:
        period = _period_rows(report)
        parts.append(
            html_table(_PERIOD_COLUMNS, period)
            if period
            else "<p>No spend recorded.</p>"
        )
    parts += [f"<p>{escape(line)}</p>" for line in _sentences(report)]
    return "".join(parts)


# -- the reminder --------------------------------------------------------------------
def reminder_line(deployments: list) -> str | None:
    """One line on what is running and billing, or None when nothing is."""
    from .._models import State

    live = (State.PENDING, State.RUNNING, State.READY)
    running = [d for d in deployments if d.state in live]
    if not running:
        return None
    rate = sum(d.cost_per_hour for d in running)
    spent = sum(d.spent or 0.0 for d in running)
    noun = "deployment is" if len(running) == 1 else "deployments are"
    names = ", ".join(d.ref for d in running[:3]) + (", …" if len(running) > 3 else "")
    return (
        f"Reminder: {len(running)} {noun} running ({names}): "
        f"{money(rate, '/h')}, {money(spent)} so far (estimate)."
    )
