"""Money-safety under faults: one deploy, at most one pod, never out of sight."""

from __future__ import annotations

import time

import httpx
import pytest

import sindri_jupyter as sj
from sindri_jupyter._errors import InputError, TransportError, WaitTimeoutError
from sindri_jupyter._models import State


def pods(control, key) -> list[dict]:
    reply = httpx.get(
        f"{control.base_url}/v2/pods", headers={"Authorization": f"Bearer {key}"}
    )
    return reply.json()["pods"]


def creates(control) -> list[dict]:
    return [
        r
        for r in control.requests()
        if r["method"] == "POST" and r["path"] == "/v2/pods"
    ]


def test_a_create_slower_than_the_timeout_never_becomes_two_pods(
    session, control, runpod_key
):
    session.settings.request_timeout_seconds = 0.5
    control.enable_fault(
        "slow", count=1, method="POST", path="/v2/pods", params={"seconds": 6}
    )
    with pytest.raises(TransportError, match="nothing more was sent"):
        sj.deploy("runpod", gpu="L40,L40S", name="slow", wait=False)
    time.sleep(3)  # the slow create lands after the client gave up
    assert len(creates(control)) == 1
    assert len(pods(control, runpod_key)) == 1
    session.settings.request_timeout_seconds = 30
    [found] = sj.status()
    assert found.name == "slow" and found.state.is_live
    assert "Destroyed" in sj.destroy("slow", yes=True).message
    assert pods(control, runpod_key) == []


def test_a_pod_whose_tag_was_removed_stays_in_view_and_can_be_destroyed(
    session, control, runpod_key
):
    pod = sj.deploy("runpod", gpu="L40", name="tagged")
    httpx.patch(
        f"{control.base_url}/v2/pods/{pod.id}",
        json={"env": {"FOO": "1"}},
        headers={"Authorization": f"Bearer {runpod_key}"},
    ).raise_for_status()
    [shown] = sj.status()
    assert shown.id == pod.id and shown.state is not State.GONE
    assert shown.cost_per_hour > 0
    assert "Destroyed" in sj.destroy(pod.id, yes=True).message
    assert pods(control, runpod_key) == []


def test_an_unknown_id_is_looked_up_at_the_provider(session, control, runpod_key):
    body = {
        "name": "made-elsewhere",
        "image": "runpod/base:latest",
        "gpu": {"id": "NVIDIA L40", "count": 1},
    }
    made = httpx.post(
        f"{control.base_url}/v2/pods",
        json=body,
        headers={"Authorization": f"Bearer {runpod_key}"},
    ).json()
    assert "Destroyed" in sj.destroy(made["id"], yes=True).message
    assert pods(control, runpod_key) == []


def test_errors_while_waiting_report_the_pod_left_running(session, control):
    control.enable_fault("stuck-runtime")
    control.enable_fault("server-error", method="GET", path="/v2/pods/*")
    with pytest.raises(WaitTimeoutError) as caught:
        sj.deploy("runpod", gpu="L40", name="w")
    message = str(caught.value)
    assert caught.value.deployment.id in message and "/h" in message
    assert "left" in message


def test_destroying_twice_is_a_no_op_that_says_so(session, control):
    sj.deploy("runpod", gpu="L40", name="twice")
    assert "Destroyed" in sj.destroy("twice", yes=True).message
    assert "already gone" in sj.destroy("twice", yes=True).message


def test_a_name_freed_elsewhere_can_be_used_again(session, control):
    pod = sj.deploy("runpod", gpu="L40", name="again", wait=False)
    control.delete_pod(pod.id)
    again = sj.deploy("runpod", gpu="L40", name="again", wait=False)
    assert again.id != pod.id


def test_a_name_is_taken_even_when_the_store_was_lost(session, control, fresh_data_dir):
    sj.deploy("runpod", gpu="L40", name="kept", wait=False)
    for path in fresh_data_dir.glob("deployments.sqlite3*"):
        path.unlink()
    with pytest.raises(InputError, match="taken"):
        sj.deploy("runpod", gpu="L40", name="kept", wait=False)
    assert len(creates(control)) == 1


def test_the_store_heals_when_its_file_is_deleted_while_in_use(
    session, control, fresh_data_dir
):
    sj.deploy("runpod", gpu="L40", name="heal", wait=False)
    for path in fresh_data_dir.glob("deployments.sqlite3*"):
        path.unlink()
    [found] = sj.status()
    assert found.name == "heal"


def test_a_jupyter_password_read_back_from_the_pod_is_masked(session, control):
    from sindri_jupyter import _display

    pod = sj.deploy(
        "runpod", gpu="L40", name="own", env=["JUPYTER_PASSWORD=MyOwnJupyterPass99"]
    )
    shown = _display.deployment_text(pod) + repr(pod) + str(pod.connection)
    assert "MyOwnJupyterPass99" not in shown
    assert "MyOwnJupyterPass99" in _display.deployment_text(pod, show_secrets=True)
