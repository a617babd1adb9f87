"""`EmulatorControl`: a small httpx client for the `/_emulator/` control surface."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self
from urllib.parse import quote

import httpx

from ._clock import format_instant


class EmulatorControlError(Exception):
    """A control endpoint refused the call; `status` and `detail` say why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"emulator control answered {status}: {detail}")
        self.status = status
        self.detail = detail


def _instant(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return format_instant(value)


class EmulatorControl:
    """Steer a running emulator: journal, clock, faults, reset and provider knobs.

    Works with any provider emulator; the RunPod-only helpers (`set_stock`,
    `set_price`, `delete_pod`) answer 404 on other providers.
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=f"{self.base_url}/_emulator", timeout=timeout
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """Any control endpoint; `path` is relative to `/_emulator/`."""
        query = {key: value for key, value in params.items() if value is not None}
        response = self._http.request(
            method, f"/{path.lstrip('/')}", json=body, params=query
        )
        if response.is_error:
            try:
                detail = response.json().get("error", response.text)
            except ValueError:
                detail = response.text
            raise EmulatorControlError(response.status_code, detail)
        return response.json()

    # -- shared endpoints ----------------------------------------------------

    def health(self) -> dict:
        return self.call("GET", "health")

    def requests(self) -> list[dict]:
        """The journal of provider-API requests, oldest first."""
        return self.call("GET", "requests")["requests"]

    def clear_requests(self) -> int:
        return self.call("DELETE", "requests")["cleared"]

    def clock(self) -> dict:
        return self.call("GET", "clock")

    def set_clock(
        self,
        *,
        mode: str | None = None,
        speed: float | None = None,
        step: float | None = None,
        epoch: datetime | str | None = None,
    ) -> dict:
        body = {"mode": mode, "speed": speed, "step": step, "epoch": _instant(epoch)}
        return self.call(
            "POST",
            "clock",
            {key: value for key, value in body.items() if value is not None},
        )

    def advance(self, seconds: float) -> dict:
        return self.call("POST", "clock", {"advance": seconds})

    def faults(self) -> list[dict]:
        return self.call("GET", "faults")["enabled"]

    def enable_fault(
        self,
        name: str,
        *,
        count: int | None = None,
        method: str | None = None,
        path: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict:
        body: dict[str, Any] = {"name": name}
        if count is not None:
            body["count"] = count
        match = {
            key: value for key, value in (("method", method), ("path", path)) if value
        }
        if match:
            body["match"] = match
        if params:
            body["params"] = params
        return self.call("POST", "faults", body)

    def clear_faults(self, name: str | None = None) -> int:
        return self.call("DELETE", "faults", name=name)["cleared"]

    def reset(
        self, *, seed: int | None = None, epoch: datetime | str | None = None
    ) -> dict:
        body = {"seed": seed, "epoch": _instant(epoch)}
        return self.call(
            "POST",
            "reset",
            {key: value for key, value in body.items() if value is not None},
        )

    # -- RunPod ----------------------------------------------------------------

    def set_stock(
        self,
        gpu: str,
        count: int,
        *,
        data_center: str | None = None,
        cloud: str | None = None,
    ) -> dict:
        """Set free GPUs for a type (per data center and cloud; all when omitted)."""
        body: dict[str, Any] = {"gpu": gpu, "count": count}
        if data_center:
            body["dataCenter"] = data_center
        if cloud:
            body["cloud"] = cloud
        return self.call("POST", "stock", body)

    def set_price(
        self, gpu: str, *, secure: float | None = None, community: float | None = None
    ) -> dict:
        """Change a GPU type's list price per cloud (USD per GPU-hour)."""
        body: dict[str, Any] = {"gpu": gpu}
        if secure is not None:
            body["secure"] = secure
        if community is not None:
            body["community"] = community
        return self.call("POST", "catalog", body)

    def delete_pod(self, pod_id: str) -> dict:
        """Delete a pod as if someone did it outside the library."""
        return self.call("POST", f"pods/{quote(pod_id, safe='')}/delete")
