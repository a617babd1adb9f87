"""The server extension's REST API, on a real Jupyter server, against the sandbox.

One server per module (its start costs a few seconds); each test names its own
deployments, so tests do not see each other's.
"""

from __future__ import annotations

import concurrent.futures
import time

import httpx
import pytest

from sindri_jupyter.emulators import EmulatorControl

from .conftest import fake_runpod_key
from .ui_lab import jupyter

TOKEN = "sindri-server-test-token"
SANDBOX_KEY = fake_runpod_key()
AUTH = {"Authorization": f"token {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = jupyter.start(
        tmp_path_factory.mktemp("jupyter-server"), token=TOKEN, sandbox_key=SANDBOX_KEY
    )
    try:
        yield running
    finally:
        running.stop()
        assert SANDBOX_KEY not in running.log(), "the sandbox key reached the log"


@pytest.fixture
def api(server):
    with httpx.Client(headers=AUTH, timeout=60) as client:
        yield client


def runpod_control(server) -> EmulatorControl:
    base_url = server.emulator("runpod")
    assert base_url, "the server has not started its RunPod emulator yet"
    return EmulatorControl(base_url)


def wait_for_state(api, server, ref: str, wanted: str, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        listed = api.get(server.api("deployments")).json()["deployments"]
        found = [d for d in listed if d["ref"] == ref]
        if found and found[0]["state"] == wanted:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"{ref} did not reach {wanted} in {seconds} s")


def ok(reply: httpx.Response) -> dict:
    """The JSON of a 200 answer; otherwise fail with the server's own sentence."""
    assert reply.status_code == 200, reply.text
    return reply.json()


def one_sentence(message: str) -> bool:
    return "\n" not in message and "Traceback" not in message and message.strip()


# -- authentication and XSRF -------------------------------------------------------
def test_requests_without_the_token_get_403_and_touch_nothing(server, api):
    api.get(server.api("gpus?provider=runpod")).raise_for_status()  # emulator is up
    with runpod_control(server) as control:
        control.clear_requests()
        calls = [
            ("GET", "deployments", None),
            ("GET", "providers", None),
            ("GET", "gpus?provider=runpod", None),
            ("POST", "deployments", {"provider": "runpod", "gpu": "L40", "name": "no"}),
            ("POST", "deployments/runpod:no/stop", None),
            ("GET", "deployments/runpod:no/connection", None),
            ("DELETE", "deployments/runpod:no", None),
        ]
        with httpx.Client(timeout=30) as anonymous:
            for method, path, body in calls:
                reply = anonymous.request(method, server.api(path), json=body)
                assert reply.status_code == 403, (method, path, reply.text)
        assert control.requests() == [], "a refused request reached the provider"
    names = [
        d["name"] for d in api.get(server.api("deployments")).json()["deployments"]
    ]
    assert "no" not in names


def test_a_login_cookie_without_the_xsrf_token_cannot_deploy(server):
    with httpx.Client(timeout=60) as browser:
        browser.get(f"{server.url}/tree?token={TOKEN}")  # logs in: sets cookies
        assert browser.get(server.api("providers")).status_code == 200
        body = {"provider": "runpod", "gpu": "h9000-unknown", "name": "xsrf"}
        refused = browser.post(server.api("deployments"), json=body)
        assert refused.status_code == 403
        xsrf = browser.cookies.get("_xsrf")
        assert xsrf
        allowed = browser.post(
            server.api("deployments"), json=body, headers={"X-XSRFToken": xsrf}
        )
        # Past the XSRF check, the core itself refuses the unknown GPU.
        assert allowed.status_code == 400
        assert allowed.json()["error"]["type"] == "UnknownGpuError"


# -- the API -----------------------------------------------------------------------
def test_providers_say_which_are_configured(server, api):
    body = api.get(server.api("providers")).json()
    assert body["configured"] == ["runpod", "northflank"]
    assert body["sandbox"] is True
    assert body["default_provider"] == "runpod"
    assert body["error"] is None


@pytest.mark.parametrize("provider", ["runpod", "northflank"])
def test_gpus_carry_price_and_stock(server, api, provider):
    reply = api.get(server.api(f"gpus?provider={provider}"))
    assert reply.status_code == 200
    offers = reply.json()["gpus"]
    assert offers and all(o["id"] and "stock" in o for o in offers)
    assert any(o["price_per_hour"] for o in offers)


def test_unknown_gpu_is_one_sentence_and_creates_nothing(server, api):
    api.get(server.api("gpus?provider=runpod")).raise_for_status()
    with runpod_control(server) as control:
        control.clear_requests()
        reply = api.post(
            server.api("deployments"),
            json={"provider": "runpod", "gpu": "h9000", "name": "nothing-made"},
        )
        assert reply.status_code == 400
        error = reply.json()["error"]
        assert error["type"] == "UnknownGpuError"
        assert one_sentence(error["message"]) and "h9000" in error["message"]
        creates = [r for r in control.requests() if r["method"] == "POST"]
        assert creates == []
    listed = api.get(server.api("deployments")).json()["deployments"]
    assert "nothing-made" not in [d["name"] for d in listed]


def test_bad_input_is_refused_before_anything_is_sent(server, api):
    unknown_field = api.post(server.api("deployments"), json={"gpu": "L40", "x": 1})
    assert unknown_field.status_code == 400
    assert "'x'" in unknown_field.json()["error"]["message"]
    not_json = api.post(server.api("deployments"), content=b"{nope")
    assert not_json.status_code == 400
    bad_count = api.post(
        server.api("deployments"), json={"gpu": "L40", "count": 99, "name": "big"}
    )
    assert bad_count.status_code == 400
    assert one_sentence(bad_count.json()["error"]["message"])


def test_unknown_deployment_is_404_in_one_sentence(server, api):
    for reply in (
        api.post(server.api("deployments/runpod:nobody/stop")),
        api.get(server.api("deployments/runpod:nobody/connection")),
    ):
        assert reply.status_code == 404
        error = reply.json()["error"]
        assert error["type"] == "UnknownDeploymentError"
        assert one_sentence(error["message"])


def test_deploy_connect_stop_start_destroy(server, api):
    created = api.post(
        server.api("deployments"),
        json={"provider": "runpod", "gpu": "a100-sxm", "name": "lifecycle"},
    )
    assert created.status_code == 201, created.text
    ref = created.json()["ref"]
    assert created.json()["state"] in ("pending", "running")
    listed = api.get(server.api("deployments")).json()
    assert ref in [d["ref"] for d in listed["deployments"]]
    ready = wait_for_state(api, server, ref, "ready")
    assert ready["cost_per_hour"] > 0
    assert (
        api.get(server.api("deployments")).json()["burn_rate"] >= ready["cost_per_hour"]
    )

    details = api.get(server.api(f"deployments/{ref}/connection")).json()
    labels = {line["label"]: line["value"] for line in details["lines"]}
    assert labels["SSH"].startswith("ssh ")
    assert "token=•••" in labels["Jupyter"]  # the Jupyter token never shows

    preview = api.get(server.api(f"deployments/{ref}/destroy-preview")).json()
    assert "lifecycle" in preview["label"] and preview["warning"]

    stopped = ok(api.post(server.api(f"deployments/{ref}/stop")))
    assert stopped["message"].startswith("Stopped ")
    assert stopped["deployment"]["state"] == "stopped"
    refused = api.get(server.api(f"deployments/{ref}/connection"))
    assert refused.status_code == 400 and "Start it first" in refused.text

    started = ok(api.post(server.api(f"deployments/{ref}/start")))
    assert started["message"].startswith("Started ")
    wait_for_state(api, server, ref, "ready")

    destroyed = ok(api.delete(server.api(f"deployments/{ref}")))
    assert destroyed["message"].startswith("Destroyed ")
    after = api.get(server.api("deployments")).json()["deployments"]
    assert ref not in [d["ref"] for d in after]
    again = api.delete(server.api(f"deployments/{ref}"))
    assert again.status_code == 200 and "already gone" in again.json()["message"]


def test_tabs_share_one_status_read(server, api):
    api.get(server.api("deployments")).raise_for_status()
    time.sleep(2.1)  # past the shared read's fresh period
    with runpod_control(server) as control:
        control.clear_requests()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            replies = list(
                pool.map(lambda _: api.get(server.api("deployments")), range(8))
            )
        assert all(r.status_code == 200 for r in replies)
        lists = [r for r in control.requests() if r["path"] == "/v2/pods"]
    assert len(lists) == 1, "eight tabs refreshing at once asked RunPod more than once"


def test_a_slow_provider_does_not_block_the_server(server, api):
    api.get(server.api("gpus?provider=runpod")).raise_for_status()
    with runpod_control(server) as control:
        control.enable_fault("slow", params={"seconds": 4}, count=1)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            slow = pool.submit(api.get, server.api("gpus?provider=runpod"))
            time.sleep(0.5)
            began = time.monotonic()
            status = api.get(f"{server.url}/api/status")
            took = time.monotonic() - began
            assert status.status_code == 200
            assert took < 1.0, f"the server answered after {took:.1f} s"
            assert slow.result().status_code == 200
        control.clear_faults()


def test_no_response_holds_the_provider_key(server, api):
    replies = [
        api.get(server.api("providers")),
        api.get(server.api("gpus?provider=runpod")),
        api.get(server.api("deployments")),
        api.post(server.api("deployments"), json={"gpu": "h9000", "name": "k"}),
    ]
    for reply in replies:
        assert SANDBOX_KEY not in reply.text
        assert SANDBOX_KEY[:12] not in reply.text
