"""The Northflank emulator over real HTTP: lifecycle, refusals, GPUs, rate limit."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from sindri_jupyter.emulators import serve
from sindri_jupyter.emulators.northflank import NorthflankControl

KEY = "nf-test-token"
EPOCH = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PLAN = "nf-compute-200"
PROJECT = "/v1/projects/lab"
SERVICES = PROJECT + "/services"
CREATE = SERVICES + "/deployment"


def service_body(name: str = "nb-one", **deployment_extra) -> dict:
    deployment = {
        "instances": 1,
        "external": {"imagePath": "nginx:latest"},
        "docker": {"configType": "default"},
        **deployment_extra,
    }
    port = {"name": "nb", "internalPort": 8888, "protocol": "HTTP", "public": True}
    return {
        "name": name,
        "billing": {"deploymentPlan": PLAN},
        "deployment": deployment,
        "ports": [port],
    }


def gpu(gpu_type: str, count: int = 1) -> dict:
    configuration = {"gpuType": gpu_type, "gpuCount": count}
    return {"gpu": {"enabled": True, "configuration": configuration}}


@pytest.fixture
def server():
    clock = {"mode": "manual", "epoch": EPOCH}
    with serve("northflank", seed=11, api_keys=[KEY], clock=clock) as running:
        yield running


@pytest.fixture
def api(server):
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as client:
        yield client


@pytest.fixture
def control(server):
    with NorthflankControl(server.base_url) as client:
        yield client


@pytest.fixture
def project(api):
    response = api.post("/v1/projects", json={"name": "Lab", "region": "us-central"})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def service_ids(api) -> list[str]:
    return [item["id"] for item in api.get(SERVICES).json()["data"]["services"]]


def deployment_status(api, service_id: str) -> str:
    body = api.get(f"{SERVICES}/{service_id}").json()["data"]
    return body["status"]["deployment"]["status"]


def test_catalogs_answer_without_a_token(server):
    plans = httpx.get(f"{server.base_url}/v1/plans").json()["data"]["plans"]
    assert {plan["id"] for plan in plans} >= {"nf-compute-10", PLAN}
    regions = httpx.get(f"{server.base_url}/v1/regions").json()["data"]["regions"]
    central = next(region for region in regions if region["id"] == "us-central")
    l4 = next(device for device in central["gpuDevices"] if device["id"] == "l4-24")
    assert l4["countOptions"] == [1, 2, 4, 8] and l4["pricing"]["onDemand"] == 80
    zurich = next(region for region in regions if region["id"] == "europe-west-zurich")
    assert zurich["gpuDevices"] == []


def test_no_token_is_401_envelope_with_rate_limit_headers(server):
    response = httpx.get(f"{server.base_url}/v1/projects")
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401
    for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
        assert response.headers[name].isdigit()


def test_auth_and_billing_usage_are_not_emulated(api):
    assert api.get("/v1/auth").status_code == 404
    assert api.get("/v1/billing/usage").status_code == 404


def test_project_create_upsert_get_and_fixed_region(api, project):
    assert project["id"] == "lab" and project["region"] == "us-central"
    assert api.post("/v1/projects", json={"name": "lab"}).status_code == 409
    upsert = api.put("/v1/projects", json={"name": "Lab", "description": "notebooks"})
    assert upsert.status_code == 200
    assert upsert.json()["data"]["description"] == "notebooks"
    moved = api.put("/v1/projects", json={"name": "Lab", "region": "us-west"})
    assert moved.status_code == 400
    view = api.get(PROJECT).json()["data"]
    assert view["deployment"] == {"region": "us-central"} and view["services"] == []
    assert api.patch(PROJECT, json={"region": "us-west"}).status_code == 400


def test_a_service_rolls_out_on_the_virtual_clock(api, control, project):
    created = api.post(CREATE, json=service_body())
    assert created.status_code == 200, created.text
    data = created.json()["data"]
    assert data["id"] == "nb-one" and data["appId"].endswith("/lab/nb-one")
    assert "dns" not in data["ports"][0]
    assert deployment_status(api, "nb-one") == "PENDING"
    control.advance(1.5)
    assert deployment_status(api, "nb-one") == "IN_PROGRESS"
    containers = api.get(f"{SERVICES}/nb-one/containers").json()
    assert [item["status"] for item in containers["data"]["containers"]] == [
        "TASK_STARTING"
    ]
    ports = api.get(f"{SERVICES}/nb-one/ports").json()["data"]["ports"]
    assert "dns" not in ports[0]  # the public name comes seconds after create
    control.advance(1)
    ports = api.get(f"{SERVICES}/nb-one/ports").json()["data"]["ports"]
    assert ports[0]["dns"].startswith("nb--nb-one--")
    assert ports[0]["dns"].endswith(".code.run")
    control.advance(2)
    assert deployment_status(api, "nb-one") == "COMPLETED"
    containers = api.get(f"{SERVICES}/nb-one/containers").json()["data"]["containers"]
    assert [item["status"] for item in containers] == ["TASK_RUNNING"]


def test_pause_shows_at_once_and_a_second_resume_is_409(api, control, project):
    api.post(CREATE, json=service_body())
    control.advance(10)
    before = control.service_state("lab", "nb-one")["filesystemGeneration"]
    assert api.post(f"{SERVICES}/nb-one/pause").json() == {"data": {}}
    read = api.get(f"{SERVICES}/nb-one").json()["data"]
    assert read["servicePaused"] is True and read["deployment"]["instances"] == 0
    assert api.post(f"{SERVICES}/nb-one/pause").status_code == 409
    after = control.service_state("lab", "nb-one")["filesystemGeneration"]
    assert after == before + 1  # no volume: the container filesystem is gone
    assert api.post(f"{SERVICES}/nb-one/resume", json={}).status_code == 200
    again = api.post(f"{SERVICES}/nb-one/resume", json={})
    assert again.status_code == 409 and again.json()["error"]["status"] == 409
    read = api.get(f"{SERVICES}/nb-one").json()["data"]
    assert read["servicePaused"] is False and read["deployment"]["instances"] == 1
    assert api.post(f"{SERVICES}/nb-one/scale", json={"instances": 2}).json() == {
        "data": {}
    }
    assert api.get(f"{SERVICES}/nb-one").json()["data"]["deployment"]["instances"] == 2


def test_a_volume_keeps_the_filesystem_across_a_pause(api, control, project):
    volume = {
        "name": "work",
        "mounts": [{"containerMountPath": "/home/jovyan"}],
        "spec": {"accessMode": "ReadWriteOnce", "storageSize": 4096},
    }
    assert api.post(PROJECT + "/volumes", json=volume).status_code == 200
    body = {**service_body(), "createOptions": {"volumesToAttach": ["work"]}}
    assert api.post(CREATE, json=body).status_code == 200
    attached = api.get(PROJECT + "/volumes/work").json()["data"]
    assert attached["attachedObjects"] == [{"id": "nb-one", "type": "service"}]
    before = control.service_state("lab", "nb-one")["filesystemGeneration"]
    api.post(f"{SERVICES}/nb-one/pause")
    assert control.service_state("lab", "nb-one")["filesystemGeneration"] == before
    assert api.delete(PROJECT + "/volumes/work").status_code == 409
    deleted = api.delete(f"{SERVICES}/nb-one", params={"delete_child_objects": "true"})
    assert deleted.status_code == 200
    assert api.get(PROJECT + "/volumes/work").status_code == 404


INVALID = {
    "name starting with a digit": {"name": "1gpu"},
    "name of 60 characters": {"name": "c" * 60},
    "name of 2 characters": {"name": "ab"},
    "double space in the name": {"name": "nb  one"},
    "port name of 9 characters": {
        "ports": [{"name": "notebooks", "internalPort": 1, "protocol": "HTTP"}]
    },
    "public TCP port": {
        "ports": [
            {"name": "ssh", "internalPort": 22, "protocol": "TCP", "public": True}
        ]
    },
    "unknown plan": {"billing": {"deploymentPlan": "nf-compute-99999"}},
}


@pytest.mark.parametrize("change", INVALID.values(), ids=list(INVALID))
def test_invalid_bodies_are_400_and_create_nothing(api, project, change):
    response = api.post(CREATE, json={**service_body(), **change})
    assert response.status_code == 400
    assert response.json()["error"]["message"]
    assert service_ids(api) == []


def test_missing_billing_is_refused_with_details(api, project):
    body = {key: value for key, value in service_body().items() if key != "billing"}
    response = api.post(CREATE, json=body)
    assert response.status_code == 400
    assert any("billing" in detail for detail in response.json()["error"]["details"])
    assert service_ids(api) == []


def test_duplicate_names_and_non_empty_project_deletes_are_409(api, project):
    assert api.post(CREATE, json=service_body("Nb One")).status_code == 200
    duplicate = api.post(CREATE, json=service_body("nb-one"))
    assert duplicate.status_code == 409
    assert service_ids(api) == ["nb-one"]
    assert api.delete(PROJECT).status_code == 409
    assert api.delete(PROJECT, params={"delete_child_objects": "true"}).json() == {
        "data": {}
    }
    assert api.get(PROJECT).status_code == 404


@pytest.mark.parametrize(
    ("region", "gpu_type", "count"),
    [
        ("europe-west-zurich", "l4-24", 1),
        ("europe-west", "h100-80", 1),
        ("us-central", "l4-24", 3),
        ("us-central", "h200-141", 1),
    ],
)
def test_gpus_the_region_does_not_offer_are_refused(api, region, gpu_type, count):
    api.post("/v1/projects", json={"name": "lab", "region": region})
    response = api.post(CREATE, json=service_body(**gpu(gpu_type, count)))
    assert response.status_code == 400
    assert gpu_type in response.json()["error"]["message"]
    assert service_ids(api) == []


def test_an_offered_gpu_shows_under_deployment_gpu(api, project):
    response = api.post(CREATE, json=service_body("nb-gpu", **gpu("h200-141", 8)))
    assert response.status_code == 200
    read = api.get(f"{SERVICES}/nb-gpu").json()["data"]
    assert read["deployment"]["gpu"]["configuration"]["gpuType"] == "h200-141"
    assert read["billing"] == {"deploymentPlan": PLAN}


def test_pagination_follows_cursors(api):
    for name in ("one-p", "two-p", "three-p"):
        api.post("/v1/projects", json={"name": name})
    first = api.get("/v1/projects", params={"per_page": 2}).json()
    assert first["pagination"]["hasNextPage"] is True
    assert first["pagination"]["count"] == 2
    cursor = first["pagination"]["cursor"]
    second = api.get("/v1/projects", params={"per_page": 2, "cursor": cursor}).json()
    assert second["pagination"] == {"hasNextPage": False, "count": 1}
    names = [
        item["id"] for item in first["data"]["projects"] + second["data"]["projects"]
    ]
    assert names == ["one-p", "two-p", "three-p"]
    assert api.get("/v1/projects", params={"per_page": 101}).status_code == 400


def test_rate_limit_counts_spends_and_resets_with_the_window(api, control):
    first = api.get("/v1/projects")
    second = api.get("/v1/projects")
    assert first.headers["x-ratelimit-limit"] == "1000"
    assert int(first.headers["x-ratelimit-remaining"]) == 999
    assert int(second.headers["x-ratelimit-remaining"]) == 998
    control.advance(600)
    assert api.get("/v1/projects").headers["x-ratelimit-reset"] == "3000"
    control.set_rate_limit(remaining=1)
    assert api.get("/v1/projects").status_code == 200
    spent = api.get("/v1/projects")
    assert spent.status_code == 429
    assert spent.json()["error"]["status"] == 429
    assert spent.headers["x-ratelimit-remaining"] == "0"
    assert int(spent.headers["x-ratelimit-reset"]) == 3000
    control.advance(3000)
    fresh = api.get("/v1/projects")
    assert fresh.status_code == 200
    assert fresh.headers["x-ratelimit-remaining"] == "999"
    assert fresh.headers["x-ratelimit-reset"] == "3600"


def test_deleting_outside_the_library_makes_the_service_404(api, control, project):
    api.post(CREATE, json=service_body())
    control.delete_service("lab", "nb-one")
    missing = api.get(f"{SERVICES}/nb-one")
    assert missing.status_code == 404 and "nb-one" in missing.json()["error"]["message"]
    assert api.delete(f"{SERVICES}/nb-one").status_code == 404
