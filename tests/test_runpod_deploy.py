"""The main job against the RunPod emulator, over real HTTP."""

from __future__ import annotations

import pytest

import sindri_jupyter as sj
from sindri_jupyter._errors import (
    AmbiguousGpuError,
    CapacityError,
    InputError,
    SindriError,
    UnknownGpuError,
    UnsupportedError,
    WaitTimeoutError,
)
from sindri_jupyter._models import State


def creates(control) -> list[dict]:
    return [
        r
        for r in control.requests()
        if r["method"] == "POST" and r["path"] == "/v2/pods"
    ]


def test_a_geforce_card_named_without_geforce_is_refused_with_the_nearest(
    session, control
):
    with pytest.raises(UnknownGpuError) as caught:
        sj.deploy("runpod", gpu="NVIDIA RTX 4090", name="t")
    assert "NVIDIA GeForce RTX 4090" in str(caught.value)
    assert "NVIDIA GeForce RTX 4090" in caught.value.nearest
    assert creates(control) == []


def test_a100_lists_both_ids_with_prices_and_sends_nothing(session, control):
    with pytest.raises(AmbiguousGpuError) as caught:
        sj.deploy("runpod", gpu="A100", name="t")
    message = str(caught.value)
    assert "NVIDIA A100 80GB PCIe" in message and "NVIDIA A100-SXM4-80GB" in message
    assert message.count("/h") == 2
    assert creates(control) == []


def test_a100_sxm_takes_the_sxm_id_and_says_so(session, control):
    said: list[str] = []
    deployment = sj.deploy(
        "runpod", gpu="a100-sxm", name="t", on_progress=lambda p: said.append(p.message)
    )
    assert deployment.gpu == "NVIDIA A100-SXM4-80GB"
    assert any("NVIDIA A100-SXM4-80GB" in line for line in said)
    assert [c["body"]["gpu"]["id"] for c in creates(control)] == [
        "NVIDIA A100-SXM4-80GB"
    ]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("L40", "NVIDIA L40"),
        ("4090", "NVIDIA GeForce RTX 4090"),
        ("rtx4090", "NVIDIA GeForce RTX 4090"),
        ("NVIDIA H100 PCIe", "NVIDIA H100 PCIe"),
    ],
)
def test_aliases_resolve_against_the_live_catalog(session, control, typed, expected):
    plan = sj.plan("runpod", gpu=typed, name="t")
    assert plan.gpu_id == expected
    assert creates(control) == []


def test_h100_means_every_h100_in_the_catalog(session):
    with pytest.raises(AmbiguousGpuError) as caught:
        sj.plan("runpod", gpu="H100", name="t")
    ids = {offer.id for offer in caught.value.candidates}
    assert ids == {"NVIDIA H100 PCIe", "NVIDIA H100 80GB HBM3", "NVIDIA H100 NVL"}


def test_a_deploy_sends_the_users_fields_plus_the_default_set_and_no_null(
    session, control, tmp_path
):
    key_file = tmp_path / "id_ed25519.pub"
    key_file.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host\n")
    session.settings.ssh_key_path = str(key_file)
    deployment = sj.deploy(
        "runpod", gpu="NVIDIA L40", name="trainer", env=["BATCH=32"], disk=40, volume=0
    )
    [create] = creates(control)
    body = create["body"]
    env = body["env"]
    assert set(body) == {
        "name",
        "image",
        "gpu",
        "cloud",
        "disk",
        "ports",
        "env",
        "startSsh",
    }
    assert body["gpu"] == {"id": "NVIDIA L40", "count": 1}
    assert body["disk"] == 40
    assert body["ports"] == ["8888/http", "22/tcp"]
    assert body["startSsh"] is True
    assert set(env) == {
        "BATCH",
        "SINDRI_LAUNCH_ID",
        "SINDRI_NAME",
        "JUPYTER_PASSWORD",
        "PUBLIC_KEY",
    }
    assert env["BATCH"] == "32" and env["SINDRI_NAME"] == "trainer"
    assert env["PUBLIC_KEY"].startswith("ssh-ed25519 AAAAC3")
    assert body["name"] == f"sindri-trainer-{env['SINDRI_LAUNCH_ID'][:6]}"

    def nulls(value):
        if value is None:
            return 1
        if isinstance(value, dict):
            return sum(nulls(v) for v in value.values())
        if isinstance(value, list):
            return sum(nulls(v) for v in value)
        return 0

    assert nulls(body) == 0
    assert deployment.state is State.READY


def test_env_values_arrive_byte_for_byte(session, control):
    dsn = "postgres://u@h/db?sslmode=require"
    quoted = 'say "x" \\ done'
    sj.deploy(
        "runpod", gpu="L40", name="t", env=[f"DSN={dsn}", f"Q={quoted}"], wait=False
    )
    [create] = creates(control)
    assert create["body"]["env"]["DSN"] == dsn
    assert create["body"]["env"]["Q"] == quoted


def test_bad_input_sends_nothing(session, control):
    for options in (
        {"env": ["NOEQUALS"]},
        {"ports": "22/udp"},
        {"ports": "70000/tcp"},
        {"ports": "8888/http;22/tcp"},
        {"name": "bad:name"},
        {"count": 0},
        {"volume": 5},
        {"cloud": "cheap"},
        {"timeout": "soon"},
    ):
        with pytest.raises(InputError):
            sj.deploy("runpod", gpu="L40", **options)
    assert control.requests() == []


@pytest.mark.parametrize(
    ("options", "feature"),
    [({"spot": True}, "use spot"), ({"stop_after": "2h"}, "server-side timer")],
)
def test_what_runpod_cannot_do_is_refused_before_any_request(
    session, control, options, feature
):
    with pytest.raises(UnsupportedError, match=feature):
        sj.deploy("runpod", gpu="L40", name="t", **options)
    assert control.requests() == []


def test_pause_is_refused_on_runpod_before_any_request(session, control):
    sj.deploy("runpod", gpu="L40", name="t")
    control.clear_requests()
    with pytest.raises(UnsupportedError, match="no pause distinct from stop"):
        sj.pause("t")
    assert control.requests() == []


def test_a_stuck_runtime_times_out_as_running_and_one_create(session, control):
    control.enable_fault("stuck-runtime")
    with pytest.raises(WaitTimeoutError) as caught:
        sj.deploy("runpod", gpu="L40", name="stuck", timeout="5s")
    deployment = caught.value.deployment
    message = str(caught.value)
    assert deployment.state is State.RUNNING
    assert deployment.id in message and "/h" in message
    assert "not yet reachable" in message
    assert len(creates(control)) == 1
    control.clear_faults()
    [shown] = sj.status("runpod")
    assert shown.state is State.READY and shown.id == deployment.id


def test_a_stopped_pod_has_no_addresses_even_if_seen_before(session, control):
    ready = sj.deploy("runpod", gpu="L40", name="t")
    assert ready.connection.ssh_direct
    sj.stop("t")
    with pytest.raises(SindriError, match="stopped: it has no addresses"):
        sj.connect("t")
    stopped = sj._api._sync.run(lambda emit: session.describe("t"))
    assert stopped.state is State.STOPPED
    assert stopped.connection.is_empty
    assert not stopped.connection.jupyter_url


def test_lifecycle_stop_start_destroy(session, control):
    sj.deploy("runpod", gpu="L40", name="t")
    stopped = sj.stop("t")
    assert "wipes the container disk" in stopped.message
    assert stopped.deployment.state is State.STOPPED
    assert sj.status()[0].state is State.STOPPED
    assert "already stopped" in sj.stop("t").message
    started = sj.start("t")
    assert started.deployment.state is State.READY
    assert "already ready" in sj.start("t").message
    destroyed = sj.destroy("t", yes=True)
    assert destroyed.deployment is None and "Destroyed" in destroyed.message
    assert sj.status() == []
    with pytest.raises(InputError):
        sj.connect("t")


def test_destroy_without_anyone_to_answer_destroys_nothing(
    session, control, monkeypatch
):
    import io

    sj.deploy("runpod", gpu="L40", name="t")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(InputError, match="persistent volume.*nothing was destroyed"):
        sj.destroy("t")
    assert [d.state for d in sj.status()] == [State.READY]
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert "Nothing was done" in sj.destroy("t").message
    assert [d.state for d in sj.status()] == [State.READY]


def test_a_capacity_refusal_moves_to_the_next_allowed_choice_once(session, control):
    control.enable_fault("capacity", count=1, method="POST", path="/v2/pods")
    deployment = sj.deploy("runpod", gpu="L40,L40S", name="t")
    assert deployment.gpu == "NVIDIA L40S"
    sent = [c["body"]["gpu"]["id"] for c in creates(control)]
    assert sent == ["NVIDIA L40", "NVIDIA L40S"]


def test_a_choice_the_catalog_shows_out_of_stock_is_tried_last(session, control):
    control.set_stock("NVIDIA L40", 0)
    deployment = sj.deploy("runpod", gpu="L40,L40S", name="t")
    assert deployment.gpu == "NVIDIA L40S"
    assert [c["body"]["gpu"]["id"] for c in creates(control)] == ["NVIDIA L40S"]


def test_when_no_choice_has_capacity_nothing_is_left_behind(session, control):
    control.set_stock("NVIDIA L40", 0)
    with pytest.raises(CapacityError):
        sj.deploy("runpod", gpu="L40", name="t")
    assert len(creates(control)) == 1
    assert sj.status() == []


def test_a_create_that_drops_the_connection_is_found_by_its_tag(session, control):
    control.enable_fault("commit-then-reset", count=1, method="POST", path="/v2/pods")
    deployment = sj.deploy("runpod", gpu="L40", name="t")
    assert len(creates(control)) == 1
    pods = [p for p in control.call("GET", "requests")["requests"]]
    assert pods  # the journal saw traffic
    listed = sj.status("runpod")
    assert [d.id for d in listed] == [deployment.id]


def test_names_are_unique_among_live_deployments(session, control):
    sj.deploy("runpod", gpu="L40", name="t", wait=False)
    with pytest.raises(InputError, match="taken"):
        sj.deploy("runpod", gpu="L40", name="t", wait=False)
    assert len(creates(control)) == 1


def test_a_lost_store_still_shows_tagged_pods_and_using_one_adopts_it(
    session, control, fresh_data_dir
):
    deployment = sj.deploy("runpod", gpu="L40", name="t")
    for path in fresh_data_dir.glob("deployments.sqlite3*"):
        path.unlink()
    session._store = None
    listed = sj.status()
    [found] = listed
    assert found.id == deployment.id and found.name == "t" and not found.in_store
    assert "t (not in this store)" in str(listed)
    assert f"runpod:t (id {found.id}). `%sindri status --all` offers" in str(listed)
    assert session.store.records() == []  # shown, not adopted behind the user's back
    assert sj.connect("t").id == deployment.id  # naming it is using it: adopted
    [again] = sj.status()
    assert again.in_store and "not in this store" not in str(sj.status())
