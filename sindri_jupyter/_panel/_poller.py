"""The status poller every panel of a kernel shares.

A round is one call to :meth:`Session.status`: one list request per configured
provider, nothing else. Rounds come quickly while something is changing and
slowly once everything is steady; where the shared request budget
(``sindri_jupyter._ratelimit``) is known, it stretches the wait further.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .._errors import RateLimitedError, SindriError
from .._models import Deployment, State
from .._redact import mask

logger = logging.getLogger("sindri_jupyter")

#: seconds between rounds while a deployment is pending or starting
CHANGING_SECONDS = 2.0
#: the longest wait during a transition, as it grows by half per quiet round
TRANSITION_CAP = 15.0
#: seconds between rounds once every deployment is settled
STEADY_SECONDS = 30.0
_UNSETTLED = (State.PENDING, State.RUNNING)


@dataclass
class Snapshot:
    """What one round read: deployments as listed, or the sentence of why not."""

    deployments: list[Deployment] = field(default_factory=list)
    error: str | None = None
    #: the poller clock's reading when the round started and ended
    started: float = 0.0
    read_at: float = 0.0
    round: int = 0


class Poller:
    """Runs rounds on one event loop until cancelled; listeners see each snapshot."""

    def __init__(
        self,
        read: Callable[[], Awaitable[list[Deployment]]],
        *,
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[object]],
        stretch: Callable[[float], float] | None = None,
        changing_seconds: float = CHANGING_SECONDS,
        steady_seconds: float = STEADY_SECONDS,
    ):
        self._read = read
        self._monotonic = monotonic
        self._sleep = sleep
        self._stretch = stretch or (lambda seconds: seconds)
        self.changing_seconds = changing_seconds
        self.steady_seconds = steady_seconds
        self.listeners: list[Callable[[Snapshot], None]] = []
        self.latest = Snapshot()
        self._wake: asyncio.Event | None = None
        self._interval: float | None = None

    # -- one round -----------------------------------------------------------------
    async def round(self) -> Snapshot:
        started = self._monotonic()
        previous = self.latest
        try:
            deployments = await self._read()
            error = None
        except RateLimitedError as limited:
            deployments, error = previous.deployments, mask(str(limited))
            self._interval = max(self.steady_seconds, limited.retry_after or 0.0)
        except SindriError as failure:
            deployments, error = previous.deployments, mask(str(failure))
        snapshot = Snapshot(
            deployments=deployments,
            error=error,
            started=started,
            read_at=self._monotonic(),
            round=previous.round + 1,
        )
        self.latest = snapshot
        for listener in list(self.listeners):
            try:
                listener(snapshot)
            except Exception:  # a broken view must not stop the poller
                logger.exception("a panel failed to take a status round")
        return snapshot

    def next_wait(self, before: Snapshot, after: Snapshot) -> float:
        """Fast while anything is unsettled, growing while nothing changes."""
        unsettled = any(d.state in _UNSETTLED for d in after.deployments)
        changed = _states(before) != _states(after)
        if not unsettled and not changed:
            interval = self.steady_seconds
        elif changed or self._interval is None or self._interval >= self.steady_seconds:
            interval = self.changing_seconds
        else:
            interval = min(TRANSITION_CAP, self._interval * 1.5)
        self._interval = interval
        return self._stretch(interval)

    # -- the loop --------------------------------------------------------------------
    async def run(self) -> None:
        self._wake = asyncio.Event()
        while True:
            before = self.latest
            after = await self.round()
            await self._pause(self.next_wait(before, after))

    def wake(self) -> None:
        """Start the next round now (call on the poller's loop)."""
        if self._wake is not None:
            self._wake.set()

    async def _pause(self, seconds: float) -> None:
        assert self._wake is not None
        self._wake.clear()
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()


def _states(snapshot: Snapshot) -> dict[tuple[str, str], State]:
    return {(d.provider, d.id): d.state for d in snapshot.deployments}
