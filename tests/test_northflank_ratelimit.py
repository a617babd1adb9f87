"""Northflank's hourly request budget: shared, paced, and never a long block."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

import sindri_jupyter as sj
from sindri_jupyter import _deploy
from sindri_jupyter._errors import RateLimitedError
from sindri_jupyter._models import State
from tests.test_northflank_deploy import (  # noqa: F401 - fixtures
    NF_KEY,
    EmulatorClock,
    nf,
    nf_server,
    nf_session,
    point_session_at,
)


def statuses(control) -> list[int]:
    return [r["status"] for r in control.requests()]


def follow(session, deployment, seconds: float | None = None):
    """A background wait (or, with ``seconds``, a watch) in its own provider."""

    async def run():
        async with session.provider("northflank") as api:
            if seconds is None:
                return await _deploy.wait_ready(
                    session, api, deployment, 6 * 3600, lambda _: None
                )
            return await _deploy.watch(
                session, api, deployment, seconds, lambda _: None
            )

    return asyncio.run(run())


def test_the_headers_are_kept_where_every_process_sees_them(nf_session, nf):
    sj.status("northflank")
    rows = nf_session.store.rate_limit("northflank", _account())
    limit, remaining, reset_at, observed_at, _ = rows
    assert limit == 1000 and remaining == nf.rate_limit()["remaining"]
    assert reset_at - observed_at == pytest.approx(3600, abs=2)


def _account() -> str:
    from sindri_jupyter._ratelimit import account_of

    return account_of(NF_KEY)


def test_a_nearly_spent_budget_slows_a_background_wait_instead_of_a_429(nf_session, nf):
    deployment = sj.deploy("northflank", gpu="L4", name="slow-one", wait=False)
    nf.set_rate_limit(remaining=4)
    sj.status("northflank")  # learns the budget is nearly spent
    clock = nf_session.clock
    clock.slept.clear()
    ready = follow(nf_session, deployment)
    assert ready.state is State.READY
    assert 429 not in statuses(nf)
    # It waited most of the window out rather than spend the reserve.
    assert max(clock.slept) > 3000


def test_after_a_429_a_wait_sleeps_until_the_reset_and_a_typed_command_returns(
    nf_session, nf
):
    deployment = sj.deploy("northflank", gpu="L4", name="limited", wait=False)
    nf.set_rate_limit(remaining=0)
    reset = nf.rate_limit()["reset"]
    clock = nf_session.clock
    before = clock.now
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        sj.status("northflank")
    assert time.monotonic() - started < 2
    assert clock.now == before  # the typed command did not wait
    assert f"rate limited, resets in {-(-reset // 60)} min" in str(caught.value)
    # Known spent now: the next typed command refuses without sending anything.
    sent = len(nf.requests())
    with pytest.raises(RateLimitedError):
        sj.stop("limited")
    assert len(nf.requests()) == sent
    ready = follow(nf_session, deployment)
    assert ready.state is State.READY
    assert clock.now - before >= reset
    assert statuses(nf).count(429) == 1


def test_a_one_hour_watch_of_a_steady_service_stays_far_under_the_budget(nf_server, nf):
    from sindri_jupyter import _api
    from sindri_jupyter._config import Endpoint

    # A real endpoint's pace (not the sandbox's), on the emulator's clock.
    endpoint = Endpoint("northflank", nf_server.base_url, NF_KEY, sandbox=False)
    session = point_session_at({"northflank": endpoint}, EmulatorClock(nf))
    try:
        deployment = sj.deploy("northflank", gpu="L4", name="steady")
        nf.clear_requests()
        follow(session, deployment, seconds=3600)
    finally:
        _api._session = None
    made = len(nf.requests())
    print(f"one-hour watch of one steady service: {made} requests")
    assert made <= 65


WATCHER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from sindri_jupyter import _deploy
    from sindri_jupyter._config import Endpoint
    from sindri_jupyter._engine import Clock, Session

    base_url, key, speed, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])

    class Fast(Clock):
        def monotonic(self):
            return time.monotonic() * speed
        async def sleep(self, s):
            await asyncio.sleep(s / speed)

    session = Session(endpoints={"northflank": Endpoint("northflank", base_url, key, False)}, clock=Fast())

    async def main():
        async with session.provider("northflank") as api:
            remote = await api.get("sindri/shared")
            found = api.to_deployment(remote, now=api.server_time())
            await _deploy.watch(session, api, found, seconds, lambda _: None)

    asyncio.run(main())
    print(json.dumps({"ok": True}))
    """
)


def test_two_kernels_polling_at_once_stay_inside_one_shared_budget(
    tmp_path, fresh_data_dir
):
    from sindri_jupyter import _api
    from sindri_jupyter._config import Endpoint
    from sindri_jupyter.emulators import serve
    from sindri_jupyter.emulators.northflank import NorthflankControl

    speed, limit = 1000.0, 40
    clock = {"mode": "realtime", "speed": speed}
    with serve("northflank", seed=7, api_keys=[NF_KEY], clock=clock) as server:
        control = NorthflankControl(server.base_url)
        endpoint = Endpoint("northflank", server.base_url, NF_KEY, sandbox=True)
        point_session_at({"northflank": endpoint}, _Fast(speed))
        try:
            sj.deploy("northflank", gpu="L4", name="shared")
        finally:
            _api._session = None
        control.set_rate_limit(limit=limit, remaining=limit)
        window_end = _instant(control.clock()["now"]) + control.rate_limit()["reset"]
        control.clear_requests()
        script = tmp_path / "watch.py"
        script.write_text(WATCHER)
        env = {**os.environ, "SINDRI_JUPYTER_DATA_DIR": str(fresh_data_dir)}
        # 50 virtual minutes each: a watch alone would make about 50 requests.
        args = [server.base_url, NF_KEY, str(speed), "3000"]
        kernels = [
            subprocess.Popen(
                [sys.executable, str(script), *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for kernel in kernels:
            out, err = kernel.communicate(timeout=60)
            assert kernel.returncode == 0, err
            assert json.loads(out.strip().splitlines()[-1]) == {"ok": True}
        made = control.requests()
    assert 429 not in [r["status"] for r in made]
    in_window = [r for r in made if _instant(r["time"]) < window_end]
    assert len(in_window) <= limit
    assert len(in_window) >= 8  # both watched


def _instant(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class _Fast:
    def __init__(self, speed: float):
        self.speed = speed

    def monotonic(self) -> float:
        return time.monotonic() * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)
