"""Pod log events and the Server-Sent Events stream of `GET /v2/pods/{id}/logs`.

A boot writes its whole story up front with future timestamps (host lifecycle
on `system`, the start script on `container`); a reader sees the events whose
time has come on the virtual clock. Timestamps are unique per pod, so an event
id can simply be its timestamp, as the contract says, and resuming after
`Last-Event-ID` is exact.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pods import Boot, Pod

TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class LogEvent:
    ts: datetime
    source: str
    line: str

    @property
    def id(self) -> str:
        # Fixed-width microseconds keep ids in time order when sorted as text.
        return self.ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def sse(self) -> bytes:
        data = {"ts": self.id, "source": self.source, "line": self.line}
        return f"id: {self.id}\ndata: {json.dumps(data)}\n\n".encode()


@dataclass
class LogBook:
    events: list[LogEvent] = field(default_factory=list)

    def add(self, ts: datetime, source: str, line: str) -> None:
        if self.events and ts <= self.events[-1].ts:
            ts = self.events[-1].ts + TICK
        self.events.append(LogEvent(ts, source, line))

    def forget_after(self, now: datetime) -> None:
        """An interrupted boot never writes the lines it had scheduled."""
        self.events = [event for event in self.events if event.ts <= now]

    def boot(self, pod: Pod, boot: Boot) -> None:
        self.forget_after(boot.requested_at)
        self.add(boot.requested_at, "system", f"pod {pod.id}: start requested")
        if boot.provisioning:
            self.add(boot.requested_at, "system", f"scheduled in {pod.data_center}")
            self.add(boot.machine_at, "system", "machine assigned")
        self.add(boot.machine_at, "system", f"pulling image {pod.image}")
        self.add(boot.running_at - TICK * 10, "system", "image ready; starting")
        self.add(boot.running_at, "container", "container started")
        if "PUBLIC_KEY" in pod.env:
            self.add(boot.running_at, "container", "Starting SSH service...")
        if "JUPYTER_PASSWORD" in pod.env:
            self.add(boot.running_at, "container", "Starting Jupyter Lab on 8888...")
        self.add(boot.running_at, "container", "Start script(s) finished, pod is ready")

    def stopped(self, now: datetime) -> None:
        self.forget_after(now)
        self.add(now, "system", "stop requested; container exited")

    def terminated(self, now: datetime) -> None:
        self.forget_after(now)
        self.add(now, "system", "pod terminated")

    def visible(self, now: datetime, source: str | None) -> list[LogEvent]:
        return [
            event
            for event in self.events
            if event.ts <= now and source in (None, event.source)
        ]


def backfill(
    events: list[LogEvent],
    *,
    tail: int,
    since: datetime | None,
    after: datetime | None,
) -> list[LogEvent]:
    """`Last-Event-ID` beats `since`, which beats `tail`, as the contract orders."""
    if after is not None:
        return [event for event in events if event.ts > after]
    if since is not None:
        return [event for event in events if event.ts >= since]
    return events[-tail:] if tail else []


def stream(
    read: Callable[[], tuple[list[LogEvent], bool]],
    first: list[LogEvent],
    *,
    cursor: datetime | None,
    follow_seconds: float,
    poll_seconds: float = 0.1,
) -> Iterator[bytes]:
    """Send the backfill, then follow new events for `follow_seconds` wall time.

    `read` returns the visible events and whether the pod still exists; events
    after `cursor` (the newest event visible when the request came) are new. The
    stream ends when the follow window closes or the pod is gone; a client
    resumes with `Last-Event-ID`, as EventSource does.
    """
    last = cursor
    for event in first:
        yield event.sse()
    if not first:
        yield b": stream open\n\n"  # lets clients see the stream has started
    deadline = time.monotonic() + follow_seconds
    while time.monotonic() < deadline:
        time.sleep(poll_seconds)
        events, alive = read()
        fresh = [event for event in events if last is None or event.ts > last]
        for event in fresh:
            yield event.sse()
            last = event.ts
        if not alive:
            return
