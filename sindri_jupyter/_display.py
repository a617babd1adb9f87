"""HTML and plain-text views of deployments, tables and plans.

Every view has a text/plain twin that still reads well in a notebook saved and
opened without a kernel. Everything shown goes through :func:`mask`; only
``show_secrets`` lets the Jupyter token through, never an API key.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

from ._models import Connection, Deployment, DeployPlan, GpuOffer, Progress, State
from ._redact import mask, masked_env

_BADGE = {
    State.PENDING: "#b7791f",
    State.RUNNING: "#2b6cb0",
    State.READY: "#2f855a",
    State.STOPPED: "#4a5568",
    State.FAILED: "#c53030",
    State.GONE: "#718096",
}
_CELL = "padding:2px 8px;text-align:left;"


def money(value: float | None, suffix: str = "") -> str:
    if value is None:
        return "-"
    return f"${value:,.2f}{suffix}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def gpu_text(deployment: Deployment) -> str:
    if not deployment.gpu:
        return "-"
    return (
        f"{deployment.gpu} × {deployment.gpu_count}"
        if deployment.gpu_count
        else deployment.gpu
    )


def badge(state: State) -> str:
    colour = _BADGE[state]
    return (
        f'<span style="background:{colour};color:white;border-radius:4px;'
        f'padding:1px 6px;font-size:90%">{state.value}</span>'
    )


def escape(text: object) -> str:
    """HTML-escaped and masked."""
    return html.escape(mask(str(text)))


_e = escape


# -- connection -------------------------------------------------------------------
def connection_lines(
    connection: Connection | None, *, show_secrets: bool = False
) -> list[tuple[str, str]]:
    if connection is None:
        return []
    lines: list[tuple[str, str]] = []
    if connection.ssh_direct:
        lines.append(("SSH", connection.ssh_direct))
    if connection.ssh_proxy:
        lines.append(("SSH via proxy (shell only)", connection.ssh_proxy))
    if connection.jupyter_url:
        url = connection.jupyter_url
        lines.append(("Jupyter", url if show_secrets else mask(url)))
    for port, url in sorted(connection.http.items(), key=lambda kv: int(kv[0])):
        lines.append((f"HTTP {port}", url))
    for port, address in sorted(connection.tcp.items(), key=lambda kv: int(kv[0])):
        lines.append((f"TCP {port}", address))
    if connection.shell:
        lines.append(("Shell", connection.shell))
    if connection.port_forward:
        lines.append(("Port-forward", connection.port_forward))
    for note in connection.notes:
        lines.append(("Note", note))
    return [
        (label, value if label == "Jupyter" else mask(value)) for label, value in lines
    ]


# -- one deployment ------------------------------------------------------------------
def _facts(deployment: Deployment) -> list[tuple[str, str]]:
    facts = [
        (
            "State",
            deployment.state.value
            + (f" ({deployment.detail})" if deployment.detail else ""),
        ),
        ("GPU", gpu_text(deployment)),
        ("Cost", money(deployment.cost_per_hour, "/h")),
    ]
    if deployment.spent is not None:
        facts.append(
            ("So far", money(deployment.spent) + " (estimate, since last start)")
        )
    if deployment.uptime_seconds is not None:
        facts.append(("Uptime", duration(deployment.uptime_seconds)))
    if deployment.storage:
        facts.append(("Storage", deployment.storage))
    return facts


def deployment_text(deployment: Deployment, *, show_secrets: bool = False) -> str:
    head = f"{deployment.name} · {deployment.provider} · id {deployment.id}"
    rows = _facts(deployment) + connection_lines(
        deployment.connection, show_secrets=show_secrets
    )
    width = max((len(label) for label, _ in rows), default=0)
    body = "\n".join(f"  {label.ljust(width)}  {value}" for label, value in rows)
    return mask(head) + "\n" + body


def deployment_html(deployment: Deployment, *, show_secrets: bool = False) -> str:
    head = (
        f"<b>{_e(deployment.name)}</b> · {_e(deployment.provider)} · "
        f"<code>{_e(deployment.id)}</code> {badge(deployment.state)}"
    )
    rows = "".join(
        f'<tr><th style="{_CELL}">{_e(label)}</th><td style="{_CELL}">{_e(value)}</td></tr>'
        for label, value in _facts(deployment)
    )
    for label, value in connection_lines(
        deployment.connection, show_secrets=show_secrets
    ):
        shown = html.escape(value) if label == "Jupyter" else _e(value)
        rows += (
            f'<tr><th style="{_CELL}">{_e(label)}</th>'
            f'<td style="{_CELL}"><code>{shown}</code></td></tr>'
        )
    return f'<div class="sindri-deployment">{head}<table>{rows}</table></div>'


# -- tables --------------------------------------------------------------------------
_STATUS_COLUMNS = (
    "name",
    "provider",
    "state",
    "GPU",
    "$/h",
    "$ so far",
    "uptime",
    "id",
)


def _status_row(deployment: Deployment) -> tuple[str, ...]:
    # A name with a mark: the summary below the table says what the mark means.
    mark = "" if deployment.in_store else " (not in this store)"
    return (
        deployment.name + mark,
        deployment.provider,
        deployment.state.value,
        gpu_text(deployment),
        money(deployment.cost_per_hour),
        money(deployment.spent),
        duration(deployment.uptime_seconds),
        deployment.id,
    )


def text_table(columns: Iterable[str], rows: list[tuple[str, ...]]) -> str:
    columns = tuple(columns)
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(str(v))) for w, v in zip(widths, row, strict=True)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line.rstrip()]
    for row in rows:
        out.append(
            "  ".join(
                str(v).ljust(w) for v, w in zip(row, widths, strict=True)
            ).rstrip()
        )
    return mask("\n".join(out))


def html_table(
    columns: Iterable[str], rows: list[tuple[str, ...]], badges: int | None = None
) -> str:
    head = "".join(f'<th style="{_CELL}">{_e(c)}</th>' for c in columns)
    body = ""
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            inner = badge(State(value)) if index == badges else _e(value)
            cells.append(f'<td style="{_CELL}">{inner}</td>')
        body += "<tr>" + "".join(cells) + "</tr>"
    return f'<table class="sindri-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _status_summary(deployments: list[Deployment], everything: bool) -> str:
    running = [
        d for d in deployments if d.state in (State.RUNNING, State.READY, State.PENDING)
    ]
    rate = sum(d.cost_per_hour for d in running)
    spent = sum(d.spent or 0.0 for d in running)
    said = (
        f"{len(running)} of {len(deployments)} billing compute (pending, running or "
        f"ready); burn rate {money(rate, '/h')}, {money(spent)} so far (estimates)."
    )
    for deployment in deployments:
        if deployment.detail == "its launch tag is gone":
            said += (
                f"\n{deployment.ref} (id {deployment.id}) is still there but its "
                "launch tag is gone: it is still tracked; `%sindri destroy "
                f"{deployment.id}` removes it."
            )
    strangers = [d for d in deployments if not d.in_store]
    if strangers and everything:
        said += "\n" + "\n".join(offer_line(d) for d in strangers)
    elif strangers:
        which = ", ".join(f"{d.ref} (id {d.id})" for d in strangers)
        said += (
            f"\nNot in this store, but carrying this library's tag (started on "
            f"another machine, or the store was lost): {which}. "
            "`%sindri status --all` offers to adopt or destroy each."
        )
    return said


def offer_line(deployment: Deployment) -> str:
    """What can be done with a tagged deployment this store does not know."""
    return (
        f"Not in this store: {deployment.ref} (id {deployment.id}, "
        f"{deployment.state.value}, {money(deployment.cost_per_hour, '/h')}). "
        f"`%sindri adopt {deployment.provider}:{deployment.id}` tracks it here; "
        f"`%sindri destroy {deployment.provider}:{deployment.id}` deletes it."
    )


def status_text(deployments: list[Deployment], *, everything: bool = False) -> str:
    if not deployments:
        return "No deployments." + (
            " Every place was searched for tagged ones." if everything else ""
        )
    table = text_table(_STATUS_COLUMNS, [_status_row(d) for d in deployments])
    return table + "\n" + _status_summary(deployments, everything)


def status_html(deployments: list[Deployment], *, everything: bool = False) -> str:
    if not deployments:
        return f"<p>{_e(status_text(deployments, everything=everything))}</p>"
    table = html_table(_STATUS_COLUMNS, [_status_row(d) for d in deployments], badges=2)
    lines = _status_summary(deployments, everything).split("\n")
    return table + "".join(f"<p>{_e(line)}</p>" for line in lines)


_GPU_COLUMNS = ("id", "memory", "$/h secure", "$/h community", "stock")


def _gpu_row(offer: GpuOffer) -> tuple[str, ...]:
    memory = f"{offer.memory_gb:g} GB" if offer.memory_gb else "-"
    return (
        offer.id,
        memory,
        money(offer.price_secure),
        money(offer.price_community),
        (offer.stock or "-").lower(),
    )


# Where a provider lists regions per GPU type (Northflank), they replace stock.
_GPU_REGION_COLUMNS = ("id", "memory", "$/GPU-hour", "counts", "regions")


def _gpu_region_row(offer: GpuOffer) -> tuple[str, ...]:
    memory = f"{offer.memory_gb:g} GB" if offer.memory_gb else "-"
    counts = ", ".join(str(c) for c in offer.count_options or []) or "-"
    return (
        offer.id,
        memory,
        money(offer.price_secure),
        counts,
        ", ".join(offer.regions or []),
    )


def _gpu_table(offers: list[GpuOffer]) -> tuple[tuple[str, ...], list[tuple]]:
    if offers and all(o.regions is not None for o in offers):
        return _GPU_REGION_COLUMNS, [_gpu_region_row(o) for o in offers]
    return _GPU_COLUMNS, [_gpu_row(o) for o in offers]


def gpus_text(offers: list[GpuOffer]) -> str:
    return text_table(*_gpu_table(offers))


def gpus_html(offers: list[GpuOffer]) -> str:
    return html_table(*_gpu_table(offers))


# -- plans and progress -------------------------------------------------------------
def plan_text(plan: DeployPlan) -> str:
    body = dict(plan.candidates[0]) if plan.candidates else {}
    if "env" in body:
        body["env"] = masked_env(body["env"])
    if "runtimeEnvironment" in body:
        body["runtimeEnvironment"] = masked_env(body["runtimeEnvironment"])
    price = money(plan.price_per_hour, "/h")
    lines = [
        f"Dry run: nothing was created. {plan.provider}:{plan.name} would cost {price} "
        f"({plan.gpu_id} × {plan.gpu_count}, {plan.cloud}).",
        *plan.notes,
        "Request body:",
        json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False),
    ]
    for extra in plan.candidates[1:]:
        gpu = extra.get("gpu", {}).get("id", "?")
        where = ", ".join(extra.get("dataCenterIds", [])) or "any data center"
        lines.append(f"If that has no capacity, next: {gpu} in {where}.")
    return mask("\n".join(lines))


def progress_line(progress: Progress) -> str:
    clock = (
        f"[{duration(progress.elapsed_seconds)}] "
        if progress.elapsed_seconds is not None
        else ""
    )
    return mask(clock + progress.message)
