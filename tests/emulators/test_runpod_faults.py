"""RunPod emulator: named faults, rate-limit headers, clock modes, determinism."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx
import pytest
from conftest import EPOCH, KEY, pod_body

from sindri_jupyter.emulators import serve


def running_pod(runpod, api):
    pod = api.post("/v2/pods", json=pod_body()).json()
    runpod.control.advance(5)
    return pod


def test_stuck_runtime_hides_runtime_and_direct_ssh(runpod, api):
    pod = running_pod(runpod, api)
    runpod.control.enable_fault("stuck-runtime", count=2)
    for _ in range(2):
        stuck = api.get(f"/v2/pods/{pod['id']}").json()
        assert stuck["status"] == "RUNNING"
        assert stuck["runtime"] is None and stuck["ssh"]["direct"] is None
    healed = api.get(f"/v2/pods/{pod['id']}").json()
    assert healed["runtime"] is not None and healed["ssh"]["direct"] is not None


def test_stuck_runtime_is_not_spent_on_pods_that_are_not_running(runpod, api):
    pod = api.post("/v2/pods", json=pod_body()).json()
    runpod.control.enable_fault("stuck-runtime", count=1)
    api.get(f"/v2/pods/{pod['id']}")  # PROVISIONING: nothing to hide
    runpod.control.advance(5)
    assert api.get(f"/v2/pods/{pod['id']}").json()["runtime"] is None


def test_capacity_fault_refuses_create(runpod, api):
    runpod.control.enable_fault("capacity", count=1)
    refused = api.post("/v2/pods", json=pod_body())
    assert refused.status_code == 400
    assert "no longer any instances" in refused.json()["detail"]
    assert api.post("/v2/pods", json=pod_body()).status_code == 201


def test_commit_then_reset_creates_the_pod_but_answers_nothing(runpod, api):
    runpod.control.enable_fault("commit-then-reset", count=1, method="POST",
                                path="/v2/pods")  # fmt: skip
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v2/pods", json=pod_body(env={"SINDRI_LAUNCH_ID": "abc"}))
    pods = api.get("/v2/pods").json()["pods"]
    assert [pod["env"]["SINDRI_LAUNCH_ID"] for pod in pods] == ["abc"]


def test_reset_fault_creates_nothing(runpod, api):
    runpod.control.enable_fault("reset", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v2/pods", json=pod_body())
    assert api.get("/v2/pods").json()["pods"] == []


def test_echo_auth_leaks_only_in_the_error_body_never_the_journal(runpod, api):
    runpod.control.enable_fault("echo-auth")
    response = api.get("/v2/pods/nope")
    assert response.status_code == 404
    assert KEY in response.json()["detail"]
    assert KEY not in str(runpod.control.requests())


def test_html_502_is_html_with_the_header(runpod, api):
    runpod.control.enable_fault("html-502", count=1, path="/v2/pods*")
    response = api.get("/v2/pods")
    assert response.status_code == 502
    assert "text/html" in response.headers["content-type"]
    assert KEY in response.text


def test_rate_limit_fault_defaults_to_two_seconds(runpod, api):
    runpod.control.enable_fault("rate-limit", count=1)
    limited = api.get("/v2/pods")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2"
    assert limited.json()["status"] == 429
    assert api.get("/v2/pods").status_code == 200


def test_truncated_json_keeps_the_status(runpod, api):
    runpod.control.enable_fault("truncated-json", count=1, method="POST")
    response = api.post("/v2/pods", json=pod_body())
    assert response.status_code == 201
    with pytest.raises(ValueError):
        response.json()
    assert len(api.get("/v2/pods").json()["pods"]) == 1


def test_rate_limit_headers_count_down(api):
    first = api.get("/v2/pods").headers
    second = api.get("/v2/pods").headers
    assert first["RateLimit-Policy"].startswith('"minute";q=60;w=60')
    assert '"minute";r=59;' in first["RateLimit"]
    assert '"minute";r=58;' in second["RateLimit"]


def test_enforced_limits_answer_429_with_the_window():
    clock = {"mode": "manual", "epoch": EPOCH}
    with serve(
        "runpod", api_keys=[KEY], clock=clock, enforce_rate_limits=True
    ) as server:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=server.base_url, headers=headers) as api:
            statuses = [api.get("/v2/pods").status_code for _ in range(61)]
            assert statuses[:60] == [200] * 60 and statuses[60] == 429
            server.control.advance(60)
            assert api.get("/v2/pods").status_code == 200


def test_step_clock_makes_status_a_function_of_request_count(runpod, api):
    runpod.control.set_clock(mode="step", step=1.0)
    pod = api.post("/v2/pods", json=pod_body()).json()  # t=1, created
    seen = [api.get(f"/v2/pods/{pod['id']}").json()["status"] for _ in range(3)]
    assert seen == ["STARTING", "STARTING", "RUNNING"]  # t=2, 3, 4
    date = parsedate_to_datetime(api.get("/v2/pods").headers["Date"])
    assert (date - EPOCH).total_seconds() == 5


def script(seed: int) -> list:
    """The same calls against a fresh emulator; returns every body it answered."""
    clock = {"mode": "step", "step": 0.5, "epoch": EPOCH}
    with serve("runpod", seed=seed, api_keys=[KEY], clock=clock) as server:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=server.base_url, headers=headers) as api:
            bodies = [api.get("/v2/catalog/gpus",
                              params={"include": "AVAILABILITY", "product": "POD"}
                              ).json()]  # fmt: skip
            for index in range(3):
                body = pod_body(name=f"pod-{index}", startJupyter=True)
                bodies.append(api.post("/v2/pods", json=body).json())
            bodies += [api.get("/v2/pods").json() for _ in range(8)]
            return bodies


def test_same_seed_and_script_give_identical_answers():
    first, second = script(5), script(5)
    assert first == second
    assert first[-1]["pods"][0]["status"] == "RUNNING"
    other = script(6)
    assert [pod["id"] for pod in other[-1]["pods"]] != [
        pod["id"] for pod in first[-1]["pods"]
    ]


def test_control_reset_reseeds_to_the_same_ids(runpod, api):
    first = api.post("/v2/pods", json=pod_body()).json()["id"]
    runpod.control.reset()
    assert api.get("/v2/pods").json()["pods"] == []
    assert api.post("/v2/pods", json=pod_body()).json()["id"] == first
    runpod.control.reset(seed=99)
    assert api.post("/v2/pods", json=pod_body()).json()["id"] != first


def test_outside_delete_makes_the_pod_vanish(runpod, api):
    pod = api.post("/v2/pods", json=pod_body()).json()
    runpod.control.delete_pod(pod["id"])
    assert api.get(f"/v2/pods/{pod['id']}").status_code == 404


def test_journal_records_requests_without_secrets(runpod, api):
    api.post("/v2/pods", json=pod_body(name="journalled"))
    api.get("/v2/pods", params={"includeClusterPods": "false"})
    entries = runpod.control.requests()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/v2/pods", 201),
        ("GET", "/v2/pods", 200),
    ]
    assert entries[0]["body"]["name"] == "journalled"
    assert entries[1]["query"] == {"includeClusterPods": ["false"]}
    assert entries[0]["time"] == "2026-06-01T12:00:00Z"
    assert all(entry["authorized"] for entry in entries)
    runpod.control.clear_requests()
    assert runpod.control.requests() == []


def test_health(runpod):
    health = runpod.control.health()
    assert health["provider"] == "runpod" and health["ok"] is True
