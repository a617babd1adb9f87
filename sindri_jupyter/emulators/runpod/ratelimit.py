"""RunPod's rate-limit headers: fixed windows on the virtual clock, per key.

Counting is always on, so `RateLimit` shows real remaining budgets; refusing
with 429 at zero is opt-in (`enforce_rate_limits`), since tests that poll fast
would otherwise trip a quota meant for a whole account. The `rate-limit` fault
gives a 429 on demand either way.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

# (name, window seconds, quota): the contract's example policy.
WINDOWS = (("minute", 60, 60), ("hour", 3600, 3000), ("day", 86400, 50000))
POLICY = ", ".join(f'"{name}";q={quota};w={size}' for name, size, quota in WINDOWS)


class RateLimiter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}

    @staticmethod
    def _caller(token: str) -> str:
        # Only a digest is kept, so no key sits in emulator memory as a dict key.
        return hashlib.sha256(token.encode()).hexdigest()

    def _state(self, caller: str, now: datetime) -> list[tuple[str, int, int]]:
        """(window, remaining, seconds to reset) for each window."""
        moment = now.timestamp()
        state = []
        for name, size, quota in WINDOWS:
            index = int(moment // size)
            used = self._counts.get((caller, name, index), 0)
            reset = max(1, int((index + 1) * size - moment))
            state.append((name, max(0, quota - used), reset))
        return state

    def hit(self, token: str, now: datetime) -> dict[str, str]:
        """Count one request and return the headers describing the budget left."""
        caller = self._caller(token)
        moment = now.timestamp()
        for name, size, _ in WINDOWS:
            key = (caller, name, int(moment // size))
            self._counts[key] = self._counts.get(key, 0) + 1
        return self.headers(token, now)

    def headers(self, token: str, now: datetime) -> dict[str, str]:
        state = self._state(self._caller(token), now)
        live = ", ".join(f'"{name}";r={left};t={reset}' for name, left, reset in state)
        return {"RateLimit": live, "RateLimit-Policy": POLICY}

    def exhausted(self, token: str, now: datetime) -> tuple[str, int] | None:
        """The first window with no budget left and its reset time, if any."""
        for name, left, reset in self._state(self._caller(token), now):
            if left <= 0:
                return name, reset
        return None
