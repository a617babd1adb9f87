"""Guards proven on the emulator's clock, with the in-pod watchdog really running.

The RunPod emulator runs each pod's start command in bash, with stand-ins for
the image's start script, runpodctl, curl, nvidia-smi and a sleep and date that
follow its virtual clock. Nothing here reads a limit from a pod's env: the pod
stops because the watchdog the library put in its start command stopped it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta

import httpx
import pytest

import sindri_jupyter as sj
from sindri_jupyter import cli
from sindri_jupyter._watchdog import WATCHDOG_SECONDS

BOOT_SECONDS = 3  # past the emulator's 2.5 s of PROVISIONING and STARTING


@pytest.fixture
def manual(control):
    control.set_clock(mode="manual")
    return control


def pod_status(server, key: str, pod_id: str) -> str:
    reply = httpx.get(
        f"{server.base_url}/v2/pods/{pod_id}",
        headers={"Authorization": f"Bearer {key}"},
    )
    return reply.json()["status"]


def events(control, pod_id: str) -> list[str]:
    boots = control.call("GET", f"pods/{pod_id}/container")["boots"]
    return [line for boot in boots for line in boot["events"]]


def wait_for(check, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def count(control, pod_id: str, word: str) -> int:
    return sum(word in line for line in events(control, pod_id))


def step(control, pod_id: str, seconds: float, word: str = "sleep") -> None:
    """Advance the clock, then wait until the watchdog has looked again."""
    before = count(control, pod_id, word)
    control.advance(seconds)
    wait_for(
        lambda: count(control, pod_id, word) > before or stopped(control, pod_id),
        f"a new {word!r}",
    )


def stopped(control, pod_id: str) -> bool:
    boots = control.call("GET", f"pods/{pod_id}/container")["boots"]
    return not boots[-1]["running"] and boots[-1]["exitCode"] is not None


def boot(control, pod_id: str) -> None:
    control.advance(BOOT_SECONDS)
    wait_for(lambda: count(control, pod_id, "sleep") >= 1, "the watchdog's sleep")


def test_max_hours_stops_the_pod_after_an_hour_with_the_deploying_kernel_gone(
    runpod_emulator, manual, runpod_key, tmp_path
):
    script = textwrap.dedent(
        """
        import os, sys, time
        from sindri_jupyter import _api
        from sindri_jupyter._config import Endpoint
        from sindri_jupyter._engine import Session
        import sindri_jupyter as sj

        endpoint = Endpoint(
            "runpod", os.environ["URL"], os.environ["KEY"], sandbox=True
        )
        _api._session = Session(endpoints={"runpod": endpoint})
        _api._session.settings.ssh_key_path = "/nonexistent/id.pub"
        pod = sj.deploy("runpod", gpu="L40", name="hourly", max_hours=1, wait=False)
        print(pod.id, flush=True)
        time.sleep(600)
        """
    )
    environment = {
        **os.environ,
        "URL": runpod_emulator.base_url,
        "KEY": runpod_key,
        "SINDRI_JUPYTER_DATA_DIR": str(tmp_path / "other-kernel"),
    }
    kernel = subprocess.Popen(
        [sys.executable, "-c", script],
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pod_id = kernel.stdout.readline().strip()
        assert pod_id, "the deploying process printed no pod id"
    finally:
        kernel.kill()
        kernel.wait()
    boot(manual, pod_id)
    step(manual, pod_id, 3600 - WATCHDOG_SECONDS)
    assert pod_status(runpod_emulator, runpod_key, pod_id) == "RUNNING"
    manual.advance(WATCHDOG_SECONDS)
    wait_for(
        lambda: pod_status(runpod_emulator, runpod_key, pod_id) == "EXITED",
        "the pod to stop",
    )
    seen = events(manual, pod_id)
    assert any("start.sh ran: started jupyter" in line for line in seen)
    assert any(f"runpodctl stop pod {pod_id}" in line for line in seen)
    stops = [
        r
        for r in manual.requests()
        if r["path"] == f"/v2/pods/{pod_id}/action" and r["body"] == {"action": "stop"}
    ]
    assert len(stops) == 1 and stops[0]["status"] == 200


def test_max_cost_2_on_a_50_cent_pod_stops_it_at_four_hours(
    session, runpod_emulator, manual, runpod_key
):
    manual.set_price("NVIDIA L40", secure=0.5)
    pod = sj.deploy("runpod", gpu="L40", name="budget", max_cost=2, wait=False)
    assert pod.cost_per_hour == 0.5
    boot(manual, pod.id)
    step(manual, pod.id, 4 * 3600 - WATCHDOG_SECONDS)
    assert pod_status(runpod_emulator, runpod_key, pod.id) == "RUNNING"
    manual.advance(WATCHDOG_SECONDS)
    wait_for(
        lambda: pod_status(runpod_emulator, runpod_key, pod.id) == "EXITED",
        "the pod to stop",
    )
    billed = manual.call("GET", "health")  # the emulator is still up
    assert billed["ok"]


def test_max_cost_follows_the_pods_live_price_when_it_changes_mid_run(
    session, runpod_emulator, manual, runpod_key
):
    manual.set_price("NVIDIA L40", secure=0.5)
    pod = sj.deploy(
        "runpod",
        gpu="L40",
        name="repriced",
        max_cost=2,
        env={"cost": "1"},  # a string of that name in env must not be read as $/h
        wait=False,
    )
    boot(manual, pod.id)
    watchdog_started = clock_now(manual)  # the manual clock stood still since
    # An hour at $0.50/h, then the pod's own price goes to $1.50/h.
    step(manual, pod.id, 3600)
    manual.call("POST", f"pods/{pod.id}/cost", {"cost": 1.5})
    # $2 = 1 h × $0.50 + the rest at $1.50/h; at the deploy's $0.50/h it were 4 h.
    hours_to_the_limit = 1 + (2 - 1 * 0.5) / 1.5
    expected_stop = watchdog_started + timedelta(hours=hours_to_the_limit)
    step(manual, pod.id, hours_to_the_limit * 3600 - 3600 - WATCHDOG_SECONDS)
    assert pod_status(runpod_emulator, runpod_key, pod.id) == "RUNNING"
    manual.advance(WATCHDOG_SECONDS)
    wait_for(
        lambda: pod_status(runpod_emulator, runpod_key, pod.id) == "EXITED",
        "the pod to stop",
    )
    journal = manual.requests()
    [stop] = [r for r in journal if r["path"] == f"/v2/pods/{pod.id}/action"]
    assert stop["origin"] == "pod"
    assert datetime.fromisoformat(stop["time"]) == expected_stop
    # The watchdog read the pod at each of its three looks, with the pod's key.
    looks = [
        r["status"]
        for r in journal
        if r["origin"] == "pod" and r["path"] == f"/v2/pods/{pod.id}"
    ]
    assert looks == [200, 200, 200]


def clock_now(control) -> datetime:
    return datetime.fromisoformat(control.clock()["now"])


def test_a_pods_own_calls_are_marked_and_move_no_step_clock(
    session, runpod_emulator, control, runpod_key
):
    pod = sj.deploy("runpod", gpu="L40", name="inside", wait=False)
    key = runpod_emulator.app.containers.key_for(pod.id)
    control.set_clock(mode="step", step=5)
    control.clear_requests()
    before = control.clock()["now"]
    url = f"{runpod_emulator.base_url}/v2/pods/{pod.id}"
    assert httpx.get(url, headers={"Authorization": f"Bearer {key}"}).is_success
    assert control.clock()["now"] == before
    httpx.get(url, headers={"Authorization": f"Bearer {runpod_key}"})
    assert control.clock()["now"] != before
    assert [r["origin"] for r in control.requests()] == ["pod", "client"]


def test_the_kernel_counts_hours_across_starts(
    session, runpod_emulator, manual, runpod_key
):
    pod = sj.deploy(
        "runpod", gpu="L40", name="sum", image="ghcr.io/me/x:1", max_hours=1, wait=False
    )
    manual.advance(BOOT_SECONDS + 40 * 60)
    assert [d.state.value for d in sj.status()] == ["ready"]
    sj.stop("sum")
    sj.start("sum", wait=False)
    manual.advance(BOOT_SECONDS + 19 * 60)  # 40 + 19 minutes: not yet an hour
    assert [d.state.value for d in sj.status()] == ["ready"]
    assert not [line for line in session.take_notices() if "Stopped" in line]
    manual.advance(60)  # 40 + 20 minutes
    assert [d.state.value for d in sj.status()] == ["stopped"]
    assert pod_status(runpod_emulator, runpod_key, pod.id) == "EXITED"
    said = [line for line in session.take_notices() if "Stopped" in line]
    assert said == [
        (
            f"Stopped runpod:sum (id {pod.id}): it ran 1.00 h across 2 starts of "
            "--max-hours 1. Its volume is kept."
        )
    ]


def test_a_start_past_the_total_is_refused_until_a_higher_limit(
    shell, session, runpod_emulator, manual, runpod_key, capsys
):
    pod = sj.deploy(
        "runpod",
        gpu="L40",
        name="spent",
        image="ghcr.io/me/x:1",
        max_cost=1,
        wait=False,
    )
    manual.advance(BOOT_SECONDS + 3600)  # $0.99 after an hour: still under $1
    sj.stop("spent")
    sj.start("spent", wait=False)
    manual.advance(BOOT_SECONDS + 60)  # another minute: over $1 in all
    assert [d.state.value for d in sj.status()] == ["stopped"]
    manual.clear_requests()
    with pytest.raises(sj.LimitReachedError) as refused:
        sj.start("spent")
    assert str(refused.value).startswith(
        f"runpod:spent (id {pod.id}) has already cost $1.0"
    )
    assert "across 2 starts of --max-cost 1, so this kernel would stop it" in str(
        refused.value
    )
    assert "`%sindri start spent --max-cost 2.1` (in Python, max_cost=2.1)" in str(
        refused.value
    )
    starts = [r for r in manual.requests() if r["body"] == {"action": "start"}]
    assert starts == []
    # The pod's billing records counted too: one read, for this pod only.
    [billing] = [r for r in manual.requests() if r["path"] == "/v2/billing/pods"]
    assert billing["query"]["podId"] == [pod.id]
    manual.set_clock(mode="step", step=1)
    capsys.readouterr()
    shell.run_line_magic("sindri", "start spent --max-cost 3")
    out = capsys.readouterr().out
    assert f"Started runpod:spent (id {pod.id}). Its kernel limits are now " in out
    assert "--max-cost 3." in out
    assert pod_status(runpod_emulator, runpod_key, pod.id) == "RUNNING"
    assert session.store.by_remote("runpod", pod.id).details["guards"] == {
        "max_cost": 3.0
    }
    # The terminal's JSON form takes the same options.
    sj.stop("spent")
    assert cli.main(["--json", "start", "spent", "--max-cost", "5"]) == cli.EXIT_OK
    assert session.store.by_remote("runpod", pod.id).details["guards"] == {
        "max_cost": 5.0
    }


@pytest.mark.parametrize(("util", "expected"), [(0, True), (50, False)])
def test_stop_when_idle_30m_stops_an_idle_pod_and_spares_a_busy_one(
    session, runpod_emulator, manual, runpod_key, util, expected
):
    pod = sj.deploy("runpod", gpu="L40", name="idle", stop_when_idle="30m", wait=False)
    manual.call("POST", f"pods/{pod.id}/gpu", {"util": util})
    boot(manual, pod.id)
    # Five minutes a step: the watchdog looks once per step (its sleep is a minute).
    idle_minutes = 0
    while idle_minutes < 40 and not stopped(manual, pod.id):
        step(manual, pod.id, 300)
        idle_minutes += 5
    if expected:
        wait_for(
            lambda: pod_status(runpod_emulator, runpod_key, pod.id) == "EXITED",
            "the idle pod to stop",
        )
        # The first look at 0% starts the count; 30 minutes later it stops.
        assert 30 <= idle_minutes <= 40
    else:
        time.sleep(0.3)
        assert pod_status(runpod_emulator, runpod_key, pod.id) == "RUNNING"


def test_the_watchdog_falls_back_to_the_rest_call_without_runpodctl(
    session, runpod_emulator, manual, runpod_key
):
    pod = sj.deploy("runpod", gpu="L40", name="fallback", max_hours=0.5, wait=False)
    manual.call("POST", f"pods/{pod.id}/container", {"runpodctl": False})
    boot(manual, pod.id)
    manual.advance(1800)
    wait_for(
        lambda: pod_status(runpod_emulator, runpod_key, pod.id) == "EXITED",
        "the pod to stop",
    )
    seen = events(manual, pod.id)
    assert any("not installed" in line for line in seen)
    assert any(f"curl POST /v2/pods/{pod.id}/action" in line for line in seen)


def test_the_pods_key_never_shows_and_works_only_for_its_own_pod(
    session, runpod_emulator, manual, runpod_key
):
    pod = sj.deploy("runpod", gpu="L40", name="keyed", max_hours=1, wait=False)
    other = sj.deploy("runpod", gpu="L40", name="other", wait=False)
    env = httpx.get(
        f"{runpod_emulator.base_url}/v2/pods/{pod.id}",
        headers={"Authorization": f"Bearer {runpod_key}"},
    ).json()["env"]
    assert "RUNPOD_API_KEY" not in env
    assert "$RUNPOD_API_KEY" in pod_body_args(manual)
    containers = runpod_emulator.app.containers
    key = containers.key_for(pod.id)
    assert key not in str(manual.call("GET", f"pods/{pod.id}/container"))
    mine = httpx.get(
        f"{runpod_emulator.base_url}/v2/pods/{pod.id}",
        headers={"Authorization": f"Bearer {key}"},
    )
    theirs = httpx.get(
        f"{runpod_emulator.base_url}/v2/pods/{other.id}",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert (mine.status_code, theirs.status_code) == (200, 401)


def pod_body_args(control) -> str:
    [create] = [
        r
        for r in control.requests()
        if r["method"] == "POST" and r["path"] == "/v2/pods"
    ][:1]
    return create["body"]["args"]


def test_an_image_with_an_unknown_start_command_is_guarded_by_the_kernel_only(
    session, runpod_emulator, manual, runpod_key
):
    said: list[str] = []
    pod = sj.deploy(
        "runpod",
        gpu="L40",
        name="custom",
        image="ghcr.io/me/trainer:1",
        max_hours=1,
        wait=False,
        on_progress=lambda p: said.append(p.message),
    )
    assert any("only this kernel enforces the limit" in line for line in said)
    [create] = [
        r
        for r in manual.requests()
        if r["method"] == "POST" and r["path"] == "/v2/pods"
    ]
    assert "args" not in create["body"]
    manual.advance(BOOT_SECONDS)
    wait_for(lambda: count(manual, pod.id, "image default command ran"), "its start")
    manual.advance(3600)
    listed = sj.status()  # the kernel checks what it lists
    assert [d.state.value for d in listed] == ["stopped"]
    notices = session.take_notices()
    assert any("--max-hours 1" in line and "Stopped" in line for line in notices)


def test_northflank_guards_are_said_to_hold_only_while_a_kernel_runs(session):
    from sindri_jupyter._guards import Limits, apply
    from sindri_jupyter._models import DeploySpec

    spec = DeploySpec(provider="northflank", name="nf", max_cost=3.0)
    [sentence] = apply(spec, [])
    assert "only this kernel enforces the limit, and only while it runs" in sentence
    assert Limits(max_cost=3.0).seconds_allowed(1.5) == 7200


def test_config_defaults_put_a_watchdog_in_every_deploy(
    shell, session, control, capsys
):
    shell.run_line_magic("config", "Sindri.max_hours = 2")
    shell.run_line_magic("config", "Sindri.stop_when_idle = '45m'")
    try:
        shell.run_line_magic("sindri", "deploy runpod --gpu L40 --name c --dry-run")
    finally:
        shell.run_line_magic("config", "Sindri.max_hours = None")
        shell.run_line_magic("config", "Sindri.stop_when_idle = None")
    out = capsys.readouterr().out
    assert "--max-hours 2, --stop-when-idle 45m" in out
    assert "max_seconds=7200" in out and "idle_limit=2700" in out
    assert "exec /start.sh" in out


def test_the_kernel_checks_in_the_background_while_it_runs(
    session, runpod_emulator, manual, runpod_key, monkeypatch
):
    from sindri_jupyter import _guards

    monkeypatch.setattr(_guards, "CHECK_SECONDS", 0.2)
    pod = sj.deploy(
        "runpod", gpu="L40", name="bg", image="ghcr.io/me/x:1", max_cost=1, wait=False
    )
    manual.advance(BOOT_SECONDS + 3600)  # $0.99/h × 1 h of running: not yet $1
    time.sleep(1.0)
    assert pod_status(runpod_emulator, runpod_key, pod.id) == "RUNNING"
    manual.advance(120)
    wait_for(
        lambda: pod_status(runpod_emulator, runpod_key, pod.id) == "EXITED",
        "the kernel's background check to stop it",
    )
    said: list[str] = []
    wait_for(
        lambda: said.extend(session.take_notices()) or said, "the kernel's sentence"
    )
    assert any("--max-cost 1" in line for line in said)
    session.guard_check().close()


def kernel_only(name: str, **limits) -> sj.Deployment:
    """A pod whose image's start is unknown: only the kernel guards it."""
    return sj.deploy(
        "runpod", gpu="L40", name=name, image="ghcr.io/me/x:1", wait=False, **limits
    )


def states() -> list[str]:
    return [d.state.value for d in sj.status()]


def test_the_kernels_dollars_follow_a_price_change_from_when_it_is_seen(
    session, manual
):
    manual.set_price("NVIDIA L40", secure=0.5)
    pod = kernel_only("repriced", max_cost=2)
    manual.advance(BOOT_SECONDS + 3600)
    assert states() == ["ready"]  # $0.50 so far
    manual.call("POST", f"pods/{pod.id}/cost", {"cost": 1.5})
    # Charged in full at $1.50/h the hour would be $1.50 and the limit near.
    manual.advance(58 * 60)  # $0.50 + 58 min at $1.50/h = $1.95
    assert states() == ["ready"]
    manual.advance(3 * 60)  # $2.025
    assert states() == ["stopped"]


def test_a_pod_stopped_elsewhere_just_before_the_kernel_stops_it(
    session, manual, runpod_key
):
    import httpx

    class WatchdogFirst(httpx.AsyncBaseTransport):
        """Sends the stop the watchdog would send, just before the kernel's."""

        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()

        async def handle_async_request(self, request):
            if request.url.path.endswith("/action"):
                async with httpx.AsyncClient() as other:
                    await other.post(
                        str(request.url),
                        json={"action": "stop"},
                        headers={"Authorization": f"Bearer {runpod_key}"},
                    )
            return await self.inner.handle_async_request(request)

    pod = kernel_only("raced", max_hours=1)
    manual.advance(BOOT_SECONDS + 3600)
    session.transport = WatchdogFirst()
    listed = sj.status()  # the kernel's stop meets a pod already stopping
    assert [d.id for d in listed] == [pod.id]
    session.transport = None
    assert states() == ["stopped"]


def test_new_limits_on_a_running_pod_are_kept_not_dropped(session, manual):
    pod = kernel_only("running", max_hours=1)
    manual.advance(BOOT_SECONDS + 50 * 60)
    said = sj.start("running", max_hours=5).message
    assert said == (
        f"runpod:running (id {pod.id}) is already ready. Its kernel limits are now "
        "--max-hours 5."
    )
    manual.advance(15 * 60)
    assert states() == ["ready"]


def test_limits_given_at_a_start_count_the_hours_billed_before(
    session, manual, runpod_emulator, runpod_key
):
    pod = sj.deploy("runpod", gpu="L40", name="unguarded", wait=False)
    manual.advance(BOOT_SECONDS + 10 * 3600)
    sj.stop("unguarded")
    with pytest.raises(sj.LimitReachedError, match="has already run 10.0"):
        sj.start("unguarded", max_hours=5, wait=False)
    assert pod_status(runpod_emulator, runpod_key, pod.id) == "EXITED"


@pytest.mark.parametrize("value", [10**400, 1e305, "1e7"])
def test_limits_too_large_to_mean_anything_are_refused_in_one_sentence(
    session, control, value
):
    with pytest.raises(sj.InputError, match="is more than 1,000,000|greater than"):
        sj.plan("runpod", gpu="L40", name="huge", max_hours=value)
    assert control.requests() == []


def test_the_dry_run_shows_the_watchdogs_key_variable_not_a_mask(session, control):
    plan = str(sj.plan("runpod", gpu="L40", name="dry", max_cost=3))
    assert "Bearer $RUNPOD_API_KEY" in plan
    assert "Bearer •••" not in plan
