"""Northflank's account rate limit: a fixed window on the virtual clock.

The window opens at the first counted request and closes `window_seconds`
later; the next request after that opens a fresh one. Only authenticated
requests are counted, because the budget belongs to the account a token
names and an unauthenticated request names none.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

DEFAULT_LIMIT = 1000
DEFAULT_WINDOW_SECONDS = 3600

LIMIT_HEADER = "x-ratelimit-limit"
REMAINING_HEADER = "x-ratelimit-remaining"
RESET_HEADER = "x-ratelimit-reset"


class RateLimit:
    """How many requests the account has left in the current window."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("the rate limit and its window must be positive")
        self.limit = limit
        self.window = timedelta(seconds=window_seconds)
        self.window_start: datetime | None = None
        self.used = 0

    def _expire(self, now: datetime) -> None:
        if self.window_start is not None and now >= self.window_start + self.window:
            self.window_start = None
            self.used = 0

    def _open(self, now: datetime) -> None:
        self._expire(now)
        if self.window_start is None:
            self.window_start = now

    def consume(self, now: datetime) -> bool:
        """Count one request; False when the window's budget is already spent."""
        self._open(now)
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def remaining(self, now: datetime) -> int:
        self._expire(now)
        return max(0, self.limit - self.used)

    def reset_seconds(self, now: datetime) -> int:
        """Whole seconds until the window closes (a full window when none is open)."""
        self._expire(now)
        if self.window_start is None:
            return math.ceil(self.window.total_seconds())
        left = (self.window_start + self.window - now).total_seconds()
        return max(0, math.ceil(left))

    def headers(self, now: datetime) -> dict[str, str]:
        return {
            LIMIT_HEADER: str(self.limit),
            REMAINING_HEADER: str(self.remaining(now)),
            RESET_HEADER: str(self.reset_seconds(now)),
        }

    def configure(
        self, now: datetime, *, remaining: int | None = None, limit: int | None = None
    ) -> None:
        """Steer the budget: a new limit, or what is left (opening a window)."""
        if limit is not None:
            if not isinstance(limit, int) or limit < 1:
                raise ValueError("limit must be a positive integer")
            self.limit = limit
        if remaining is not None:
            if not isinstance(remaining, int) or not 0 <= remaining <= self.limit:
                raise ValueError(f"remaining must be an integer in 0..{self.limit}")
            self._open(now)
            self.used = self.limit - remaining

    def as_json(self, now: datetime) -> dict:
        return {
            "limit": self.limit,
            "remaining": self.remaining(now),
            "reset": self.reset_seconds(now),
            "windowSeconds": self.window.total_seconds(),
        }
