"""A clock for the library's waits that moves only when something sleeps on it.

Used by the tests and by ``bench/soak.py`` (which puts the repository on
``sys.path``), so waits take no wall time while deadlines still hold.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sindri_jupyter._engine import Clock


class SteppedClock(Clock):
    """Time that moves only when the library sleeps; every sleep is recorded.

    ``pause``: real seconds each sleep gives the event loop (None: none at all).
    ``on_sleep``: told each sleep's seconds, e.g. to advance an emulator's clock.
    """

    def __init__(
        self,
        *,
        pause: float | None = None,
        on_sleep: Callable[[float], Any] | None = None,
    ) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self.pause = pause
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(seconds)
        if self.pause is not None:
            await asyncio.sleep(self.pause)


class EmulatorClock(SteppedClock):
    """The session's clock is the emulator's: a wait advances the emulated cloud."""

    def __init__(self, control: Any) -> None:
        super().__init__(on_sleep=control.advance)
        self.control = control
