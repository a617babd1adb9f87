"""The Northflank emulator's faults, seed determinism and command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from sindri_jupyter.emulators import serve
from sindri_jupyter.emulators.northflank import NorthflankControl

KEY = "nf-fault-token"
EPOCH = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
CREATE = "/v1/projects/lab/services/deployment"
SERVICE = "/v1/projects/lab/services/nb-one"
BODY = {
    "name": "nb-one",
    "billing": {"deploymentPlan": "nf-compute-200"},
    "deployment": {"instances": 1, "external": {"imagePath": "nginx:latest"}},
    "ports": [{"name": "nb", "internalPort": 8888, "protocol": "HTTP", "public": True}],
}


@pytest.fixture
def server():
    clock = {"mode": "manual", "epoch": EPOCH}
    with serve("northflank", seed=5, api_keys=[KEY], clock=clock) as running:
        yield running


@pytest.fixture
def api(server):
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as client:
        client.post("/v1/projects", json={"name": "lab", "region": "us-central"})
        yield client


@pytest.fixture
def control(server):
    with NorthflankControl(server.base_url) as client:
        yield client


def status_of(api) -> str:
    return api.get(SERVICE).json()["data"]["status"]["deployment"]["status"]


def test_server_error_and_rate_limit_faults_keep_the_envelope(api, control):
    control.enable_fault("server-error", count=1)
    failed = api.get("/v1/projects")
    assert failed.status_code == 500
    assert failed.json()["error"]["status"] == 500
    assert failed.headers["x-ratelimit-limit"] == "1000"
    control.enable_fault("rate-limit", count=1, params={"retry_after": 7})
    limited = api.get("/v1/projects")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["x-ratelimit-reset"] == "7"
    assert api.get("/v1/projects").status_code == 200


def test_echo_auth_and_html_502_leak_the_token_only_when_asked(api, control):
    plain = api.get("/v1/projects/nowhere")
    assert KEY not in plain.text
    control.enable_fault("echo-auth", count=1)
    echoed = api.get("/v1/projects/nowhere")
    assert echoed.status_code == 404 and KEY in echoed.json()["error"]["message"]
    control.enable_fault("html-502", count=1)
    page = api.get("/v1/projects")
    assert page.status_code == 502 and KEY in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-ratelimit-remaining"].isdigit()


def test_commit_then_reset_creates_the_service_but_drops_the_answer(api, control):
    control.enable_fault("commit-then-reset", count=1, method="POST", path=CREATE)
    with pytest.raises(httpx.TransportError):
        api.post(CREATE, json=BODY)
    assert api.get(SERVICE).status_code == 200
    assert api.post(CREATE, json=BODY).status_code == 409


def test_reset_empty_and_truncated_bodies(api, control):
    control.enable_fault("reset", count=1)
    with pytest.raises(httpx.TransportError):
        api.get("/v1/projects")
    control.enable_fault("empty-body", count=1)
    empty = api.get("/v1/projects")
    assert empty.status_code == 200 and empty.content == b""
    control.enable_fault("truncated-json", count=1)
    with pytest.raises(ValueError):
        api.get("/v1/projects").json()


def test_stuck_and_failed_rollouts(api, control):
    control.enable_fault("stuck", count=1)
    api.post(CREATE, json=BODY)
    control.advance(600)
    assert status_of(api) == "IN_PROGRESS"
    control.set_rollout_outcome("lab", "nb-one", "COMPLETED")
    assert status_of(api) == "COMPLETED"
    control.enable_fault("deployment-failed", count=1)
    api.post(SERVICE + "/restart")
    control.advance(600)
    assert status_of(api) == "FAILED"
    containers = api.get(SERVICE + "/containers").json()["data"]["containers"]
    assert [item["status"] for item in containers] == ["TASK_FAILED"]


def test_image_unverified_refuses_and_creates_nothing(api, control):
    control.enable_fault("image-unverified", count=1)
    refused = api.post(CREATE, json=BODY)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "Unable to verify external image."
    assert api.get(SERVICE).status_code == 404


def scripted_run(seed: int) -> list:
    """Create a service, read it after its DNS appears, and make one refusal."""
    clock = {"mode": "step", "step": 1.0, "epoch": EPOCH}
    with serve("northflank", seed=seed, api_keys=[KEY], clock=clock) as running:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=running.base_url, headers=headers) as client:
            client.post("/v1/projects", json={"name": "lab", "region": "us-central"})
            created = client.post(CREATE, json=BODY).json()
            for _ in range(3):
                client.get("/v1/plans")
            read = client.get(SERVICE).json()
            refused = client.post(CREATE, json=BODY).json()
            project = client.get("/v1/projects/lab").json()
    return [created, read, refused, project]


def test_one_seed_and_one_script_give_identical_answers():
    first, again = scripted_run(3), scripted_run(3)
    assert first == again
    dns = first[1]["data"]["ports"][0]["dns"]
    other = scripted_run(4)[1]["data"]["ports"][0]["dns"]
    assert dns != other


def test_reset_reseeds_and_drops_state(api, control):
    api.post(CREATE, json=BODY)
    control.advance(10)
    first_dns = api.get(SERVICE + "/ports").json()["data"]["ports"][0]["dns"]
    control.reset(seed=5)
    assert api.get("/v1/projects/lab").status_code == 404
    api.post("/v1/projects", json={"name": "lab", "region": "us-central"})
    api.post(CREATE, json=BODY)
    control.advance(10)
    assert api.get(SERVICE + "/ports").json()["data"]["ports"][0]["dns"] == first_dns
    assert control.health()["provider"] == "northflank"


def test_the_command_line_serves_on_the_port_it_writes(tmp_path):
    port_file = tmp_path / "northflank.port"
    command = [
        sys.executable,
        "-m",
        "sindri_jupyter.emulators",
        "northflank",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--api-key",
        KEY,
    ]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(port_file.read_text())
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/v1/regions").status_code == 200
        headers = {"Authorization": f"Bearer {KEY}"}
        assert httpx.get(f"{base}/v1/projects", headers=headers).status_code == 200
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    assert not port_file.exists()
