"""Named faults: deliberate misbehaviour a test or notebook switches on.

Every fault is off until enabled. An enabled fault fires on each provider-API
request it matches, `count` times in all (unlimited when `count` is None), and
then retires itself. Which faults exist is a per-provider choice: the server
handles the transport-level ones listed in `SERVER_FAULTS`, and a provider app
declares its own (for example RunPod's `capacity`) and fires them from handlers.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any

# Faults the shared server applies around any provider's handlers.
SERVER_FAULTS: dict[str, str] = {
    "reset": "drop the connection without handling the request",
    "slow": "sleep params.seconds wall seconds (default 5) before answering",
    "rate-limit": "answer 429 with Retry-After: params.retry_after (default 2)",
    "server-error": "answer 500 before handling",
    "html-502": "answer 502 with an HTML page containing the Authorization value",
    "commit-then-reset": "handle the request fully, then drop the connection",
    "empty-body": "handle the request, then answer 200 with an empty body",
    "truncated-json": "handle the request, keep the status, cut the JSON in half",
    "echo-auth": "error bodies echo the received Authorization value in detail",
}


@dataclass
class Fault:
    """One enabled fault and how many more times it may fire."""

    name: str
    count: int | None = None
    method: str | None = None
    path: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if not self.path:
            return True
        if any(symbol in self.path for symbol in "*?["):
            return fnmatch.fnmatchcase(path, self.path)
        return path.startswith(self.path)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def as_json(self) -> dict:
        match = {
            key: value for key in ("method", "path") if (value := getattr(self, key))
        }
        remaining = None if self.count is None else self.count - self.fired
        return {
            "name": self.name,
            "count": self.count,
            "remaining": remaining,
            "fired": self.fired,
            "match": match or None,
            "params": self.params,
        }


class FaultBook:
    """The set of enabled faults, safe to use from many request threads."""

    def __init__(self, known: dict[str, str]) -> None:
        self.known = dict(known)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def enable(
        self,
        name: str,
        *,
        count: int | None = None,
        match: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Fault:
        if name not in self.known:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(self.known)}")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError("count must be a positive integer or omitted")
        match = match or {}
        unknown_keys = set(match) - {"method", "path"}
        if unknown_keys:
            raise ValueError(
                f"match accepts method and path, not {sorted(unknown_keys)}"
            )
        fault = Fault(name, count, match.get("method"), match.get("path"), params or {})
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, name: str, method: str, path: str) -> Fault | None:
        """Fire the first live fault called `name` that matches, or return None."""
        with self._lock:
            for fault in self._faults:
                if fault.name == name and fault.matches(method, path):
                    fault.fired += 1
                    if fault.exhausted:
                        self._faults.remove(fault)
                    return fault
        return None

    def active(self, name: str, method: str, path: str) -> bool:
        """Whether `take` would fire, without firing."""
        with self._lock:
            return any(
                fault.name == name and fault.matches(method, path)
                for fault in self._faults
            )

    def clear(self, name: str | None = None) -> int:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if name and f.name != name]
            return before - len(self._faults)

    def as_json(self) -> dict:
        with self._lock:
            return {
                "enabled": [fault.as_json() for fault in self._faults],
                "known": self.known,
            }
