"""RunPod emulator: GPU catalog, availability rules, data centers, stock and prices."""

from __future__ import annotations

import json

import pytest
from conftest import GPU, ROOT, pod_body

GPU_FILE = ROOT / "sindri_jupyter" / "emulators" / "specs" / "runpod-gpu-types.json"


def priced_types() -> dict[str, dict]:
    entries = json.loads(GPU_FILE.read_text())
    return {
        entry["id"]: entry
        for entry in entries
        if entry["securePricePerGpuHr"] is not None
        and entry["communityPricePerGpuHr"] is not None
    }


def test_catalog_lists_exactly_the_types_priced_on_both_clouds(api, contract):
    body = api.get("/v2/catalog/gpus").json()
    assert contract.errors("ListGpuTypesResponse", body) == []
    listed = {gpu["id"]: gpu for gpu in body["gpus"]}
    expected = priced_types()
    assert set(listed) == set(expected)
    for gpu_id, entry in expected.items():
        assert listed[gpu_id]["price"] == {
            "secure": entry["securePricePerGpuHr"],
            "community": entry["communityPricePerGpuHr"],
        }
        assert listed[gpu_id]["memory"] == entry["memoryInGb"]
        assert "availability" not in listed[gpu_id]


def test_single_type_with_spaces_in_its_id(api):
    response = api.get("/v2/catalog/gpus/NVIDIA%20GeForce%20RTX%204090")
    assert response.status_code == 200 and response.json()["name"] == "RTX 4090"
    assert api.get("/v2/catalog/gpus/NVIDIA%20L4").status_code == 404  # unpriced


def test_availability_appears_only_when_asked(api, contract):
    params = {"include": "AVAILABILITY", "product": "POD"}
    body = api.get("/v2/catalog/gpus", params=params).json()
    assert contract.errors("ListGpuTypesResponse", body) == []
    assert all("availability" in gpu for gpu in body["gpus"])
    stocked = [gpu for gpu in body["gpus"] if gpu["availability"] != "NONE"]
    assert stocked and all(gpu.get("dataCenters") for gpu in stocked)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"include": "AVAILABILITY"}, 400),
        ({"product": "POD"}, 400),
        ({"count": "2"}, 400),
        ({"countryCodes": "FR"}, 400),
        ({"include": "AVAILABILITY", "product": "POD", "cudaVersions": "12.8",
          "minCudaVersion": "12"}, 400),
        ({"include": "AVAILABILITY", "product": "POD", "countryCodes": "fr"}, 422),
        ({"include": "AVAILABILITY", "product": "POD", "count": "0"}, 422),
        ({"include": "SOMETHING", "product": "POD"}, 422),
    ],
)  # fmt: skip
def test_catalog_parameter_rules(api, contract, params, status):
    for path in ("/v2/catalog/gpus", f"/v2/catalog/gpus/{GPU}"):
        response = api.get(path, params=params)
        assert response.status_code == status, (path, response.text)
        assert contract.errors("ErrorResponse", response.json()) == []


def test_country_filter_drops_from_list_but_not_from_single(runpod, api):
    for offer in runpod.control.call("GET", "stock")["stock"]:
        if offer["gpu"] == GPU:
            runpod.control.set_stock(GPU, 0, data_center=offer["dataCenter"])
    runpod.control.set_stock(GPU, 4, data_center="EU-SE-1", cloud="SECURE")
    params = {"include": "AVAILABILITY", "product": "POD", "countryCodes": "JP,AU"}
    listed = api.get("/v2/catalog/gpus", params=params).json()["gpus"]
    single = api.get(f"/v2/catalog/gpus/{GPU}", params=params).json()
    assert single["availability"] == "NONE" and "dataCenters" not in single
    sweden = {**params, "countryCodes": "SE"}
    found = api.get(f"/v2/catalog/gpus/{GPU}", params=sweden).json()
    assert found["availability"] == "MEDIUM"
    assert found["dataCenters"] == [
        {"id": "EU-SE-1", "name": "EU Sweden 1", "availability": "MEDIUM"}
    ]
    offered_in = {o["dataCenter"] for o in runpod.control.call("GET", "stock")["stock"]
                  if o["gpu"] == GPU and o["cloud"] == "SECURE"}  # fmt: skip
    assert (GPU in [gpu["id"] for gpu in listed]) == bool(
        offered_in & {"AP-JP-1", "OC-AU-1"}
    )


def test_stock_decrements_on_create_and_frees_on_stop(runpod, api):
    runpod.control.set_stock(GPU, 0)
    runpod.control.set_stock(GPU, 2, data_center="US-TX-3", cloud="SECURE")
    pod = api.post("/v2/pods", json=pod_body(gpu={"id": GPU, "count": 2})).json()
    assert pod["dataCenterId"] == "US-TX-3"
    refused = api.post("/v2/pods", json=pod_body())
    assert refused.status_code == 400
    assert "no longer any instances available" in refused.json()["detail"]
    api.post(f"/v2/pods/{pod['id']}/action", json={"action": "stop"})
    second = api.post("/v2/pods", json=pod_body())
    assert second.status_code == 201
    # The first pod's host now has one GPU free, not two: start must fail.
    start = api.post(f"/v2/pods/{pod['id']}/action", json={"action": "start"})
    assert start.status_code == 400
    api.delete(f"/v2/pods/{second.json()['id']}")
    start = api.post(f"/v2/pods/{pod['id']}/action", json={"action": "start"})
    assert start.status_code == 200


def test_preferred_data_centers_are_tried_in_order(runpod, api):
    runpod.control.set_stock(GPU, 8, data_center="EU-RO-1", cloud="SECURE")
    runpod.control.set_stock(GPU, 8, data_center="CA-MTL-1", cloud="SECURE")
    body = pod_body(dataCenterIds=["CA-MTL-1", "EU-RO-1"])
    assert api.post("/v2/pods", json=body).json()["dataCenterId"] == "CA-MTL-1"
    runpod.control.set_stock(GPU, 0, data_center="CA-MTL-1", cloud="SECURE")
    assert api.post("/v2/pods", json=body).json()["dataCenterId"] == "EU-RO-1"


def test_price_change_reaches_catalog_and_new_pods(runpod, api):
    runpod.control.set_price(GPU, secure=1.25)
    assert api.get(f"/v2/catalog/gpus/{GPU}").json()["price"]["secure"] == 1.25
    assert api.post("/v2/pods", json=pod_body()).json()["cost"] == 1.25


def test_pricing_an_unpriced_type_lists_it(runpod, api):
    assert api.get("/v2/catalog/gpus/NVIDIA%20L4").status_code == 404
    runpod.control.set_price("NVIDIA L4", community=0.3)
    listed = api.get("/v2/catalog/gpus/NVIDIA%20L4")
    assert listed.status_code == 200
    assert listed.json()["price"] == {"secure": 0.43, "community": 0.3}


def test_data_centers_filters_and_availability(api, contract):
    everything = api.get("/v2/catalog/datacenters").json()
    assert contract.errors("ListDataCentersResponse", everything) == []
    assert all("gpuAvailability" not in center for center in everything["dataCenters"])
    params = {"regions": "EUROPE", "compliance": "GDPR", "include": "GPU_AVAILABILITY"}
    europe = api.get("/v2/catalog/datacenters", params=params).json()["dataCenters"]
    assert europe and all(center["region"] == "EUROPE" for center in europe)
    assert any(center.get("gpuAvailability") for center in europe)
    single = api.get("/v2/catalog/datacenters/US-KS-2")
    assert single.status_code == 200 and single.json()["id"] == "US-KS-2"
    assert api.get("/v2/catalog/datacenters/XX-NO-1").status_code == 404
    bad = api.get("/v2/catalog/datacenters", params={"regions": "MARS"})
    assert bad.status_code == 422


def test_ssh_keys_replace_and_validate(api, contract):
    assert api.get("/v2/account/ssh-keys").json() == {"keys": []}
    keys = ["ssh-ed25519 AAAAexample one", "ecdsa-sha2-nistp256 AAAAexample"]
    assert api.put("/v2/account/ssh-keys", json={"keys": keys}).json() == {"keys": keys}
    refused = api.put("/v2/account/ssh-keys", json={"keys": ["not a key"]})
    assert refused.status_code == 422
    assert api.get("/v2/account/ssh-keys").json() == {"keys": keys}
