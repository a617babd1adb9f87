"""What the REST handlers ask of the provider core, shaped as plain JSON.

Every call to the core runs on the library's own background loop (the one the
blocking API uses), never on the Jupyter server's loop: the core does a little
blocking work of its own (the local store, starting the sandbox's emulators),
and none of it may stall the server. Handlers await the result.

Status reads are shared: every open tab asks this process, and this process
asks each provider at most once per :data:`FRESH_SECONDS`, however many tabs
ask. An action invalidates the shared read, so the next refresh of every tab
sees what the action did.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from .. import _api, _display, _sync
from .._errors import RateLimitedError, SindriError
from .._models import Deployment, GpuOffer, State
from .._redact import mask

logger = logging.getLogger("sindri_jupyter")

T = TypeVar("T")

#: a status read younger than this is shared instead of asking the providers again
FRESH_SECONDS = 2.0
#: the refresh interval the UI is told to use while something is changing
CHANGING_SECONDS = 2.0
_BILLING = (State.PENDING, State.RUNNING, State.READY)
_UNSETTLED = (State.PENDING, State.RUNNING)


async def on_core_loop(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on the library's loop and wait for it without blocking ours."""
    future = asyncio.run_coroutine_threadsafe(work, _sync._background_loop())
    return await asyncio.wrap_future(future)


# -- JSON shapes -------------------------------------------------------------------
def deployment_json(deployment: Deployment) -> dict[str, Any]:
    """One deployment as the panel shows it; no connection details, no secrets."""
    return {
        "ref": f"{deployment.provider}:{deployment.id}",
        "provider": deployment.provider,
        "id": mask(deployment.id),
        "name": mask(deployment.name),
        "state": deployment.state.value,
        "gpu": mask(_display.gpu_text(deployment)),
        "cost_per_hour": deployment.cost_per_hour,
        "spent": deployment.spent,
        "uptime_seconds": deployment.uptime_seconds,
        "detail": mask(deployment.detail) or None,
        "image": mask(deployment.image) or None,
    }


def offer_json(offer: GpuOffer, cloud: str | None) -> dict[str, Any]:
    return {
        "id": offer.id,
        "name": offer.name,
        "memory_gb": offer.memory_gb,
        "price_per_hour": offer.price(cloud),
        "stock": offer.stock,
        "max_count": offer.max_count,
        "count_options": offer.count_options,
    }


def burn_rate(deployments: list[Deployment]) -> float:
    return sum(d.cost_per_hour for d in deployments if d.state in _BILLING)


# -- the shared status read ------------------------------------------------------------
class StatusBoard:
    """The latest status of every provider, read at most once per fresh period."""

    def __init__(self, *, fresh_seconds: float = FRESH_SECONDS):
        self.fresh_seconds = fresh_seconds
        self._deployments: list[Deployment] = []
        self._error: str | None = None
        self._read_at: float | None = None
        self._reading: asyncio.Future[None] | None = None
        self._retry_after = 0.0
        self._stretched = CHANGING_SECONDS
        # Bumped by every action: a read begun before it may miss what it did.
        self._generation = 0
        self._reading_generation = -1

    def invalidate(self) -> None:
        self._generation += 1
        self._read_at = None

    async def snapshot(self) -> dict[str, Any]:
        """The shared status, read again where it is older than the fresh period."""
        now = time.monotonic()
        if self._read_at is None or now - self._read_at >= self.fresh_seconds:
            reading = self._reading
            if (
                reading is None
                or reading.done()
                or self._reading_generation != self._generation
            ):
                self._reading_generation = self._generation
                reading = self._reading = asyncio.ensure_future(
                    self._read(self._generation)
                )
            await asyncio.shield(reading)
        return self._as_json()

    async def _read(self, generation: int) -> None:
        try:
            found, stretched = await on_core_loop(_read_status())
        except RateLimitedError as limited:
            found, stretched = None, self._stretched
            error, retry_after = mask(str(limited)), limited.retry_after or 0.0
        except SindriError as failure:
            found, stretched = None, self._stretched
            error, retry_after = mask(str(failure)), 0.0
        else:
            error, retry_after = None, 0.0
        if generation != self._generation:
            return  # begun before an action: a newer read will say what it did
        if found is not None:
            self._deployments = found  # on an error, the last list stays in view
        self._error, self._retry_after, self._stretched = error, retry_after, stretched
        self._read_at = time.monotonic()

    def _as_json(self) -> dict[str, Any]:
        deployments = self._deployments
        unsettled = any(d.state in _UNSETTLED for d in deployments)
        return {
            "deployments": [deployment_json(d) for d in deployments],
            "burn_rate": burn_rate(deployments),
            "error": self._error,
            "changing": unsettled,
            # The UI waits at least this long before its next refresh: fast while
            # something changes, longer where a provider's budget runs low.
            "min_refresh_seconds": max(
                self.fresh_seconds,
                self._retry_after,
                self._stretched,
            ),
        }


async def _read_status() -> tuple[list[Deployment], float]:
    """Every deployment, and the changing-state interval stretched by the budget."""
    from .._ratelimit import background

    # Background pacing: a refresh never eats the reserve kept for typed commands.
    with background():
        found = await _api.session().status()
    return found, _budget_stretch(CHANGING_SECONDS)


def _budget_stretch(seconds: float) -> float:
    """The interval stretched to fit each provider's shared request budget."""
    from .._ratelimit import stretched

    return stretched(_api.session(), seconds)


# -- one call per endpoint ----------------------------------------------------------
async def providers() -> dict[str, Any]:
    session = _api.session()
    from .._config import PROVIDERS

    try:
        configured = session.configured()
        error = None
    except SindriError as failure:
        configured, error = [], mask(str(failure))
    return {
        "providers": list(PROVIDERS),
        "configured": configured,
        "default_provider": session.settings.default_provider,
        "sandbox": session.settings.sandbox_on,
        "error": error,
    }


async def gpus(provider: str) -> dict[str, Any]:
    offers = await _api.agpus(provider)
    cloud = _api.session().settings.cloud
    return {"provider": provider, "gpus": [offer_json(o, cloud) for o in offers]}


async def deploy(options: dict[str, Any]) -> dict[str, Any]:
    """Create one deployment; the status refreshes follow it until it is ready.

    Not waiting here keeps the request short and spends no extra requests: the
    shared status read already follows every deployment.
    """
    provider = options.pop("provider", None)
    deployment = await _api.adeploy(provider, wait=False, **options)
    return deployment_json(deployment)


async def act(action: str, reference: str) -> dict[str, Any]:
    if action == "stop":
        result = await _api.astop(reference)
    elif action == "start":
        result = await _api.astart(reference, wait=False)
    else:
        result = await _api.adestroy(reference)
    shown = result.deployment
    return {
        "message": mask(result.message),
        "deployment": deployment_json(shown) if shown is not None else None,
    }


async def preview_destroy(reference: str) -> dict[str, Any]:
    label, warning = await _api.session().preview("destroy", reference)
    return {"label": mask(label), "warning": mask(warning) or None}


async def connection(reference: str) -> dict[str, Any]:
    deployment = await _api.aconnect(reference)
    lines = _display.connection_lines(deployment.connection)
    return {
        "deployment": deployment_json(deployment),
        # connection_lines masks every value, the Jupyter token included.
        "lines": [{"label": label, "value": value} for label, value in lines],
    }
