"""One background loop and one poller per kernel, shared by every open panel.

The first panel starts a thread (``sindri-panel``) running an asyncio loop; the
status poller and every panel action run there as tasks. The last panel to close
cancels them and ends the thread, so a closed panel leaves nothing running.
Work on the loop changes widget values only; it never prints or displays.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from .._models import Deployment
from ._poller import Poller, Snapshot

logger = logging.getLogger("sindri_jupyter")

THREAD_NAME = "sindri-panel"
TICK_SECONDS = 1.0
_lock = threading.Lock()
_hub: Hub | None = None


class Listener(Protocol):
    def take(self, snapshot: Snapshot) -> None: ...

    def tick(self, now: float) -> None: ...


def _session() -> Any:
    from .._api import session

    return session()


async def _read_status() -> list[Deployment]:
    try:
        from .._ratelimit import background
    except ImportError:  # the shared budget is optional
        return await _session().status()
    with background():
        return await _session().status()


def _stretch_by_budget(seconds: float) -> float:
    """Make a wait long enough to fit each provider's shared request budget."""
    from .._ratelimit import stretched

    return stretched(_session(), seconds)


class Hub:
    """The loop thread, the poller and the ticker, alive while a panel is open."""

    def __init__(self, **poller_options: float):
        self.loop = asyncio.new_event_loop()
        self.listeners: list[Listener] = []
        self.poller = Poller(
            _read_status,
            monotonic=time.monotonic,
            sleep=asyncio.sleep,
            stretch=_stretch_by_budget,
            **poller_options,
        )
        self.poller.listeners.append(self._fan_out)
        self.thread = threading.Thread(
            target=self.loop.run_forever, name=THREAD_NAME, daemon=True
        )
        self.thread.start()
        self.submit(self._background())

    # -- scheduling ----------------------------------------------------------------
    def submit(self, work: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def call(self, function: Callable[[], Any]) -> None:
        self.loop.call_soon_threadsafe(function)

    def wake(self) -> None:
        """Ask for a status round now."""
        self.call(self.poller.wake)

    # -- running -------------------------------------------------------------------
    async def _background(self) -> None:
        await asyncio.gather(self.poller.run(), self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = time.monotonic()
            for listener in list(self.listeners):
                try:
                    listener.tick(now)
                except Exception:
                    logger.exception("a panel failed to tick")

    def _fan_out(self, snapshot: Snapshot) -> None:
        for listener in list(self.listeners):
            listener.take(snapshot)

    def stop(self) -> None:
        async def cancel_all() -> None:
            current = asyncio.current_task()
            tasks = [task for task in asyncio.all_tasks() if task is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.submit(cancel_all()).result(timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            if not self.thread.is_alive():
                self.loop.close()


def attach(listener: Listener) -> Hub:
    """Join the kernel's hub, starting it for the first panel."""
    global _hub
    with _lock:
        if _hub is None:
            _hub = Hub()
        hub = _hub
    hub.call(lambda: _join(hub, listener))
    return hub


def _join(hub: Hub, listener: Listener) -> None:
    hub.listeners.append(listener)
    if hub.poller.latest.round:
        listener.take(hub.poller.latest)


def detach(listener: Listener) -> None:
    """Leave the hub; the last one out stops the poller and ends the thread."""
    global _hub
    with _lock:
        hub = _hub
        if hub is None:
            return
        done = concurrent.futures.Future()

        def leave() -> None:
            if listener in hub.listeners:
                hub.listeners.remove(listener)
            done.set_result(len(hub.listeners))

        hub.call(leave)
        if done.result(timeout=10) == 0:
            _hub = None
            hub.stop()


def current() -> Hub | None:
    return _hub
