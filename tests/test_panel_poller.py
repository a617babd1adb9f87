"""The shared poller: what a round reads, and how often rounds come."""

from __future__ import annotations

import asyncio

import pytest

import sindri_jupyter as sj
from sindri_jupyter._models import Deployment, State
from sindri_jupyter._panel._poller import Poller, Snapshot
from tests._clock import SteppedClock


def poller_clock() -> SteppedClock:
    """Poller time that moves only when the poller sleeps."""
    return SteppedClock(pause=0)


def poller_for(session, clock: SteppedClock) -> Poller:
    return Poller(session.status, monotonic=clock.monotonic, sleep=clock.sleep)


def deployment(state: State, number: int = 1) -> Deployment:
    return Deployment(provider="runpod", id=f"pod{number}", name="x", state=state)


def snapshot(*states: State) -> Snapshot:
    return Snapshot(deployments=[deployment(s, i) for i, s in enumerate(states)])


async def run_for(poller: Poller, clock: SteppedClock, seconds: float) -> None:
    task = asyncio.ensure_future(poller.run())
    while clock.now < seconds:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def list_requests(control) -> list[dict]:
    return [r for r in control.requests() if r["path"] == "/v2/pods"]


@pytest.fixture
def fifty_ready_pods(session, control):
    control.set_stock("NVIDIA L40", 100)
    for number in range(50):
        sj.deploy("runpod", gpu="L40", name=f"worker-{number}", wait=False)
    control.advance(60)
    control.clear_requests()


def test_one_round_with_fifty_deployments_makes_one_list_request(
    session, control, fifty_ready_pods
):
    clock = poller_clock()
    poller = poller_for(session, clock)
    found = asyncio.run(poller.round())
    assert len(found.deployments) == 50
    assert all(d.state is State.READY for d in found.deployments)
    assert [(r["method"], r["path"]) for r in control.requests()] == [
        ("GET", "/v2/pods")
    ]


def test_an_hour_with_everything_steady_costs_120_list_requests(
    session, control, fifty_ready_pods
):
    clock = poller_clock()
    poller = poller_for(session, clock)
    asyncio.run(run_for(poller, clock, 3600))
    made = list_requests(control)
    # Rounds at 0, 30, ..., 3600 s: 3600 / 30 + 1, and nothing but lists.
    assert len(made) == 121
    assert len(control.requests()) == len(made)


def test_rounds_are_fast_while_something_changes_and_slow_when_steady():
    poller = Poller(lambda: None, monotonic=lambda: 0.0, sleep=asyncio.sleep)
    steady = snapshot(State.READY, State.STOPPED)
    pending = snapshot(State.READY, State.PENDING)
    assert poller.next_wait(steady, steady) == poller.steady_seconds
    assert poller.next_wait(steady, pending) == poller.changing_seconds
    # Nothing changed but still pending: the wait grows, up to its cap.
    waits = [poller.next_wait(pending, pending) for _ in range(10)]
    assert waits[0] > poller.changing_seconds and max(waits) == 15.0
    assert poller.next_wait(pending, steady) == poller.changing_seconds
    assert poller.next_wait(steady, steady) == poller.steady_seconds


def test_a_budget_stretches_the_wait():
    poller = Poller(
        lambda: None,
        monotonic=lambda: 0.0,
        sleep=asyncio.sleep,
        stretch=lambda seconds: seconds * 4,
    )
    steady = snapshot(State.READY)
    assert poller.next_wait(steady, steady) == poller.steady_seconds * 4


def test_a_failed_round_keeps_the_last_rows_and_says_why(session, control):
    clock = poller_clock()
    poller = poller_for(session, clock)
    sj.deploy("runpod", gpu="L40", name="kept")
    asyncio.run(poller.round())
    control.enable_fault("server-error")
    failed = asyncio.run(poller.round())
    assert [d.name for d in failed.deployments] == ["kept"]
    assert failed.error and "500" in failed.error


def test_fifty_across_both_providers_cost_one_list_request_each_per_round(
    session, control, runpod_key
):
    from sindri_jupyter._config import Endpoint
    from sindri_jupyter.emulators import EmulatorControl, serve
    from sindri_jupyter.providers import available

    if "northflank" not in available():
        pytest.skip("the Northflank provider is not registered in this version")
    key = "nf-" + "k" * 30
    control.set_stock("NVIDIA L40", 100)
    with (
        serve("northflank", seed=7, api_keys=[key], clock="manual") as server,
        EmulatorControl(server.base_url) as northflank,
    ):
        session.endpoints["northflank"] = Endpoint(
            "northflank", server.base_url, key, sandbox=True
        )
        for number in range(25):
            sj.deploy("runpod", gpu="L40", name=f"pod-{number}", wait=False)
            sj.deploy("northflank", gpu="l4-24", name=f"svc-{number}", wait=False)
        control.advance(120)
        northflank.advance(600)
        poller = poller_for(session, poller_clock())
        # The first round reads what became ready (each service once, and its
        # token once); from then on, steady rounds read only the lists.
        asyncio.run(poller.round())
        for _ in range(3):
            control.clear_requests()
            northflank.clear_requests()
            northflank.advance(30)
            found = asyncio.run(poller.round())
            by_provider = {d.provider for d in found.deployments}
            assert len(found.deployments) == 50
            assert by_provider == {"runpod", "northflank"}
            assert all(d.state is State.READY for d in found.deployments)
            assert all(d.connection.jupyter_url for d in found.deployments)
            assert [(r["method"], r["path"]) for r in control.requests()] == [
                ("GET", "/v2/pods")
            ]
            assert [(r["method"], r["path"]) for r in northflank.requests()] == [
                ("GET", "/v1/projects/sindri/services")
            ]
