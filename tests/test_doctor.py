"""`doctor`: one cheap request per provider, each finding one line with its fix."""

from __future__ import annotations

import httpx
import pytest

from sindri_jupyter import _doctor, cli
from sindri_jupyter._config import Endpoint

NF_KEY = "nf-test-token-" + "z" * 24


def run(provider=None, listing=None):
    return _doctor.run(provider, labextensions=lambda: listing)


def by_topic(findings) -> dict[str, _doctor.Finding]:
    return {f.topic: f for f in findings}


def test_a_wrong_key_is_one_line_after_exactly_one_request(session, control, capsys):
    base = session.endpoints["runpod"].base_url
    session.endpoints["runpod"] = Endpoint("runpod", base, "rpa_" + "w" * 40, True)
    assert cli.main(["doctor", "runpod"]) == cli.EXIT_FAILED
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if "runpod key" in x]
    assert line.startswith("FIX") and "RUNPOD_API_KEY" in line and "w" * 40 not in out
    assert [r["path"] for r in control.requests()] == ["/v2/pods"]


def test_a_working_key_reports_room_and_a_registered_ssh_key(
    session, control, runpod_key, tmp_path
):
    private = tmp_path / "id_ed25519"
    private.write_text("private")
    public = "ssh-ed25519 AAAAC3NzaTESTKEY me@laptop"
    (tmp_path / "id_ed25519.pub").write_text(public + "\n")
    session.settings.ssh_key_path = str(tmp_path / "id_ed25519.pub")
    httpx.put(
        f"{session.endpoints['runpod'].base_url}/v2/account/ssh-keys",
        json={"keys": ["ssh-ed25519 AAAAC3NzaTESTKEY other-comment"]},
        headers={"Authorization": f"Bearer {runpod_key}"},
    ).raise_for_status()
    control.clear_requests()
    found = by_topic(run("runpod", listing="sindri-jupyter v0.1.0 enabled OK"))
    assert found["ssh key"].ok is True
    assert found["runpod key"].ok is True
    assert "left this minute" in found["runpod rate limit"].text
    assert found["runpod ssh key"].ok is True
    assert found["jupyterlab extension"].ok is True
    paths = [r["path"] for r in control.requests()]
    assert paths == ["/v2/pods", "/v2/account/ssh-keys"]


@pytest.fixture
def nf_endpoint(session):
    from sindri_jupyter.emulators import EmulatorControl, serve

    server = serve("northflank", seed=7, api_keys=[NF_KEY])
    try:
        with EmulatorControl(server.base_url) as client:
            yield server.base_url, client
    finally:
        server.close()


def test_northflank_key_team_and_rate_limit(session, nf_endpoint):
    base, control = nf_endpoint
    session.endpoints["northflank"] = Endpoint("northflank", base, NF_KEY, True)
    found = by_topic(run("northflank"))
    assert found["northflank key"].ok is True
    assert "cannot be known" in found["northflank team"].text
    assert "requests left" in found["northflank rate limit"].text
    assert [r["path"] for r in control.requests()] == ["/v1/projects"]
    control.clear_requests()
    session.endpoints["northflank"] = Endpoint("northflank", base, "nf-wrong", True)
    [line] = [f for f in run("northflank") if f.topic == "northflank key"]
    assert line.ok is False and "NORTHFLANK_API_TOKEN" in line.text
    assert len(control.requests()) == 1


@pytest.fixture(autouse=True)
def temporary_home(tmp_path, monkeypatch):
    """Never the user's own ~/.ssh."""
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_no_key_and_no_sandbox_sends_nothing_and_says_how(monkeypatch):
    from sindri_jupyter import _api
    from sindri_jupyter._engine import Session

    monkeypatch.setattr(_api, "_session", Session())
    found = by_topic(run())
    assert "RUNPOD_API_KEY is not set" in found["runpod key"].text
    assert "NORTHFLANK_API_TOKEN is not set" in found["northflank key"].text
    assert (
        found["ssh key"].ok is False
        and "ssh-keygen -t ed25519" in found["ssh key"].text
    )


def test_the_sandbox_on_without_its_emulator_says_how_to_start_it(monkeypatch):
    from sindri_jupyter import _api
    from sindri_jupyter._engine import Session

    session = Session()
    session.settings.sandbox = True
    monkeypatch.setattr(_api, "_session", session)
    found = by_topic(run("runpod"))
    assert found["runpod emulator"].ok is False
    assert "sindri-jupyter emulator start" in found["runpod emulator"].text


@pytest.mark.parametrize(
    "listing,ok,words",
    [
        ("\x1b[32m sindri-jupyter v0.1.0 \x1b[32menabled\x1b[0m OK", True, "enabled"),
        ("sindri-jupyter v0.1.0 disabled OK", False, "labextension enable"),
        ("other-extension v1 enabled OK", False, "not installed"),
        (None, None, "JupyterLab is not installed"),
    ],
)
def test_the_jupyterlab_extension_finding(listing, ok, words):
    finding = _doctor._extension(lambda: listing)
    assert finding.ok is ok and words in finding.text
    assert "\n" not in finding.line()


def test_the_magic_prints_the_same_report(shell, control, capsys, monkeypatch):
    monkeypatch.setattr(_doctor, "_list_labextensions", lambda: None)
    shell.run_line_magic("sindri", "doctor runpod")
    out = capsys.readouterr().out
    assert "ok   runpod key: works" in out and "JupyterLab is not installed" in out
    assert [r["path"] for r in control.requests()] == ["/v2/pods"]
