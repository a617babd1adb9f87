"""RunPod emulator: the SSE log stream and pod billing computed from the clock."""

from __future__ import annotations

import json
import threading
import time

import pytest
from conftest import GPU, pod_body

HOUR = 3600


def read_events(api, pod_id, params=None, headers=None) -> list[dict]:
    """Read one whole stream (it ends after the emulator's follow window)."""
    events, current = [], {}
    url = f"/v2/pods/{pod_id}/logs"
    with api.stream("GET", url, params=params, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["cache-control"] == "no-cache"
        for line in response.iter_lines():
            if line.startswith("id: "):
                current["id"] = line[4:]
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])
            elif not line and current:
                events.append(current)
                current = {}
    return events


@pytest.fixture
def ready_pod(runpod, api):
    body = pod_body(env={"JUPYTER_PASSWORD": "pw", "PUBLIC_KEY": "ssh-ed25519 A b"})
    pod = api.post("/v2/pods", json=body).json()
    runpod.control.advance(5)
    return pod


def test_event_ids_are_the_event_timestamps(api, ready_pod):
    events = read_events(api, ready_pod["id"])
    assert len(events) >= 6
    assert all(event["id"] == event["data"]["ts"] for event in events)
    stamps = [event["id"] for event in events]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    lines = [event["data"]["line"] for event in events]
    assert "Starting Jupyter Lab on 8888..." in lines
    assert {event["data"]["source"] for event in events} == {"system", "container"}


def test_tail_since_last_event_id_and_source(api, ready_pod):
    everything = read_events(api, ready_pod["id"])
    assert read_events(api, ready_pod["id"], {"tail": 2}) == everything[-2:]
    third = everything[2]
    since = read_events(api, ready_pod["id"], {"since": third["id"]})
    assert since == everything[2:]
    resumed = read_events(api, ready_pod["id"], {"since": everything[0]["id"]},
                          headers={"Last-Event-ID": third["id"]})  # fmt: skip
    assert resumed == everything[3:]  # Last-Event-ID beats since
    container = read_events(api, ready_pod["id"], {"source": "container"})
    assert container == [e for e in everything if e["data"]["source"] == "container"]
    assert read_events(api, ready_pod["id"], {"tail": 0}) == []


def test_malformed_log_parameters_are_422(api, ready_pod):
    url = f"/v2/pods/{ready_pod['id']}/logs"
    assert api.get(url, params={"tail": 5001}).status_code == 422
    assert api.get(url, params={"source": "kernel"}).status_code == 422
    assert api.get(url, params={"since": "yesterday"}).status_code == 422


def test_stream_follows_new_events_live(runpod, api, ready_pod):
    def stop_soon():
        time.sleep(0.1)
        api.post(f"/v2/pods/{ready_pod['id']}/action", json={"action": "stop"})

    stopper = threading.Thread(target=stop_soon)
    stopper.start()
    live = read_events(api, ready_pod["id"], {"tail": 0})
    stopper.join()
    assert [event["data"]["line"] for event in live] == [
        "stop requested; container exited"
    ]


def billing(api, **params):
    response = api.get("/v2/billing/pods", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_billing_compute_and_disk_by_the_hour(runpod, api, contract):
    price = api.get(f"/v2/catalog/gpus/{GPU}").json()["price"]["secure"]
    mounts = {"persistent": {"size": 20, "path": "/workspace"}}
    pod = api.post("/v2/pods", json=pod_body(disk=50, mounts=mounts)).json()
    runpod.control.advance(HOUR)
    api.post(f"/v2/pods/{pod['id']}/action", json={"action": "stop"})
    runpod.control.advance(HOUR)
    report = billing(api, bucketSize="hour", startTime="2026-06-01T12:00:00Z",
                     endTime="2026-06-01T14:00:00Z")  # fmt: skip
    assert contract.errors("ListPodBillingResponse", report) == []
    running, stopped = report["records"]
    assert running["startTime"] == "2026-06-01T12:00:00Z"
    assert running["gpuAmount"] == pytest.approx(price, abs=0.005)
    assert running["diskAmount"] == pytest.approx((50 + 20) * 0.10 / 730, abs=1e-6)
    assert stopped["gpuAmount"] == 0
    assert stopped["diskAmount"] == pytest.approx(20 * 0.20 / 730, abs=1e-6)
    totals = report["metadata"]["totals"]
    assert totals["totalAmount"] == pytest.approx(
        running["totalAmount"] + stopped["totalAmount"], abs=1e-5
    )
    assert report["metadata"]["uniquePodCount"] == 1


def test_billing_keeps_terminated_pods_and_filters_by_pod(runpod, api):
    first = api.post("/v2/pods", json=pod_body()).json()
    second = api.post("/v2/pods", json=pod_body()).json()
    runpod.control.advance(1800)
    api.delete(f"/v2/pods/{first['id']}")
    runpod.control.advance(1800)
    report = billing(api, lastN=1)
    amounts = {record["podId"]: record["gpuAmount"] for record in report["records"]}
    assert amounts[first["id"]] == pytest.approx(amounts[second["id"]] / 2, abs=1e-6)
    assert report["metadata"]["query"]["startTime"] == "2026-06-01T00:00:00Z"
    assert report["metadata"]["query"]["endTime"] == "2026-06-02T00:00:00Z"
    only = billing(api, lastN=1, podId=second["id"])
    assert [record["podId"] for record in only["records"]] == [second["id"]]


def test_billing_refusals(api):
    params = {"lastN": 2, "startTime": "2026-05-01T00:00:00Z"}
    both = api.get("/v2/billing/pods", params=params)
    assert both.status_code == 400
    assert (
        api.get("/v2/billing/pods", params={"bucketSize": "minute"}).status_code == 422
    )
    assert api.get("/v2/billing/pods", params={"lastN": 0}).status_code == 422
