"""The panel: the deploy form over the deployments table, and one message line.

Clicks run on the main thread and only start work; the work (deploys, actions,
catalog and log reads) runs on the kernel's panel loop (see ``_hub``) and
reports by setting widget values. Every failure a user can expect ends as one
sentence on the panel's message line.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
import uuid
from collections.abc import Coroutine
from typing import Any

import ipywidgets as widgets

from .. import _display
from .._errors import SindriError
from .._models import Deployment, DeploySpec, Progress
from .._redact import mask
from . import _hub
from ._bits import copy_line, escape, sentence
from ._form import DeployForm
from ._logs import LogView
from ._poller import Snapshot
from ._table import Row, Table

logger = logging.getLogger("sindri_jupyter")

FIRST_ROUND_SECONDS = 10.0
_TITLE = (
    "<b>sindri</b> · deploy, watch and manage cloud GPUs "
    '<span style="color:#718096">({providers})</span>'
)


def _session() -> Any:
    from .._api import session

    return session()


class Panel(widgets.VBox):
    """Deploy, watch and manage GPUs by clicking; ``%sindri panel`` shows one.

    Every panel of a kernel shares one status poller: rounds come every
    ``changing_seconds`` while a deployment is changing and every
    ``steady_seconds`` once all are settled (the last panel's values win).
    Closing the last panel stops the poller.
    """

    def __init__(
        self,
        *,
        changing_seconds: float | None = None,
        steady_seconds: float | None = None,
    ):
        from ..providers import available

        providers = available()
        self.title = widgets.HTML(_TITLE.format(providers=", ".join(providers)))
        self.close_button = widgets.Button(
            description="Close panel", layout=widgets.Layout(width="110px")
        )
        self.message = widgets.HTML()
        self.progress = widgets.HTML()
        self.round_status = widgets.HTML()
        self.form = DeployForm(
            providers, load_catalog=self._load_catalog, on_deploy=self._deploy
        )
        self.table = Table(self)
        super().__init__(
            [
                widgets.HBox([self.title, self.close_button]),
                self.form.box,
                self.progress,
                self.message,
                self.table.box,
                self.round_status,
            ]
        )
        self.add_class("sindri-panel")
        self.close_button.on_click(lambda _: self.close())
        self._said = ""
        self._pending: set[concurrent.futures.Future] = set()
        self._lock = threading.Lock()
        self._logs: dict[str, tuple[LogView, concurrent.futures.Future]] = {}
        self._first_round = threading.Event()
        self._display_id = uuid.uuid4().hex
        self._displayed = False
        self._shown_text = ""
        self._closed = False
        self._shell = _shell()
        if self._shell is not None:
            self._shell.events.register("post_execute", self._refresh_display)
        self.hub = _hub.attach(self)
        if changing_seconds is not None:
            self.hub.poller.changing_seconds = changing_seconds
        if steady_seconds is not None:
            self.hub.poller.steady_seconds = steady_seconds
        # Open on a filled table and GPU picker, unless the providers are slow.
        self.form.reload()
        self._first_round.wait(FIRST_ROUND_SECONDS)
        try:
            self.wait(FIRST_ROUND_SECONDS)
        except TimeoutError:
            pass

    # -- what the hub calls (on the panel loop) ----------------------------------------
    def take(self, snapshot: Snapshot) -> None:
        self.table.take(snapshot)
        self.round_status.value = (
            sentence(snapshot.error, error=True) if snapshot.error else ""
        )
        self._first_round.set()

    def tick(self, now: float) -> None:
        self.table.tick(now)

    # -- running work ------------------------------------------------------------------
    def _run(self, work: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        future = self.hub.submit(self._guarded(work))
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: concurrent.futures.Future) -> None:
        with self._lock:
            self._pending.discard(future)

    async def _guarded(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except SindriError as failure:
            self._say(str(failure), error=True)
        except asyncio.CancelledError:
            raise
        except Exception as bug:
            logger.exception("a panel action failed")
            self._say(f"Unexpected error ({type(bug).__name__}): {bug}", error=True)

    def wait(self, timeout: float = 120.0) -> None:
        """Block until the work this panel started has finished (for scripts)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = set(self._pending)
            if not pending:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"The panel was still busy after {timeout:g} s.")
            concurrent.futures.wait(pending, timeout=left)

    def _say(self, text: str, *, error: bool = False) -> None:
        self._said = mask(text)
        self.message.value = sentence(text, error=error)

    async def _round(self) -> None:
        await self.hub.poller.round()

    # -- the form ------------------------------------------------------------------------
    def _load_catalog(self, provider: str, cloud: str) -> None:
        async def load() -> None:
            try:
                offers = await _session().gpus(provider, cloud=cloud)
            except SindriError as failure:
                self.form.catalog_failed(str(failure))
                return
            self.form.set_offers(provider, cloud, offers)

        self._run(load())

    def _deploy(self, spec: DeploySpec) -> None:
        from .._deploy import deploy

        self.form.deploy.disabled = True
        self._say("")
        self.progress.value = sentence(f"Deploying {spec.provider}:{spec.name}…")

        def report(progress: Progress) -> None:
            self.progress.value = sentence(_display.progress_line(progress))
            if progress.deployment is not None:
                now = time.monotonic()
                self.table.upsert(progress.deployment, now, now)

        async def work() -> None:
            try:
                deployment = await deploy(_session(), spec, report)
                now = time.monotonic()
                self.table.upsert(deployment, now, now)
                self.progress.value = ""
                self._say(
                    f"{deployment.ref} is {deployment.state.value} at "
                    f"{_display.money(deployment.cost_per_hour, '/h')}."
                )
            finally:
                self.progress.value = ""
                self.form.check()
                await self._round()

        self._run(work())

    # -- the row buttons (RowActions) ------------------------------------------------------
    def connect(self, row: Row) -> None:
        if getattr(row, "showing", None) == "connect":
            self._clear_detail(row)
            return
        view = widgets.HTML(sentence("Reading the connection details…"))
        self._show_detail(row, "connect", view)
        reference = row.key

        async def work() -> None:
            deployment = await _session().describe(reference)
            view.value = _connection_html(deployment)

        self._run(work())

    def power(self, row: Row) -> None:
        from .._models import State

        action = "start" if row.deployment.state is State.STOPPED else "stop"
        reference = row.key
        row.power.disabled = True

        def report(progress: Progress) -> None:
            self.progress.value = sentence(_display.progress_line(progress))
            if progress.deployment is not None:
                now = time.monotonic()
                self.table.upsert(progress.deployment, now, now)

        async def work() -> None:
            try:
                after, said = await _session().act(
                    action, reference, wait=action == "start", report=report
                )
                if after is not None:
                    now = time.monotonic()
                    self.table.upsert(after, now, now)
                self._say(said)
            finally:
                self.progress.value = ""
                row.power.disabled = False
                await self._round()

        self._run(work())

    def adopt(self, row: Row) -> None:
        reference = row.key
        row.adopt.disabled = True

        async def work() -> None:
            try:
                self._say(await _session().adopt(reference))
            finally:
                row.adopt.disabled = False
                await self._round()

        self._run(work())

    def ask_destroy(self, row: Row) -> None:
        """The first click only asks; nothing is sent until Confirm."""
        question = widgets.HTML(sentence("Reading what a destroy deletes…"))
        confirm = widgets.Button(
            description="Confirm destroy", button_style="danger", disabled=True
        )
        cancel = widgets.Button(description="Cancel")
        row.confirm, row.cancel = confirm, cancel  # type: ignore[attr-defined]
        self._show_detail(
            row, "destroy", widgets.VBox([question, widgets.HBox([confirm, cancel])])
        )
        reference = row.key

        async def preview() -> None:
            label, warning = await _session().preview("destroy", reference)
            question.value = sentence(f"{warning or ''} Destroy {label}?".strip())
            confirm.disabled = False

        def destroy(_: Any) -> None:
            confirm.disabled = cancel.disabled = True
            self._run(self._destroy(row, reference))

        def keep(_: Any) -> None:
            self._clear_detail(row)
            self._say(f"Nothing was done to {row.deployment.ref}.")

        confirm.on_click(destroy)
        cancel.on_click(keep)
        self._run(preview())

    async def _destroy(self, row: Row, reference: str) -> None:
        try:
            _, said = await _session().act("destroy", reference)
            self._stop_logs(row.key)
            self.table.remove(row.key)
            self._say(said)
        finally:
            await self._round()

    def toggle_logs(self, row: Row) -> None:
        if getattr(row, "showing", None) == "logs":
            self._clear_detail(row)
            return
        view = LogView(row.deployment.provider, row.deployment.id)
        self._show_detail(row, "logs", view.box)
        # Following never ends by itself, so it is not part of what wait() waits on.
        future = self.hub.submit(self._guarded(view.follow()))
        self._logs[row.key] = (view, future)

    def _show_detail(self, row: Row, kind: str, view: widgets.Widget) -> None:
        self._stop_logs(row.key)
        row.showing = kind  # type: ignore[attr-defined]
        row.detail.children = (view,)

    def _clear_detail(self, row: Row) -> None:
        self._stop_logs(row.key)
        row.showing = None  # type: ignore[attr-defined]
        row.detail.children = ()

    def _stop_logs(self, key: str) -> None:
        found = self._logs.pop(key, None)
        if found is not None:
            found[1].cancel()

    # -- for scripts and notebooks ------------------------------------------------------------
    def row(self, name: str) -> Row:
        """The row of the deployment called ``name`` (or with that id)."""
        for row in self.table.rows.values():
            if name in (row.deployment.name, row.deployment.id):
                return row
        raise KeyError(f"No row is called {name!r}.")

    # -- fallbacks: what a notebook keeps when widgets cannot render ------------------------
    def text(self) -> str:
        """The panel as text: every deployment as last read, and the last message."""
        body = _display.status_text(self.table.deployments())
        lines = ["sindri panel (the state when this was shown)", body]
        if self._said:
            lines.append(self._said)
        return mask("\n".join(lines))

    def html(self) -> str:
        body = _display.status_html(self.table.deployments())
        said = f"<p>{escape(self._said)}</p>" if self._said else ""
        return (
            '<div class="sindri-panel-fallback"><p><b>sindri panel</b> '
            "(the state when this was shown)</p>"
            f"{body}{said}</div>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = self.text()
        data["text/html"] = self.html()
        return data

    def _ipython_display_(self, **kwargs: Any) -> None:
        from IPython.display import display

        # Each showing gets its own id; only the latest keeps being brought up to
        # date, so an earlier one keeps the state at its time.
        self._display_id = uuid.uuid4().hex
        self._displayed = True
        self._shown_text = self.text()
        display(self._repr_mimebundle_(), raw=True, display_id=self._display_id)

    def _refresh_display(self) -> None:
        """After each cell, bring the shown text up to date (on the main thread).

        This is what a notebook saved later keeps; the update goes out with the
        cell that just ran, as IPython's own display updates do.
        """
        from IPython.display import update_display

        if not self._displayed or self._closed:
            return
        text = self.text()
        if text != self._shown_text:
            self._shown_text = text
            update_display(
                self._repr_mimebundle_(), raw=True, display_id=self._display_id
            )

    # -- closing ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the panel; the last panel of the kernel stops the shared poller."""
        if getattr(self, "_closed", True):
            super().close()
            return
        self._closed = True
        for key in list(self._logs):
            self._stop_logs(key)
        if self._shell is not None:
            self._shell.events.unregister("post_execute", self._refresh_display)
        _hub.detach(self)
        for widget in _descendants(self):
            widget.close()
        super().close()


def _shell() -> Any:
    """The running IPython shell, if any."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return None
    return get_ipython()


def _descendants(root: widgets.Widget) -> list[widgets.Widget]:
    found: list[widgets.Widget] = []
    stack = list(getattr(root, "children", ()))
    while stack:
        widget = stack.pop()
        found.append(widget)
        stack.extend(getattr(widget, "children", ()))
    return found


def _connection_html(deployment: Deployment) -> str:
    connection = deployment.connection
    lines = _display.connection_lines(connection)
    if not lines:
        return sentence(f"{deployment.ref} has no connection details.")
    parts = []
    for label, value in lines:
        if label == "Note":
            parts.append(f"<div>{sentence(value)}</div>")
        elif label == "Jupyter" and connection and connection.jupyter_url:
            # The token stays out of the page; the copy holds the bare link.
            bare = connection.jupyter_url.split("?", 1)[0]
            parts.append(copy_line(label, value, copied=bare))
            parts.append(
                "<div>"
                + sentence(
                    "The Jupyter token is hidden here: `%sindri connect "
                    f"{deployment.name} --show-secrets` shows it."
                )
                + "</div>"
            )
        else:
            parts.append(copy_line(label, value))
    return "".join(parts)
