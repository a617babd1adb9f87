"""The one transport policy: keys, rate limits, retries, gone pods, saved logins."""

from __future__ import annotations

import os
import stat

import pytest

import sindri_jupyter as sj
from sindri_jupyter import _credentials
from sindri_jupyter._config import Endpoint
from sindri_jupyter._engine import Session
from sindri_jupyter._errors import AuthenticationError, DeploymentGoneError
from sindri_jupyter._models import State
from tests._clock import SteppedClock
from tests.conftest import fake_runpod_key


def test_a_429_with_retry_after_is_retried_once_after_that_long(session, control):
    session.clock = SteppedClock()
    control.enable_fault(
        "rate-limit", count=1, method="GET", path="/v2/pods", params={"retry_after": 2}
    )
    assert sj.status() == []
    lists = [r for r in control.requests() if r["path"] == "/v2/pods"]
    assert [r["status"] for r in lists] == [429, 200]
    assert session.clock.slept == [2.0]


def test_an_invalid_key_is_one_request_and_one_sentence(runpod_emulator, control):
    from sindri_jupyter import _api

    wrong = fake_runpod_key()
    endpoint = Endpoint("runpod", runpod_emulator.base_url, wrong, sandbox=True)
    _api._session = Session(endpoints={"runpod": endpoint})
    try:
        with pytest.raises(AuthenticationError) as caught:
            sj.status()
    finally:
        _api._session = None
    message = str(caught.value)
    assert "RUNPOD_API_KEY" in message and "\n" not in message
    assert len(control.requests()) == 1
    assert wrong[4:10] not in message


def test_a_pod_deleted_while_deploy_waits_ends_as_gone(session, control):
    control.enable_fault("stuck-runtime")
    seen: list[str] = []

    def delete_once_created(progress) -> None:
        if progress.phase == "created" and not seen:
            seen.append(progress.deployment.id)
            control.delete_pod(progress.deployment.id)

    with pytest.raises(DeploymentGoneError) as caught:
        sj.deploy("runpod", gpu="L40", name="vanish", on_progress=delete_once_created)
    assert caught.value.deployment.state is State.GONE
    assert "already gone" in sj.destroy("vanish", yes=True).message


def test_login_keeps_the_key_private_without_a_keyring(tmp_path, monkeypatch):
    monkeypatch.setenv("SINDRI_JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    key = fake_runpod_key()
    said = _credentials.save_key("runpod", key)
    assert "readable only by you" in said or "keyring" in said
    path = tmp_path / "config" / "credentials.json"
    if path.exists():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _credentials.stored_key("runpod") == key
    from sindri_jupyter._config import real_endpoint

    assert real_endpoint("runpod").api_key == key
    assert key not in repr(real_endpoint("runpod"))
    assert _credentials.forget_key("runpod") is True
    assert _credentials.stored_key("runpod") is None
