"""`NorthflankControl`: `EmulatorControl` plus the Northflank control endpoints."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .._client import EmulatorControl


def _service_path(project_id: str, service_id: str) -> str:
    return (
        f"projects/{quote(project_id, safe='')}/services/{quote(service_id, safe='')}"
    )


class NorthflankControl(EmulatorControl):
    """Steer a running Northflank emulator (rate limit, services, rollouts)."""

    def rate_limit(self) -> dict[str, Any]:
        return self.call("GET", "ratelimit")

    def set_rate_limit(
        self, *, remaining: int | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """Set the budget left in the current window (opening one), or the limit."""
        body = {"remaining": remaining, "limit": limit}
        return self.call(
            "POST",
            "ratelimit",
            {key: value for key, value in body.items() if value is not None},
        )

    def service_state(self, project_id: str, service_id: str) -> dict[str, Any]:
        """Paused flag, generations and volumes of one service."""
        return self.call("GET", _service_path(project_id, service_id))

    def delete_service(self, project_id: str, service_id: str) -> dict[str, Any]:
        """Delete a service as if someone did it outside the library."""
        return self.call("POST", f"{_service_path(project_id, service_id)}/delete")

    def set_rollout_outcome(
        self, project_id: str, service_id: str, outcome: str
    ) -> dict[str, Any]:
        """Decide how the current rollout ends: COMPLETED, FAILED or IN_PROGRESS."""
        path = f"{_service_path(project_id, service_id)}/rollout"
        return self.call("POST", path, {"outcome": outcome})
