"""What a status round reads on Northflank, and what it keeps between rounds.

A project's service list carries each service's id, name, description (where the
launch tag is) and rollout status, but not whether it is paused, its ports'
addresses, its plan or its GPU. Those come from a read of the service, which is
kept here and repeated only when the list says something moved, while a rolled-out
service waits for its URL, when the library itself acted on the service, or when
the read has grown old: a pause made in Northflank's UI may show in no field the
list carries. The Jupyter token (from the runtime environment) is read once per
service and launch.

Which projects a round lists: those of the services the local store knows, those
this process deployed into, and those a scan of every project found holding our
services. A scan (``GET /v1/projects``) happens on the first list of a process,
then at most once per ``SCAN_SECONDS``, and whenever a launch is recorded whose
project is unknown. What is kept is shared by every provider instance of one
store and endpoint, so each status round does not start from nothing.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..._models import State
from . import mapping

#: the longest a kept read of a service stands in for a fresh one
STALE_SECONDS = 600.0
#: the longest between two scans of every project for services made elsewhere
SCAN_SECONDS = 3600.0


def signature(item: dict[str, Any]) -> tuple[Any, ...]:
    """What the list shows of a service: a change in any of it means a re-read."""
    rollout = (item.get("status") or {}).get("deployment") or {}
    return (
        item.get("name"),
        item.get("description"),
        rollout.get("status"),
        rollout.get("reason"),
        rollout.get("lastTransitionTime"),
    )


def seconds(instant: datetime | None) -> float:
    """The provider's clock where known (a test's emulator moves it), else ours."""
    return instant.timestamp() if instant else time.time()


@dataclass
class Kept:
    """One service's last full read, as Northflank answered it."""

    service: dict[str, Any]
    signature: tuple[Any, ...]
    read_at: float


@dataclass
class Reads:
    """Reads kept between rounds for one store, endpoint and account."""

    services: dict[str, Kept] = field(default_factory=dict)
    #: runtime environments by library id; read once, for the Jupyter token
    environments: dict[str, dict[str, str]] = field(default_factory=dict)
    #: projects found holding our services, or deployed into by this process
    projects: set[str] = field(default_factory=set)
    #: launch id → project, for launches this process placed
    launches: dict[str, str] = field(default_factory=dict)
    scanned_at: float | None = None
    #: the provider's clock at the last answer any instance saw
    now: float | None = None

    def scanned(self) -> None:
        self.scanned_at = self.now or time.time()

    def scan_due(self, unplaced: bool) -> bool:
        if self.scanned_at is None or unplaced:
            return True
        return (self.now or time.time()) - self.scanned_at >= SCAN_SECONDS

    def kept(self, remote_id: str, item: dict[str, Any]) -> dict[str, Any] | None:
        """The kept read, brought up to the list entry, where it still stands."""
        found = self.services.get(remote_id)
        if found is None or found.signature != signature(item):
            return None
        if (self.now or time.time()) - found.read_at >= STALE_SECONDS:
            return None
        merged = {**found.service, **item}
        project = remote_id.partition("/")[0]
        state, _ = mapping.state_of(mapping.as_remote(project, merged))
        # Rolled out but with no URL yet: the URL comes in a field the list lacks.
        return None if state is State.RUNNING else merged

    def keep(self, remote_id: str, service: dict[str, Any], at: float) -> None:
        before = self.services.get(remote_id)
        if before is not None and mapping.marked(before.service) != mapping.marked(
            service
        ):
            # Another launch at the same id: its token is not the one we read.
            self.environments.pop(remote_id, None)
        self.services[remote_id] = Kept(service, signature(service), at)
        self.projects.add(remote_id.partition("/")[0])

    def forget(self, remote_id: str, *, environment: bool = False) -> None:
        self.services.pop(remote_id, None)
        if environment:
            self.environments.pop(remote_id, None)


_shared: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], Reads]] = (
    weakref.WeakKeyDictionary()
)


def shared(store: Any, base_url: str, account: str) -> Reads:
    """The reads every provider instance of this store and endpoint shares."""
    by_endpoint = _shared.setdefault(store, {})
    return by_endpoint.setdefault((base_url, account), Reads())
