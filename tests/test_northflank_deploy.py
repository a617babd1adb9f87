"""Northflank against its emulator, over real HTTP: the cases of issue 3."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import sindri_jupyter as sj
from sindri_jupyter._engine import Clock
from sindri_jupyter._errors import ConflictError, InputError
from sindri_jupyter._models import State
from sindri_jupyter.providers.northflank.mapping import NAME_RULE
from tests._clock import EmulatorClock

NF_KEY = "nf-test-token-" + "x" * 24


@pytest.fixture
def nf_server():
    from sindri_jupyter.emulators import serve

    server = serve("northflank", seed=7, api_keys=[NF_KEY], clock="manual")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def nf(nf_server):
    from sindri_jupyter.emulators.northflank import NorthflankControl

    with NorthflankControl(nf_server.base_url) as client:
        yield client


def point_session_at(endpoints: dict, clock: Clock, *, sandbox: bool = True):
    from sindri_jupyter import _api
    from sindri_jupyter._engine import Session

    session = Session(endpoints=endpoints, clock=clock)
    session.settings.ssh_key_path = "/nonexistent/id_ed25519.pub"
    _api._session = session
    return session


@pytest.fixture
def nf_session(nf_server, nf):
    from sindri_jupyter import _api
    from sindri_jupyter._config import Endpoint

    endpoint = Endpoint("northflank", nf_server.base_url, NF_KEY, sandbox=True)
    yield point_session_at({"northflank": endpoint}, EmulatorClock(nf))
    _api._session = None


def sent(control, method: str, suffix: str) -> list[dict]:
    return [
        r
        for r in control.requests()
        if r["method"] == method and r["path"].endswith(suffix)
    ]


def api_call(server, method: str, path: str, body=None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {NF_KEY}"}
    return httpx.request(
        method, server.base_url + path, json=body, headers=headers, timeout=10
    )


# -- names -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["1gpu", "ab", "gpu--box", "gpu_box", "g" * 60])
def test_names_that_break_the_rule_are_refused_before_any_request(nf_session, nf, name):
    with pytest.raises(InputError) as caught:
        sj.deploy("northflank", gpu="H100", name=name)
    assert NAME_RULE in str(caught.value)
    assert caught.value.option == "--name"
    assert nf.requests() == []


# -- deploy ------------------------------------------------------------------------
def test_a_gpu_deploy_makes_a_project_in_the_first_region_offering_it(nf_session, nf):
    said: list[str] = []
    deployment = sj.deploy(
        "northflank",
        gpu="H100",
        name="lab-gpu",
        project="research",
        port="8888/http",
        on_progress=lambda p: said.append(p.message),
    )
    assert deployment.state is State.READY
    assert deployment.id == "research/lab-gpu"
    assert any("us-central (the first region that offers h100-80)" in s for s in said)
    assert any(s.startswith("Estimate: 1 instance × (plan") for s in said)
    [project] = sent(nf, "POST", "/v1/projects")
    assert project["body"]["region"] == "us-central"
    [create] = sent(nf, "POST", "/services/deployment")
    body = create["body"]
    assert body["deployment"]["gpu"] == {
        "enabled": True,
        "configuration": {"gpuType": "h100-80", "gpuCount": 1},
    }
    assert body["ports"] == [
        {"name": "p8888", "internalPort": 8888, "protocol": "HTTP", "public": True}
    ]
    # 1 instance × (plan $0.40 + 1 × $2.74), from /v1/plans and /v1/regions.
    assert deployment.cost_per_hour == pytest.approx(3.14)
    assert deployment.connection.http["8888"].startswith("https://p8888--lab-gpu--")


def test_a_cpu_service_takes_the_named_plan_and_image(nf_session, nf):
    deployment = sj.deploy(
        "northflank",
        plan="nf-compute-200",
        image="python:3.12",
        name="api",
        port="8000/http",
    )
    [create] = sent(nf, "POST", "/services/deployment")
    assert create["body"]["billing"] == {"deploymentPlan": "nf-compute-200"}
    assert create["body"]["deployment"]["external"] == {"imagePath": "python:3.12"}
    assert "gpu" not in create["body"]["deployment"]
    assert deployment.gpu is None and deployment.state is State.READY
    assert deployment.cost_per_hour == pytest.approx(0.067)


def test_cpu_and_memory_pick_the_smallest_plan_that_fits(nf_session, nf):
    plan = sj.plan("northflank", cpu="4", memory="16G", name="sized", image="x:1")
    assert plan.candidates[0]["billing"]["deploymentPlan"] == "nf-compute-400-16"
    assert sent(nf, "POST", "") == []


def test_a_gpu_the_projects_region_lacks_is_refused_naming_the_regions(nf_session, nf):
    sj.deploy("northflank", plan="nf-compute-20", name="web", project="cpu-lab",
              region="europe-west-zurich", image="nginx:1")  # fmt: skip
    before = len(sent(nf, "POST", ""))
    with pytest.raises(InputError) as caught:
        sj.deploy("northflank", gpu="H100", name="lab", project="cpu-lab")
    message = str(caught.value)
    assert "europe-west-zurich" in message and "us-central" in message
    assert "asia-northeast" in message
    assert len(sent(nf, "POST", "")) == before


def test_a_count_the_region_does_not_offer_is_refused_with_the_choices(nf_session, nf):
    with pytest.raises(InputError) as caught:
        sj.deploy("northflank", gpu="H200", name="big")
    assert "choose one of 8" in str(caught.value)
    assert sent(nf, "POST", "") == []


def test_runpod_options_and_northflank_options_do_not_mix(nf_session, nf):
    with pytest.raises(InputError) as caught:
        sj.deploy("runpod", gpu="L40", name="x", project="research")
    assert "--project" in str(caught.value)


# -- no duplicates -------------------------------------------------------------------
def test_a_dropped_create_does_not_make_two_services(nf_session, nf, nf_server):
    nf.enable_fault(
        "commit-then-reset",
        count=1,
        method="POST",
        path="/v1/projects/*/services/deployment",
    )
    said: list[str] = []
    deployment = sj.deploy(
        "northflank",
        gpu="L4",
        name="nbook",
        on_progress=lambda p: said.append(p.message),
    )
    assert deployment.id == "sindri/nbook" and deployment.state is State.READY
    assert len(sent(nf, "POST", "/services/deployment")) == 1
    assert any("Found it" in line for line in said)
    listed = api_call(nf_server, "GET", "/v1/projects/sindri/services").json()
    assert [s["id"] for s in listed["data"]["services"]] == ["nbook"]


def test_a_409_on_create_adopts_our_own_service_and_refuses_anothers(nf_session, nf):
    from sindri_jupyter import _deploy

    session = nf_session

    async def twice():
        built = sj._api.build_spec("northflank", gpu="L4", name="twin")
        async with session.provider("northflank") as api:
            launch = _deploy.new_launch(built)
            [candidate] = await _deploy._prepare(api, built, launch)
            first = await api.create(candidate)
            again = await api.create(candidate)
            other = _deploy.new_launch(built)
            [foreign] = await _deploy._prepare(api, built, other)
            with pytest.raises(ConflictError) as caught:
                await api.create(foreign)
            return first, again, str(caught.value)

    first, again, refusal = asyncio.run(twice())
    assert first["id"] == again["id"] == "sindri/twin"
    assert "did not create" in refusal and "--name" in refusal


# -- lifecycle -----------------------------------------------------------------------
def test_stop_warns_that_files_outside_a_volume_are_lost(nf_session, nf):
    sj.deploy("northflank", gpu="L4", name="nbook")
    said = sj.stop("nbook").message
    assert "files outside a volume" in said
    assert "--volume" in said and "destroy" in said
    assert nf.service_state("sindri", "nbook")["paused"] is True


def test_start_on_running_and_stop_on_paused_are_no_ops(nf_session, nf):
    sj.deploy("northflank", gpu="L4", name="nbook")
    assert "already ready; nothing to do" in sj.start("nbook").message
    sj.stop("nbook")
    assert "already stopped; nothing to do" in sj.stop("nbook").message
    pauses = sent(nf, "POST", "/pause")
    assert len(pauses) == 1
    result = sj.start("nbook")
    assert result.deployment.state is State.READY


def test_a_409_on_resume_means_already_running(nf_session, nf):
    sj.deploy("northflank", gpu="L4", name="nbook")

    async def resume():
        async with nf_session.provider("northflank") as api:
            return await api.start("sindri/nbook")

    remote = asyncio.run(resume())
    assert [r["status"] for r in sent(nf, "POST", "/resume")] == [409]
    assert remote["servicePaused"] is False


def test_destroy_twice_says_it_is_already_gone(nf_session, nf):
    sj.deploy("northflank", gpu="L4", name="nbook")
    assert sj.destroy("nbook", yes=True).message.startswith(
        "Destroyed northflank:nbook"
    )
    again = sj.destroy("nbook", yes=True)
    assert again.message == (
        "northflank:nbook (id sindri/nbook) was already gone; nothing to destroy."
    )
    assert len(sent(nf, "DELETE", "/services/nbook")) == 1


def test_destroy_of_something_deleted_elsewhere_succeeds_and_says_so(nf_session, nf):
    sj.deploy("northflank", gpu="L4", name="nbook")
    nf.delete_service("sindri", "nbook")
    said = sj.destroy("nbook", yes=True).message
    assert "already gone" in said


def test_actions_use_the_held_id_never_a_name_match(nf_session, nf, nf_server):
    sj.deploy("northflank", gpu="L4", name="lab")
    sj.destroy("lab", yes=True)
    second = sj.deploy("northflank", gpu="L4", name="lab")
    assert "Stopped" in sj.stop("lab").message
    assert nf.service_state("sindri", "lab")["paused"] is True
    sj.start("lab")
    # Someone replaces it outside the library with a service of the same name.
    nf.delete_service("sindri", "lab")
    foreign = {
        "name": "lab",
        "billing": {"deploymentPlan": "nf-compute-20"},
        "deployment": {"instances": 1, "external": {"imagePath": "nginx:1"}},
    }
    created = api_call(nf_server, "POST", "/v1/projects/sindri/services/deployment",
                       foreign)  # fmt: skip
    assert created.status_code == 200
    with pytest.raises(sj.DeploymentGoneError):
        sj.stop(second.id)
    assert nf.service_state("sindri", "lab")["paused"] is False
    assert len(sent(nf, "POST", "/pause")) == 1


def test_a_volume_is_kept_on_destroy_unless_asked(nf_session, nf, nf_server):
    sj.deploy("northflank", gpu="L4", name="keep", volume=10)
    assert "volume keep-data is kept" in sj.stop("keep").message
    said = sj.destroy("keep", yes=True).message
    assert "Kept its volume keep-data" in said
    volumes = api_call(nf_server, "GET", "/v1/projects/sindri/volumes").json()
    assert [v["id"] for v in volumes["data"]["volumes"]] == ["keep-data"]
    api_call(nf_server, "DELETE", "/v1/projects/sindri/volumes/keep-data")
    sj.deploy("northflank", gpu="L4", name="gone", volume=10)
    said = sj.destroy("gone", yes=True, delete_volumes=True).message
    assert "Deleted its volume gone-data" in said
    volumes = api_call(nf_server, "GET", "/v1/projects/sindri/volumes").json()
    assert volumes["data"]["volumes"] == []


# -- front ends ----------------------------------------------------------------------
def test_status_shows_both_providers_in_one_table(
    nf_server, nf, runpod_emulator, runpod_key
):
    from sindri_jupyter import _api
    from sindri_jupyter._config import Endpoint

    endpoints = {
        "northflank": Endpoint("northflank", nf_server.base_url, NF_KEY, True),
        "runpod": Endpoint("runpod", runpod_emulator.base_url, runpod_key, True),
    }
    point_session_at(endpoints, EmulatorClock(nf))
    try:
        sj.deploy("northflank", gpu="L4", name="nf-box")
        sj.deploy("runpod", gpu="L40", name="rp-box")
        table = str(sj.status())
    finally:
        _api._session = None
    rows = table.splitlines()
    assert rows[0].split()[:3] == ["name", "provider", "state"]
    assert any(r.split()[:3] == ["nf-box", "northflank", "ready"] for r in rows)
    assert any(r.split()[:3] == ["rp-box", "runpod", "ready"] for r in rows)


def test_the_magics_deploy_connect_and_list_gpus(nf_session, nf):
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "sindri_jupyter")
    ip.run_line_magic(
        "sindri",
        "deploy northflank --gpu H100 --name lab-gpu --project research "
        "--port 8888/http",
    )
    ip.run_line_magic("sindri", "gpus northflank")
    ip.run_line_magic("sindri", "connect lab-gpu")
    ip.run_line_magic("sindri", "destroy lab-gpu --yes")
    assert sent(nf, "DELETE", "/services/lab-gpu")[0]["status"] == 200
