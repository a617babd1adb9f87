"""The virtual clock every emulator reads its time from.

Provider state is never advanced by background threads: each handler asks the
clock for `now()` and derives lifecycle status from recorded instants. That keeps
the emulators deterministic whenever the clock is frozen (`manual`, `step`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MODES = ("realtime", "manual", "step")


def utc(value: datetime) -> datetime:
    """Return `value` as an aware UTC datetime (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """Parse an RFC 3339 instant such as `2026-06-01T12:00:00Z`."""
    return utc(datetime.fromisoformat(text.strip().replace("z", "Z")))


def format_instant(value: datetime) -> str:
    """Format an instant as RFC 3339 with a `Z` suffix; microseconds only if set."""
    value = utc(value)
    pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return value.strftime(pattern)


@dataclass(frozen=True)
class ClockSettings:
    """A snapshot of the clock's configuration and reading."""

    mode: str
    speed: float
    step: float
    epoch: datetime
    now: datetime

    def as_json(self) -> dict:
        return {
            "mode": self.mode,
            "speed": self.speed,
            "step": self.step,
            "epoch": format_instant(self.epoch),
            "now": format_instant(self.now),
        }


class VirtualClock:
    """Time as the emulated provider sees it.

    - `realtime`: wall time multiplied by `speed`, starting at `epoch`.
    - `manual`: frozen; moves only through `advance`.
    - `step`: frozen, but each provider-API request first advances it by `step`
      seconds, so a scripted sequence of calls always sees the same times.
    """

    def __init__(
        self,
        *,
        mode: str = "realtime",
        speed: float = 1.0,
        step: float = 1.0,
        epoch: datetime | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._check(mode, speed, step)
        self._mode, self._speed, self._step = mode, float(speed), float(step)
        self._epoch = utc(epoch) if epoch else datetime.now(UTC)
        self._anchor = self._epoch
        self._anchor_wall = time.monotonic()

    @staticmethod
    def _check(mode: str, speed: float, step: float) -> None:
        if mode not in MODES:
            raise ValueError(f"clock mode must be one of {', '.join(MODES)}")
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        if step < 0:
            raise ValueError("clock step must not be negative")

    def _reading(self) -> datetime:
        if self._mode != "realtime":
            return self._anchor
        elapsed = (time.monotonic() - self._anchor_wall) * self._speed
        return self._anchor + timedelta(seconds=elapsed)

    def _rebase(self, instant: datetime) -> None:
        self._anchor = instant
        self._anchor_wall = time.monotonic()

    def now(self) -> datetime:
        """The current virtual time, an aware UTC datetime."""
        with self._lock:
            return self._reading()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (in any mode) and return the new time."""
        if seconds < 0:
            raise ValueError("the clock cannot go backwards")
        with self._lock:
            self._rebase(self._reading() + timedelta(seconds=seconds))
            return self._anchor

    def tick(self) -> datetime:
        """Called before each provider-API request; advances only in `step` mode."""
        with self._lock:
            if self._mode == "step":
                self._rebase(self._reading() + timedelta(seconds=self._step))
            return self._reading()

    def configure(
        self,
        *,
        mode: str | None = None,
        speed: float | None = None,
        step: float | None = None,
        epoch: datetime | None = None,
    ) -> ClockSettings:
        """Change settings; a new `epoch` also moves the clock to that instant."""
        with self._lock:
            new_mode = self._mode if mode is None else mode
            new_speed = self._speed if speed is None else float(speed)
            new_step = self._step if step is None else float(step)
            self._check(new_mode, new_speed, new_step)
            current = self._reading()
            self._mode, self._speed, self._step = new_mode, new_speed, new_step
            if epoch is not None:
                self._epoch = current = utc(epoch)
            self._rebase(current)
        return self.settings()

    def settings(self) -> ClockSettings:
        with self._lock:
            return ClockSettings(
                self._mode, self._speed, self._step, self._epoch, self._reading()
            )
