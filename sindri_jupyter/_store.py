"""The local store: what this user launched, so nothing that costs money is lost.

A launch is written *before* its create is sent (with its launch id and no
remote id yet), so that even a kernel that dies mid-create leaves a record the
next session can reconcile by tag. SQLite keeps the store consistent across
kernels writing at once and across a process killed mid-write.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS launches (
    provider   TEXT NOT NULL,
    launch_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    remote_id  TEXT,
    state      TEXT NOT NULL,
    created    TEXT NOT NULL,
    updated    TEXT NOT NULL,
    details    TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (provider, launch_id)
);
CREATE INDEX IF NOT EXISTS launches_remote ON launches (provider, remote_id);
CREATE TABLE IF NOT EXISTS rate_limits (
    provider     TEXT NOT NULL,
    account      TEXT NOT NULL,
    max_requests INTEGER NOT NULL,
    remaining    INTEGER NOT NULL,
    reset_at     REAL NOT NULL,
    observed_at  REAL NOT NULL,
    written_at   REAL NOT NULL,
    PRIMARY KEY (provider, account)
);
"""

# Answers from several processes arrive out of order: within one window the
# lowest remaining count wins; a later window replaces an earlier one.
_SAVE_RATE_LIMIT = """
INSERT INTO rate_limits VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (provider, account) DO UPDATE SET
    max_requests = excluded.max_requests,
    remaining = CASE
        WHEN abs(excluded.reset_at - rate_limits.reset_at) < 5
        THEN min(rate_limits.remaining, excluded.remaining)
        ELSE excluded.remaining END,
    reset_at = excluded.reset_at,
    observed_at = max(excluded.observed_at, rate_limits.observed_at),
    written_at = excluded.written_at
WHERE excluded.reset_at >= rate_limits.reset_at - 5
"""


@dataclass(frozen=True)
class Record:
    provider: str
    launch_id: str
    name: str
    remote_id: str | None
    state: str
    created: str
    updated: str
    details: dict


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA journal_mode=WAL")
            # Cheap when present; recreates the tables if the file was removed.
            db.executescript(_SCHEMA)
            yield db
        finally:
            db.close()

    def record_launch(
        self, provider: str, launch_id: str, name: str, details: dict | None = None
    ) -> None:
        now = _now()
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO launches VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
                (
                    provider,
                    launch_id,
                    name,
                    "launching",
                    now,
                    now,
                    json.dumps(details or {}),
                ),
            )

    def set_remote(self, provider: str, launch_id: str, remote_id: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE launches SET remote_id = ?, state = 'created', updated = ? "
                "WHERE provider = ? AND launch_id = ?",
                (remote_id, _now(), provider, launch_id),
            )

    def adopt(self, provider: str, launch_id: str, name: str, remote_id: str) -> None:
        """Record a tagged remote object; it exists, so it is live whatever we thought."""
        now = _now()
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO launches VALUES (?, ?, ?, ?, ?, ?, ?, '{}')",
                (provider, launch_id, name, remote_id, "adopted", now, now),
            )
            db.execute(
                "UPDATE launches SET remote_id = ?, state = 'adopted', updated = ? "
                "WHERE provider = ? AND launch_id = ? AND state = 'gone'",
                (remote_id, now, provider, launch_id),
            )

    def set_state(self, provider: str, launch_id: str, state: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE launches SET state = ?, updated = ? "
                "WHERE provider = ? AND launch_id = ?",
                (state, _now(), provider, launch_id),
            )

    def update_details(
        self, provider: str, launch_id: str, change: Callable[[dict], dict]
    ) -> dict | None:
        """Rewrite one record's details with ``change`` in a single transaction.

        Several kernels may change the same record at once: the write lock is
        taken before the read, so no change is lost. Returns the details as
        written, or None where there is no such record.
        """
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT details FROM launches WHERE provider = ? AND launch_id = ?",
                    (provider, launch_id),
                ).fetchone()
                if row is None:
                    db.execute("ROLLBACK")
                    return None
                details = change(json.loads(row[0] or "{}"))
                db.execute(
                    "UPDATE launches SET details = ? "
                    "WHERE provider = ? AND launch_id = ?",
                    (json.dumps(details), provider, launch_id),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return details

    def records(
        self, provider: str | None = None, *, live_only: bool = True
    ) -> list[Record]:
        query = "SELECT * FROM launches"
        clauses, args = [], []
        if provider:
            clauses.append("provider = ?")
            args.append(provider)
        if live_only:
            clauses.append("state != 'gone'")
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        query += " ORDER BY created, launch_id"
        with self._connect() as db:
            rows = db.execute(query, args).fetchall()
        return [Record(*row[:7], details=json.loads(row[7] or "{}")) for row in rows]

    def by_remote(self, provider: str, remote_id: str) -> Record | None:
        return self.by_remote_ids(provider).get(remote_id)

    def by_remote_ids(self, provider: str) -> dict[str, Record]:
        """Every record of ``provider`` with a remote id, by that id, in one read."""
        found: dict[str, Record] = {}
        # A remote id can come back (Northflank derives it from the name), so a
        # live record wins over one already gone; among equals the first stays.
        for record in self.records(provider, live_only=False):
            if not record.remote_id:
                continue
            kept = found.get(record.remote_id)
            if kept is None or (kept.state == "gone" and record.state != "gone"):
                found[record.remote_id] = record
        return found

    # -- the shared request budget (see _ratelimit) ---------------------------------
    def save_rate_limit(
        self,
        provider: str,
        account: str,
        *,
        limit: int,
        remaining: int,
        reset_at: float,
        observed_at: float,
    ) -> None:
        row = (provider, account, limit, remaining, reset_at, observed_at, time.time())
        with self._connect() as db:
            db.execute(_SAVE_RATE_LIMIT, row)

    def rate_limit(self, provider: str, account: str) -> tuple | None:
        """``(limit, remaining, reset_at, observed_at, written_at)`` or None."""
        with self._connect() as db:
            return db.execute(
                "SELECT max_requests, remaining, reset_at, observed_at, written_at "
                "FROM rate_limits WHERE provider = ? AND account = ?",
                (provider, account),
            ).fetchone()

    def forget_rate_limit(self, provider: str, account: str) -> None:
        with self._connect() as db:
            db.execute(
                "DELETE FROM rate_limits WHERE provider = ? AND account = ?",
                (provider, account),
            )
