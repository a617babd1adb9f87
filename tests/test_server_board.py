"""The server extension's shared status read, without a server: many tabs, one read."""

from __future__ import annotations

import asyncio

import pytest

from sindri_jupyter._errors import RateLimitedError
from sindri_jupyter._models import Deployment, State
from sindri_jupyter._server import _service


def pod(name: str, state: State = State.READY) -> Deployment:
    return Deployment(
        provider="runpod", id=f"id-{name}", name=name, state=state, cost_per_hour=1.5
    )


@pytest.fixture
def provider(monkeypatch):
    """A stand-in status read: what it returns, how often it ran, when it ends."""

    class Fake:
        listed: list[Deployment] = [pod("a")]
        reads = 0
        gate: asyncio.Event | None = None
        error: Exception | None = None

    async def read() -> tuple[list[Deployment], float]:
        Fake.reads += 1
        listed = list(Fake.listed)
        if Fake.gate is not None:
            await Fake.gate.wait()
        if Fake.error is not None:
            raise Fake.error
        return listed, 2.0

    async def here(work):  # the test's own loop stands in for the core's loop
        return await work

    monkeypatch.setattr(_service, "_read_status", read)
    monkeypatch.setattr(_service, "on_core_loop", here)
    return Fake


async def test_concurrent_tabs_share_one_read(provider):
    board = _service.StatusBoard()
    answers = await asyncio.gather(*(board.snapshot() for _ in range(10)))
    assert provider.reads == 1
    assert all(a["deployments"][0]["name"] == "a" for a in answers)
    assert answers[0]["burn_rate"] == 1.5


async def test_a_read_begun_before_an_action_does_not_hide_it(provider):
    board = _service.StatusBoard()
    provider.gate = asyncio.Event()
    early = asyncio.ensure_future(board.snapshot())  # reads the list with "a"
    await asyncio.sleep(0)
    provider.listed = []  # "a" is destroyed...
    board.invalidate()  # ...and the action says so
    provider.gate.set()
    await early
    after = await board.snapshot()
    assert after["deployments"] == [], "a read from before the destroy was kept"
    assert provider.reads == 2


async def test_an_error_keeps_the_last_list_and_says_why(provider):
    board = _service.StatusBoard(fresh_seconds=0)
    await board.snapshot()
    provider.error = RateLimitedError(
        "runpod: rate limited, resets in 1 min.", provider="runpod", retry_after=60
    )
    limited = await board.snapshot()
    assert [d["name"] for d in limited["deployments"]] == ["a"]
    assert limited["error"].startswith("runpod: rate limited")
    assert limited["min_refresh_seconds"] >= 60


def test_deployment_json_masks_and_omits_connection():
    shown = _service.deployment_json(pod("b", State.PENDING))
    assert shown["ref"] == "runpod:id-b"
    assert "connection" not in shown and shown["state"] == "pending"


def test_typed_errors_map_to_http_statuses():
    from sindri_jupyter import _errors as errors
    from sindri_jupyter._server._handlers import status_for

    cases = [
        (errors.UnknownGpuError("x", value="h9000", nearest=[]), 400),
        (errors.UnknownDeploymentError("x"), 404),
        (errors.NotConfiguredError("x"), 409),
        (errors.CapacityError("x", provider="runpod"), 409),
        (errors.RequestRejectedError("x", provider="runpod"), 400),
        (errors.RateLimitedError("x", provider="runpod", retry_after=3), 429),
        (errors.TransportError("x", provider="runpod"), 502),
        (errors.DeploymentGoneError("x"), 410),
    ]
    for error, status in cases:
        assert status_for(error) == status, type(error).__name__
