"""What a Northflank status round reads, and when (docs/northflank.md)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

import sindri_jupyter as sj
from sindri_jupyter._models import State
from sindri_jupyter.providers.northflank import listing
from tests.test_northflank_deploy import (  # noqa: F401 - fixtures
    NF_KEY,
    EmulatorClock,
    api_call,
    nf,
    nf_server,
    nf_session,
    point_session_at,
)

SERVICES = "/v1/projects/sindri/services"


def paths(control) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in control.requests()]


def round_of(session, control) -> tuple[list, list[str]]:
    control.clear_requests()
    found = asyncio.run(session.status("northflank"))
    return found, paths(control)


@pytest.fixture
def twenty_five(nf_session, nf):
    for number in range(25):
        sj.deploy("northflank", gpu="L4", name=f"svc-{number}", wait=False)
    nf.advance(600)
    asyncio.run(nf_session.status("northflank"))  # reads what became ready
    return nf_session


def test_a_steady_round_of_twenty_five_services_is_one_list_request(twenty_five, nf):
    for _ in range(3):
        nf.advance(30)
        found, made = round_of(twenty_five, nf)
        assert made == [f"GET {SERVICES}"]
        assert len(found) == 25 and {d.state for d in found} == {State.READY}
        assert all(d.connection.jupyter_url for d in found)
        assert all(d.cost_per_hour > 0 and d.uptime_seconds for d in found)


def test_the_first_round_of_a_process_reads_each_service_and_token_once(nf_session, nf):
    for number in range(3):
        sj.deploy("northflank", gpu="L4", name=f"svc-{number}", wait=False)
    nf.advance(600)
    _, made = round_of(nf_session, nf)
    assert made.count("GET /v1/projects") == 1  # the scan of every project
    assert made.count(f"GET {SERVICES}") == 1
    for number in range(3):
        assert made.count(f"GET {SERVICES}/svc-{number}") == 1
        assert made.count(f"GET {SERVICES}/svc-{number}/runtime-environment") == 1
    assert len(made) == 2 + 3 * 2


def test_a_pause_made_elsewhere_is_read_in_the_next_round(twenty_five, nf, nf_server):
    api_call(nf_server, "POST", f"{SERVICES}/svc-3/pause")
    _, made = round_of(twenty_five, nf)
    assert made == [f"GET {SERVICES}", f"GET {SERVICES}/svc-3"]
    nf.advance(60)
    found, made = round_of(twenty_five, nf)
    assert made == [f"GET {SERVICES}", f"GET {SERVICES}/svc-3"]
    paused = [d for d in found if d.name == "svc-3"]
    assert paused[0].state is State.STOPPED and paused[0].cost_per_hour == 0
    _, made = round_of(twenty_five, nf)
    assert made == [f"GET {SERVICES}"]


def test_a_kept_read_older_than_the_bound_is_read_again_but_not_its_token(
    twenty_five, nf
):
    nf.advance(listing.STALE_SECONDS)
    _, made = round_of(twenty_five, nf)
    assert made[0] == f"GET {SERVICES}"
    assert sorted(made[1:]) == sorted(f"GET {SERVICES}/svc-{n}" for n in range(25))
    _, made = round_of(twenty_five, nf)
    assert made == [f"GET {SERVICES}"]


def test_the_librarys_own_actions_are_read_afresh(twenty_five, nf):
    sj.stop("svc-7")
    nf.advance(60)
    found, made = round_of(twenty_five, nf)
    assert made == [f"GET {SERVICES}", f"GET {SERVICES}/svc-7"]
    assert [d.state for d in found if d.name == "svc-7"] == [State.STOPPED]
    sj.destroy("svc-8", yes=True)
    found, made = round_of(twenty_five, nf)
    assert made == [f"GET {SERVICES}"]
    assert "svc-8" not in {d.name for d in found if d.state is not State.GONE}


def test_projects_are_scanned_once_per_process_then_once_an_hour(twenty_five, nf):
    nf.advance(listing.SCAN_SECONDS - 60)
    round_of(twenty_five, nf)  # the bound re-reads every service; no scan yet
    nf.advance(60)
    _, made = round_of(twenty_five, nf)
    assert made == [f"GET {SERVICES}", "GET /v1/projects"]
    _, made = round_of(twenty_five, nf)
    assert made == [f"GET {SERVICES}"]


def test_a_lost_store_finds_every_service_by_its_tag_in_another_project(
    nf_server, nf, fresh_data_dir, tmp_path, monkeypatch
):
    from sindri_jupyter import _api
    from sindri_jupyter._config import Endpoint

    endpoint = Endpoint("northflank", nf_server.base_url, NF_KEY, sandbox=True)
    first = point_session_at({"northflank": endpoint}, EmulatorClock(nf))
    try:
        sj.deploy("northflank", gpu="L4", name="kept", project="research")
        # Another kernel, with a store of its own that knows nothing.
        monkeypatch.setenv("SINDRI_JUPYTER_DATA_DIR", str(tmp_path / "elsewhere"))
        second = point_session_at({"northflank": endpoint}, EmulatorClock(nf))
        found = asyncio.run(second.status("northflank"))
    finally:
        _api._session = None
    assert first.store is not second.store
    assert [(d.id, d.in_store) for d in found] == [("research/kept", False)]
    assert found[0].state is State.READY
    # Found: later rounds list that project without a scan.
    nf.clear_requests()
    asyncio.run(second.status("northflank"))
    assert paths(nf) == ["GET /v1/projects/research/services"]


def test_a_service_replaced_by_another_launch_is_read_again(twenty_five, nf, nf_server):
    from sindri_jupyter.providers.northflank import mapping

    nf.delete_service("sindri", "svc-2")
    other = "f" * 32
    replacement = {
        "name": "svc-2",
        "description": mapping.description(other, None),
        "billing": {"deploymentPlan": "nf-compute-20"},
        "deployment": {"instances": 1, "external": {"imagePath": "nginx:1"}},
        "ports": [
            {"name": "p8888", "internalPort": 8888, "protocol": "HTTP", "public": True}
        ],
        "runtimeEnvironment": {"JUPYTER_TOKEN": "other-token-" + "z" * 20},
    }
    assert api_call(nf_server, "POST", f"{SERVICES}/deployment", replacement).is_success
    nf.advance(600)
    found, made = round_of(twenty_five, nf)
    assert f"GET {SERVICES}/svc-2/runtime-environment" in made
    at_that_id = {d.launch_id: d for d in found if d.id == "sindri/svc-2"}
    # The held launch is gone; the other launch is shown as found, with its token.
    assert not at_that_id[other].in_store
    assert "other-token" in at_that_id[other].connection.jupyter_url
    assert [d.state for d in found if d.name == "svc-2" and d.launch_id != other] == [
        State.GONE
    ]


def test_an_hour_of_the_panels_poller_with_twenty_five_steady_services(twenty_five, nf):
    from sindri_jupyter._panel._poller import Poller

    clock = EmulatorClock(nf)
    poller = Poller(
        lambda: twenty_five.status("northflank"),
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )

    async def one_hour() -> None:
        task = asyncio.ensure_future(poller.run())
        while clock.now < 3600:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    nf.clear_requests()
    asyncio.run(one_hour())
    made = paths(nf)
    lists = made.count(f"GET {SERVICES}")
    reads = [p for p in made if p.startswith(f"GET {SERVICES}/")]
    print(f"one hour, 25 steady services: {len(made)} requests, {lists} lists")
    # Rounds every 30 s; each kept read is redone once it is STALE_SECONDS old
    # (at 600, 1200, ... 3000 s inside the hour: 5 times, 6 an hour in the long
    # run); tokens are never read again; the hourly scan falls at 3600 s.
    assert lists in (120, 121)
    assert Counter(reads) == {f"GET {SERVICES}/svc-{n}": 5 for n in range(25)}
    assert len(made) == lists + len(reads)
