"""The deployments table: one row per deployment of every provider.

Rows keep their widgets across status rounds (values change in place). Between
rounds, the ``$ so far`` and uptime of a running deployment tick forward from
the last read at its $/h; the next round replaces them with the provider's.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

from .. import _display
from .._models import Deployment, State
from ._bits import escape
from ._poller import Snapshot

COLUMNS = (
    ("name", "150px"),
    ("provider", "90px"),
    ("state", "80px"),
    ("GPU", "230px"),
    ("$/h", "70px"),
    ("$ so far", "80px"),
    ("uptime", "80px"),
)
_BUTTON = widgets.Layout(width="80px")
_BILLING = (State.PENDING, State.RUNNING, State.READY)


def key_of(deployment: Deployment) -> str:
    return f"{deployment.provider}:{deployment.id}"


class Row:
    """One deployment's cells, its buttons and a detail area below them."""

    def __init__(self, deployment: Deployment, actions: RowActions):
        self.deployment = deployment
        self.read_at = 0.0
        self.touched = 0.0
        self.cells = {
            name: widgets.HTML(layout=widgets.Layout(width=width))
            for name, width in COLUMNS
        }
        self.connect = widgets.Button(description="Connect", layout=_BUTTON)
        self.power = widgets.Button(description="Stop", layout=_BUTTON)
        self.destroy = widgets.Button(
            description="Destroy", button_style="danger", layout=_BUTTON
        )
        self.logs = widgets.Button(description="Logs", layout=_BUTTON)
        # Shown only for a tagged deployment this store does not know.
        self.adopt = widgets.Button(
            description="Adopt",
            tooltip="track it in this store",
            layout=widgets.Layout(width="80px", display="none"),
        )
        self.detail = widgets.VBox(layout=widgets.Layout(margin="0 0 0 20px"))
        self.box = widgets.VBox(
            [
                widgets.HBox(
                    [*self.cells.values(), self.connect, self.power, self.destroy]
                    + [self.logs, self.adopt]
                ),
                self.detail,
            ]
        )
        self.box.add_class("sindri-row")
        self.connect.on_click(lambda _: actions.connect(self))
        self.power.on_click(lambda _: actions.power(self))
        self.destroy.on_click(lambda _: actions.ask_destroy(self))
        self.logs.on_click(lambda _: actions.toggle_logs(self))
        self.adopt.on_click(lambda _: actions.adopt(self))

    @property
    def key(self) -> str:
        return key_of(self.deployment)

    @property
    def name(self) -> str:
        return self.deployment.name

    def show(self, deployment: Deployment, read_at: float, now: float) -> None:
        self.deployment = deployment
        self.read_at = read_at
        self.touched = now
        cells = self.cells
        cells["name"].value = f"<b>{escape(deployment.name)}</b>" + (
            "" if deployment.in_store else " <i>(not in this store)</i>"
        )
        self.adopt.layout.display = "none" if deployment.in_store else None
        cells["provider"].value = escape(deployment.provider)
        cells["state"].value = _display.badge(deployment.state)
        cells["state"].tooltip = deployment.detail or deployment.state.value
        cells["GPU"].value = escape(_display.gpu_text(deployment))
        cells["$/h"].value = _display.money(deployment.cost_per_hour)
        self.tick(now)
        state = deployment.state
        self.power.description = "Start" if state is State.STOPPED else "Stop"
        self.power.disabled = state in (State.PENDING, State.FAILED, State.GONE)
        self.connect.disabled = state is State.GONE
        self.destroy.disabled = state is State.GONE
        self.logs.disabled = state is State.GONE

    def tick(self, now: float) -> None:
        spent, uptime = self.ticked(now)
        self.cells["$ so far"].value = _display.money(spent)
        self.cells["uptime"].value = _display.duration(uptime)

    def ticked(self, now: float) -> tuple[float | None, float | None]:
        """``$ so far`` and uptime moved on from the last read, at the row's $/h."""
        deployment = self.deployment
        spent, uptime = deployment.spent, deployment.uptime_seconds
        if deployment.state in _BILLING and uptime is not None:
            extra = max(0.0, now - self.read_at)
            uptime += extra
            spent = (spent or 0.0) + deployment.cost_per_hour * extra / 3600
        return spent, uptime


class RowActions:
    """What the row buttons call; the panel implements it."""

    connect: Callable[[Row], None]
    power: Callable[[Row], None]
    ask_destroy: Callable[[Row], None]
    toggle_logs: Callable[[Row], None]
    adopt: Callable[[Row], None]


class Table:
    """The header, the rows, and a line for when there are none."""

    def __init__(self, actions: RowActions):
        self._actions = actions
        self.rows: dict[str, Row] = {}
        header = widgets.HBox(
            [
                widgets.HTML(f"<b>{name}</b>", layout=widgets.Layout(width=width))
                for name, width in COLUMNS
            ]
        )
        self.empty = widgets.HTML("<i>No deployments.</i>")
        self.body = widgets.VBox()
        self.box = widgets.VBox([header, self.body, self.empty])

    def take(self, snapshot: Snapshot) -> None:
        """A status round: its rows replace the table's, except rows changed since."""
        seen = set()
        for deployment in snapshot.deployments:
            seen.add(key_of(deployment))
            self.upsert(deployment, snapshot.read_at, snapshot.read_at)
        for key, row in list(self.rows.items()):
            if key not in seen and row.touched < snapshot.started:
                self.remove(key)
        self._arrange()

    def upsert(self, deployment: Deployment, read_at: float, now: float) -> Row:
        key = key_of(deployment)
        row = self.rows.get(key)
        if row is None:
            row = Row(deployment, self._actions)
            self.rows[key] = row
            self._arrange()
        row.show(deployment, read_at, now)
        return row

    def remove(self, key: str) -> None:
        row = self.rows.pop(key, None)
        if row is not None:
            self._arrange()

    def tick(self, now: float) -> None:
        for row in list(self.rows.values()):
            row.tick(now)

    def deployments(self) -> list[Deployment]:
        return [row.deployment for row in self.rows.values()]

    def _arrange(self) -> None:
        boxes = tuple(row.box for row in self.rows.values())
        if self.body.children != boxes:
            self.body.children = boxes
        self.empty.layout.display = "none" if self.rows else None
