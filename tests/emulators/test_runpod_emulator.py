"""RunPod emulator over real HTTP: pod lifecycle, field rules and refusals."""

from __future__ import annotations

import httpx
import pytest
from conftest import GPU, pod_body

SPEC_ACTIONS = {
    "PROVISIONING": {"stop", "terminate"},
    "STARTING": {"stop", "terminate"},
    "RUNNING": {"stop", "restart", "terminate"},
    "EXITED": {"start", "terminate"},
}


def create(api, **changes):
    response = api.post("/v2/pods", json=pod_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def get(api, pod):
    response = api.get(f"/v2/pods/{pod['id']}")
    assert response.status_code == 200, response.text
    return response.json()


def check_rules(pod, contract):
    """The contract's prose rules, asserted for one observed pod."""
    assert contract.errors("Pod", pod) == []
    assert set(pod["actions"]) == SPEC_ACTIONS[pod["status"]]
    running = pod["status"] == "RUNNING"
    assert (pod["runtime"] is not None) == running
    if pod["status"] == "EXITED":
        assert pod["cost"] == 0
    assert (pod["ssh"]["direct"] is not None) == (running and "22/tcp" in pod["ports"])


def test_create_walks_provisioning_starting_running(runpod, api, contract):
    catalog = api.get(f"/v2/catalog/gpus/{GPU}").json()
    pod = create(api, gpu={"id": GPU, "count": 2}, env={"A": "1"})
    check_rules(pod, contract)
    assert pod["status"] == "PROVISIONING"
    assert pod["ssh"] == {"proxy": None, "direct": None}
    assert pod["cost"] == pytest.approx(catalog["price"]["secure"] * 2)
    assert pod["env"] == {"A": "1"} and pod["startedAt"] is None

    runpod.control.advance(1)
    starting = get(api, pod)
    check_rules(starting, contract)
    assert starting["status"] == "STARTING"
    proxy = starting["ssh"]["proxy"]
    assert proxy["username"].startswith(f"{pod['id']}-")
    assert len(proxy["username"]) == len(pod["id"]) + 9
    assert starting["cudaVersion"] is not None

    runpod.control.advance(1.5)
    running = get(api, pod)
    check_rules(running, contract)
    ports = {port["private"]: port for port in running["runtime"]["ports"]}
    assert ports[22]["public"] == running["ssh"]["direct"]["port"]
    assert ports[22]["ip"] == running["ssh"]["direct"]["host"]
    assert len(running["runtime"]["gpus"]) == 2
    assert running["startedAt"] == "2026-06-01T12:00:02.500000Z"
    runpod.control.advance(60)
    assert get(api, pod)["runtime"]["uptime"] == 60


def test_realtime_clock_reaches_running_within_three_seconds():
    import time

    from conftest import KEY

    from sindri_jupyter.emulators import serve

    with serve("runpod", seed=1, api_keys=[KEY]) as server:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=server.base_url, headers=headers) as api:
            pod = create(api)
            deadline = time.monotonic() + 3
            while get(api, pod)["status"] != "RUNNING":
                assert time.monotonic() < deadline, "not RUNNING after 3 s"
                time.sleep(0.1)
            assert get(api, pod)["runtime"]["ports"]


def test_stop_start_restart_and_invalid_actions(runpod, api, contract):
    pod = create(api)
    runpod.control.advance(5)
    first_direct = get(api, pod)["ssh"]["direct"]

    stopped = api.post(f"/v2/pods/{pod['id']}/action", json={"action": "stop"})
    assert stopped.status_code == 200
    check_rules(stopped.json(), contract)
    assert stopped.json()["status"] == "EXITED"
    assert stopped.json()["ssh"]["proxy"] is not None  # it keeps its host

    refused = api.post(f"/v2/pods/{pod['id']}/action", json={"action": "restart"})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"

    started = api.post(f"/v2/pods/{pod['id']}/action", json={"action": "start"})
    assert started.json()["status"] == "STARTING"
    runpod.control.advance(2)
    running = get(api, pod)
    check_rules(running, contract)
    second_direct = running["ssh"]["direct"]
    assert second_direct is not None

    restarted = api.post(f"/v2/pods/{pod['id']}/action", json={"action": "restart"})
    assert restarted.json()["status"] == "STARTING"
    runpod.control.advance(2)
    assert get(api, pod)["ssh"]["direct"] == second_direct  # restart keeps mapping
    assert first_direct is not None


def test_delete_and_terminate_answer_204_then_404(runpod, api):
    first, second = create(api), create(api)
    deleted = api.delete(f"/v2/pods/{first['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    terminated = api.post(
        f"/v2/pods/{second['id']}/action", json={"action": "terminate"}
    )
    assert terminated.status_code == 204
    for pod in (first, second):
        assert api.get(f"/v2/pods/{pod['id']}").status_code == 404
    assert api.get("/v2/pods").json() == {"pods": []}


def test_start_flags_inject_env_without_overriding(runpod, api):
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample me@example.com"
    assert api.put("/v2/account/ssh-keys", json={"keys": [key]}).status_code == 200
    injected = create(api, startSsh=True, startJupyter=True)
    assert injected["env"]["PUBLIC_KEY"] == key
    assert len(injected["env"]["JUPYTER_PASSWORD"]) >= 16
    assert "startSsh" not in injected and "startJupyter" not in injected
    kept = create(api, startSsh=True, startJupyter=True,
                  env={"PUBLIC_KEY": "mine", "JUPYTER_PASSWORD": "pw"})  # fmt: skip
    assert kept["env"] == {"PUBLIC_KEY": "mine", "JUPYTER_PASSWORD": "pw"}


def test_start_ssh_without_registered_keys_does_nothing(api):
    assert "PUBLIC_KEY" not in create(api, startSsh=True)["env"]


def test_patch_replaces_env_and_restarts_on_container_changes(runpod, api):
    pod = create(api, env={"A": "1", "B": "2"})
    runpod.control.advance(5)
    renamed = api.patch(f"/v2/pods/{pod['id']}", json={"name": "renamed"}).json()
    assert renamed["name"] == "renamed" and renamed["status"] == "RUNNING"
    changed = api.patch(f"/v2/pods/{pod['id']}", json={"env": {"C": "3"}}).json()
    assert changed["env"] == {"C": "3"}
    assert changed["status"] == "STARTING"


def test_patch_refuses_new_mount_kinds(api):
    pod = create(api)
    mounts = {"persistent": {"size": 20, "path": "/workspace"}}
    response = api.patch(f"/v2/pods/{pod['id']}", json={"mounts": mounts})
    assert response.status_code == 400


def test_locked_pod_cannot_be_stopped(runpod, api):
    pod = create(api)
    api.patch(f"/v2/pods/{pod['id']}", json={"locked": True})
    response = api.post(f"/v2/pods/{pod['id']}/action", json={"action": "stop"})
    assert response.status_code == 409


DROP = "<leave this field out>"
REFUSALS = [
    ("unknown key", {"bogus": True}, 422),
    ("null cloud", {"cloud": None}, 422),
    ("disk as string", {"disk": "50"}, 422),
    ("gpu count 0", {"gpu": {"id": GPU, "count": 0}}, 422),
    ("no image", {"image": DROP}, 422),
    ("gpu and cpu", {"cpu": {"id": "cpu5c", "vcpuCount": 2}}, 400),
    ("both mounts", {"mounts": {"persistent": {"size": 20, "path": "/w"},
                                "network": [{"volumeId": "v", "path": "/n"}]}}, 400),
    ("cuda set and floor", {"gpu": {"id": GPU, "allowedCudaVersions": ["12.8"],
                                    "minCudaVersion": "12.4"}}, 400),
    ("udp port", {"ports": ["53/udp"]}, 400),
    ("unknown gpu", {"gpu": {"id": "RTX 4090"}}, 400),
    ("too many gpus", {"gpu": {"id": GPU, "count": 99}}, 400),
    ("unknown template", {"templateId": "nope"}, 404),
    ("cuda no host has", {"gpu": {"id": GPU, "allowedCudaVersions": ["9.0"]}}, 400),
]  # fmt: skip


@pytest.mark.parametrize(("label", "changes", "status"), REFUSALS,
                         ids=[case[0] for case in REFUSALS])  # fmt: skip
def test_refused_bodies_create_nothing(runpod, api, contract, label, changes, status):
    body = pod_body(**changes)
    body = {key: value for key, value in body.items() if value != DROP}
    response = api.post("/v2/pods", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert contract.errors("ErrorResponse", problem) == []
    assert problem["status"] == status
    if status == 422:
        assert problem["errors"]
    assert api.get("/v2/pods").json()["pods"] == []


def test_body_that_is_not_json_is_refused(api):
    response = api.post("/v2/pods", content=b"{not json",
                        headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 400


def test_unknown_pod_is_404_everywhere(api):
    assert api.get("/v2/pods/nope").status_code == 404
    assert api.patch("/v2/pods/nope", json={"name": "x"}).status_code == 404
    assert api.delete("/v2/pods/nope").status_code == 404
    assert api.post("/v2/pods/nope/action", json={"action": "stop"}).status_code == 404
    assert api.get("/v2/pods/nope/logs").status_code == 404


def test_missing_or_wrong_key_is_401(runpod):
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.get(f"{runpod.base_url}/v2/pods", headers=headers)
        assert response.status_code == 401
        assert response.json()["status"] == 401
        assert "RateLimit" not in response.headers
