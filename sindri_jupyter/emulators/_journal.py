"""The request log: what the emulated provider was asked, without any secret.

Entries record whether a request was authorized, never the key that it carried,
and where it came from: ``"client"``, or ``"pod"`` for what runs inside an
emulated pod with that pod's own key (its watchdog, say).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class JournalEntry:
    """One provider-API request as the emulator saw and answered it."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    time: str
    authorized: bool
    status: int | None = None
    faults: list[str] = field(default_factory=list)
    origin: str = "client"

    def as_json(self) -> dict:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "status": self.status,
            "time": self.time,
            "authorized": self.authorized,
            "faults": list(self.faults),
            "origin": self.origin,
        }


class Journal:
    """Append-only list of entries, cleared on demand."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._entries: list[JournalEntry] = []
        self._lock = threading.Lock()

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            # A long-running sandbox must not grow without bound.
            del self._entries[: max(0, len(self._entries) - self.limit)]

    def entries(self) -> list[dict]:
        with self._lock:
            return [entry.as_json() for entry in self._entries]

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count
