"""Blocking calls on top of the async core, safe inside a running event loop.

A Jupyter kernel runs an asyncio loop, so ``asyncio.run`` cannot be used from a
cell. The sync API instead runs each coroutine on one private loop in a
background thread and waits for it. Progress events are handed back to the
calling thread and delivered there, so front ends only ever print or display
from the thread that called them (output lands in the right cell).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_DONE = object()
_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="sindri-jupyter-loop", daemon=True
            )
            thread.start()
            _loop = loop
        return _loop


def run(
    make: Callable[[Callable[[Any], None]], Coroutine[Any, Any, T]],
    on_event: Callable[[Any], None] | None = None,
) -> T:
    """Run ``make(emit)`` to completion; ``on_event`` sees every emitted event here."""
    events: queue.Queue[Any] = queue.Queue()
    future = asyncio.run_coroutine_threadsafe(make(events.put), _background_loop())
    # Wake the waiting thread the moment the work ends, not at its next poll.
    future.add_done_callback(lambda _: events.put(_DONE))
    try:
        while True:
            try:
                event = events.get(timeout=0.5)  # a timeout keeps Ctrl-C responsive
            except queue.Empty:
                continue
            if event is _DONE:
                break
            if on_event is not None:
                on_event(event)
        return future.result()
    except KeyboardInterrupt:
        future.cancel()
        raise
    except concurrent.futures.CancelledError:
        raise KeyboardInterrupt from None
