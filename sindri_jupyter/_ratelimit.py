"""A request budget shared by every process of the user, and polls paced by it.

Some providers limit requests per account, not per connection: Northflank allows
1,000 an hour, and every kernel and tab of the user spends from that one budget.
What the provider last said about it (the ``x-ratelimit-*`` headers) is kept in
the local store, so each process sees what the others spent.

Two kinds of caller, two kinds of patience:

- a command a person typed never blocks for long: past :data:`TYPED_PATIENCE`
  it stops with "rate limited, resets in N min";
- a background wait (inside :func:`background`) slows down as the budget runs
  low, leaves a reserve for typed commands, and after a 429 sleeps until the
  window resets.

Nothing here knows a provider: a provider opts in by giving its API client a
:class:`Budget`, and its waits a :class:`Pacer`.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from datetime import datetime

import httpx

from ._errors import RateLimitedError

#: how long a typed command may sit waiting on the budget before it gives up
TYPED_PATIENCE = 5.0
#: how many times one call waits out a spent window before giving up
MAX_WAITS = 3

LIMIT_HEADER = "x-ratelimit-limit"
REMAINING_HEADER = "x-ratelimit-remaining"
RESET_HEADER = "x-ratelimit-reset"

_background: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sindri_background_wait", default=False
)


@contextlib.contextmanager
def background() -> Iterator[None]:
    """Mark the calls made inside as a background wait's, not a typed command's."""
    token = _background.set(True)
    try:
        yield
    finally:
        _background.reset(token)


def in_background() -> bool:
    return _background.get()


def account_of(api_key: str) -> str:
    """A stable name for the account a key belongs to; never the key itself."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:16]


def minutes(seconds: float) -> str:
    whole = max(1, math.ceil(seconds / 60))
    return f"{whole} min"


@dataclass(frozen=True)
class Window:
    """The budget as last reported: times are the provider's clock, in epoch s."""

    limit: int
    remaining: int
    reset_at: float
    observed_at: float
    written_at: float  # local wall time of the write, to age the record

    @property
    def reserve(self) -> int:
        """Requests background polling leaves for commands a person types."""
        return max(2, self.limit // 50)


class Budget:
    """One account's request budget at one provider, shared through the store."""

    def __init__(
        self,
        store: object,
        provider: str,
        account: str,
        *,
        server_now: Callable[[], datetime | None],
        sleep: Callable[[float], Awaitable[object]],
    ):
        self.store = store
        self.provider = provider
        self.account = account
        self._server_now = server_now
        self._sleep = sleep

    # -- what the provider said --------------------------------------------------
    def observe(self, response: httpx.Response, server_time: datetime | None) -> None:
        headers = response.headers
        try:
            limit = int(headers[LIMIT_HEADER])
            remaining = int(headers[REMAINING_HEADER])
            reset = float(headers[RESET_HEADER])
        except (KeyError, ValueError):
            return
        if response.status_code == 429:
            remaining = 0
        observed = server_time.timestamp() if server_time else time.time()
        self.store.save_rate_limit(  # type: ignore[attr-defined]
            self.provider,
            self.account,
            limit=limit,
            remaining=remaining,
            reset_at=observed + reset,
            observed_at=observed,
        )

    def window(self) -> Window | None:
        """The current window as last reported, or None when unknown or over."""
        row = self.store.rate_limit(self.provider, self.account)  # type: ignore[attr-defined]
        if row is None:
            return None
        window = Window(*row)
        if self.seconds_left(window) <= 0:
            return None
        return window

    def now(self, window: Window) -> float:
        """The provider's time now, as well as this process can tell."""
        aged = window.observed_at + max(0.0, time.time() - window.written_at)
        seen = self._server_now()
        return max(aged, seen.timestamp()) if seen else aged

    def seconds_left(self, window: Window) -> float:
        return window.reset_at - self.now(window)

    # -- before and after a request ------------------------------------------------
    def limited(self, seconds: float) -> RateLimitedError:
        return RateLimitedError(
            f"{self.provider}: rate limited, resets in {minutes(seconds)} (the "
            "account's hourly request budget is spent; every kernel shares it).",
            provider=self.provider,
            retry_after=seconds,
        )

    async def admit(self) -> None:
        """Before a request: where the budget is known to be spent, wait or refuse."""
        window = self.window()
        if window is None or window.remaining > 0:
            return
        await self._wait_or_refuse(self.seconds_left(window))

    async def wait_out(self, error: RateLimitedError) -> bool:
        """After a 429: True once the window has been waited out (retry then)."""
        seconds = error.retry_after if error.retry_after is not None else 60.0
        try:
            await self._wait_or_refuse(seconds)
        except RateLimitedError:
            return False
        return True

    async def _wait_or_refuse(self, seconds: float) -> None:
        if seconds > TYPED_PATIENCE and not in_background():
            raise self.limited(seconds)
        await self._sleep(max(0.0, seconds) + 1.0)
        # The window has turned over; the next answer says what the new one holds.
        self.store.forget_rate_limit(self.provider, self.account)  # type: ignore[attr-defined]

    def refused(self, response: httpx.Response) -> RateLimitedError:
        """The error for a 429, with the wait the headers give."""
        wait = _number(response.headers.get("retry-after"))
        if wait is None:
            wait = _number(response.headers.get(RESET_HEADER))
        return self.limited(wait if wait is not None else 60.0)

    # -- pacing ----------------------------------------------------------------------
    def stretch(self, interval: float) -> float:
        """``interval`` made long enough to fit the budget left in this window."""
        window = self.window()
        if window is None:
            return interval
        left = self.seconds_left(window)
        spare = window.remaining - window.reserve
        if spare <= 0:
            return max(interval, left + 1.0)
        return max(interval, left / spare)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class Pacer:
    """How long a poll loop sleeps: fast in a transition, slow once steady.

    During a transition the interval starts at ``fast`` and grows by half each
    time nothing changed, up to ``transition_cap``; a settled deployment is read
    every ``steady`` seconds. A budget, when given, stretches every interval so
    that polling fits what is left of the window.
    """

    GROWTH = 1.5

    def __init__(
        self,
        budget: Budget | None = None,
        *,
        fast: float = 2.0,
        transition_cap: float = 15.0,
        steady: float = 60.0,
    ):
        self.budget = budget
        self.fast = fast
        self.transition_cap = transition_cap
        self.steady = steady
        self._interval: float | None = None

    @classmethod
    def for_endpoint(cls, budget: Budget | None, *, sandbox: bool) -> Pacer:
        if sandbox:
            return cls(budget, fast=0.25, transition_cap=2.0, steady=60.0)
        return cls(budget)

    def next(self, *, settled: bool, changed: bool) -> float:
        if settled:
            interval = self.steady
        elif changed or self._interval is None or self._interval >= self.steady:
            interval = self.fast
        else:
            interval = min(self.transition_cap, self._interval * self.GROWTH)
        self._interval = interval
        return self.budget.stretch(interval) if self.budget else interval


def stretched(session: Any, seconds: float) -> float:
    """A background pause, stretched to fit every configured provider's budget.

    Pacing is advice: where a budget cannot be read, the pause stays as asked.
    """
    import asyncio
    import logging

    longest = seconds
    try:
        for provider in session.configured():
            endpoint = session.endpoint(provider)
            budget = Budget(
                session.store,
                provider,
                account_of(endpoint.api_key),
                server_now=lambda: None,
                sleep=asyncio.sleep,
            )
            longest = max(longest, budget.stretch(seconds))
    except Exception:  # noqa: BLE001 - pacing must never stop a refresh
        logging.getLogger("sindri_jupyter").debug(
            "could not read the request budget", exc_info=True
        )
    return longest
