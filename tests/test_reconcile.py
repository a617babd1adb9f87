"""`%sindri status --all`: what the providers hold that this store does not know.

Deployments "from another machine" are made by deploying with another data
folder, that is another store, against the same emulator.
"""

from __future__ import annotations

import asyncio
import builtins

import pytest

import sindri_jupyter as sj
from sindri_jupyter import cli
from sindri_jupyter._models import State
from tests.test_northflank_deploy import (  # noqa: F401 - fixtures
    nf,
    nf_server,
    nf_session,
)


def run(shell, capsys, line: str) -> tuple[str, str]:
    shell.run_cell(line)
    captured = capsys.readouterr()
    return captured.out, captured.err


@pytest.fixture
def pods(control, runpod_key):
    """What the emulator holds now, read through its own API."""
    import httpx

    def read() -> dict[str, dict]:
        answer = httpx.get(
            f"{control.base_url}/v2/pods",
            headers={"Authorization": f"Bearer {runpod_key}"},
        ).json()
        listed = answer["pods"] if isinstance(answer, dict) else answer
        return {pod["id"]: pod for pod in listed}

    return read


@pytest.fixture
def elsewhere(monkeypatch, tmp_path, fresh_data_dir):
    """Deploys as another machine would: its own session and its own store."""
    from sindri_jupyter import _api
    from sindri_jupyter._engine import Session

    def deploy(provider: str, name: str, **options) -> sj.Deployment:
        here = _api._session
        other = Session(endpoints=here.endpoints, clock=here.clock)
        other.settings.ssh_key_path = here.settings.ssh_key_path
        monkeypatch.setenv("SINDRI_JUPYTER_DATA_DIR", str(tmp_path / "other-machine"))
        _api._session = other
        try:
            gpu = "L40" if provider == "runpod" else "L4"
            return sj.deploy(provider, gpu=gpu, name=name, wait=False, **options)
        finally:
            _api._session = here
            monkeypatch.setenv("SINDRI_JUPYTER_DATA_DIR", str(fresh_data_dir))

    return deploy


@pytest.fixture
def made_elsewhere(control, runpod_key):
    """A tagged pod of any name, made straight through the API ("another machine"
    whose library allowed a name this store already uses)."""
    import secrets

    import httpx

    def make(name: str) -> str:
        body = {
            "name": f"sindri-{name}-{secrets.token_hex(3)}",
            "image": "runpod/base:latest",
            "gpu": {"id": "NVIDIA L40", "count": 1},
            "env": {"SINDRI_LAUNCH_ID": secrets.token_hex(16), "SINDRI_NAME": name},
        }
        answer = httpx.post(
            f"{control.base_url}/v2/pods",
            json=body,
            headers={"Authorization": f"Bearer {runpod_key}"},
        )
        return answer.raise_for_status().json()["id"]

    return make


def answering(monkeypatch, answers: dict[str, str] | None = None) -> list[str]:
    """The user at the keyboard: a question naming a key gets its answer.

    With nothing to answer, stdin is closed: the question ends in EOF.
    """
    asked: list[str] = []

    def ask(question: str = "") -> str:
        asked.append(question)
        for key, answer in (answers or {}).items():
            if key in question:
                return answer
        raise EOFError

    monkeypatch.setattr(builtins, "input", ask)
    return asked


def test_status_all_offers_to_adopt_or_destroy_each_tagged_stranger(
    shell, capsys, session, control, elsewhere, monkeypatch, pods
):
    sj.deploy("runpod", gpu="L40", name="mine", wait=False)
    kept = elsewhere("runpod", "kept")
    dropped = elsewhere("runpod", "dropped")
    left = elsewhere("runpod", "left")
    assert {r.name for r in session.store.records()} == {"mine"}
    asked = answering(
        monkeypatch,
        {
            f"runpod:kept (id {kept.id}): [a]dopt": "a",
            f"runpod:dropped (id {dropped.id}): [a]dopt": "d",
            f"Destroy runpod:dropped (id {dropped.id})?": "y",
            f"runpod:left (id {left.id}): [a]dopt": "",
        },
    )
    out, err = run(shell, capsys, "%sindri status --all")
    assert err == ""
    assert len(asked) == 4  # one question each, and the destroy says what goes
    assert "its volume" in asked[2] or "volume" in "".join(asked)
    for found in (kept, dropped, left):
        assert f"`%sindri adopt runpod:{found.id}` tracks it here" in out
        assert f"`%sindri destroy runpod:{found.id}` deletes it" in out
    assert f"Adopted runpod:kept (id {kept.id})" in out
    assert f"Destroyed runpod:dropped (id {dropped.id})" in out
    assert f"Left runpod:left (id {left.id}) as it is." in out
    # What the emulator holds, and what this store now knows.
    assert set(pods()) >= {kept.id, left.id} and dropped.id not in pods()
    assert {r.name for r in session.store.records()} == {"mine", "kept"}
    after = {d.name: d for d in sj.status()}
    assert after["kept"].in_store and not after["left"].in_store
    assert "dropped" not in after


def test_nobody_to_answer_leaves_everything_and_names_the_commands(
    shell, capsys, session, control, elsewhere, monkeypatch, pods
):
    stranger = elsewhere("runpod", "stranger")
    answering(monkeypatch)  # stdin is closed
    out, err = run(shell, capsys, "%sindri status --all")
    assert err == "" and "Traceback" not in out
    assert f"`%sindri adopt runpod:{stranger.id}`" in out
    assert stranger.id in pods() and session.store.records() == []


def test_plain_status_shows_strangers_and_points_at_status_all(
    shell, capsys, session, control, elsewhere
):
    stranger = elsewhere("runpod", "stranger")
    out, _ = run(shell, capsys, "%sindri status")
    assert "stranger (not in this store)" in out
    assert f"runpod:stranger (id {stranger.id})" in out
    assert "`%sindri status --all` offers to adopt or destroy each" in out
    # It bills, so the reminder counts it.
    assert "Reminder: 1 deployment is running (runpod:stranger)" in out
    assert session.store.records() == []


def test_records_whose_pod_is_gone_are_marked_gone_and_listed_by_all(
    shell, capsys, session, control
):
    deployment = sj.deploy("runpod", gpu="L40", name="vanishing", wait=False)
    control.call("POST", f"pods/{deployment.id}/delete")  # deleted outside
    [gone] = sj.status()
    assert gone.state is State.GONE
    assert sj.status() == []  # said once; not a failure every time after
    everything = sj.status(everything=True)
    assert [(d.name, d.state) for d in everything] == [("vanishing", State.GONE)]
    said = sj.destroy("vanishing").message  # a no-op, said plainly
    assert said == f"runpod:vanishing (id {deployment.id}) was already gone; " + (
        "nothing to destroy."
    )


def test_adopt_by_id_and_adopting_twice(shell, capsys, session, control, elsewhere):
    stranger = elsewhere("runpod", "stranger")
    out, err = run(shell, capsys, f"%sindri adopt {stranger.id}")
    assert err == "" and f"Adopted runpod:stranger (id {stranger.id})" in out
    assert [r.remote_id for r in session.store.records()] == [stranger.id]
    out, err = run(shell, capsys, "%sindri adopt stranger")
    assert "already in this store; nothing to do" in out
    out, err = run(shell, capsys, "%sindri adopt nosuchpod")
    assert err.startswith("UsageError:") and "'nosuchpod'" in err
    assert len(err.strip().splitlines()) == 1


def test_the_cli_status_all_takes_answers_from_stdin(
    session, control, elsewhere, monkeypatch, capsys
):
    stranger = elsewhere("runpod", "cli-found")
    answering(monkeypatch, {"cli-found": "a"})
    assert cli.main(["status", "--all"]) == cli.EXIT_OK
    assert f"Adopted runpod:cli-found (id {stranger.id})" in capsys.readouterr().out
    assert cli.main(["--json", "status", "--all"]) == cli.EXIT_OK
    assert '"in_store": true' in capsys.readouterr().out


def test_northflank_status_all_looks_in_every_project_at_once(
    nf_session, nf, elsewhere
):
    asyncio.run(nf_session.status("northflank"))  # the first round scans
    stranger = elsewhere("northflank", "far", project="faraway")
    nf.advance(600)
    nf.clear_requests()
    plain = asyncio.run(nf_session.status("northflank"))
    assert plain == [] and "GET /v1/projects" not in [
        f"{r['method']} {r['path']}" for r in nf.requests()
    ]
    found = asyncio.run(nf_session.status("northflank", everything=True))
    assert [(d.id, d.in_store) for d in found] == [(stranger.id, False)]
    assert "adopt" in sj.adopt(stranger.id).message.lower()
    assert [d.in_store for d in asyncio.run(nf_session.status("northflank"))] == [True]


def test_the_panel_marks_a_stranger_and_adopts_it_on_a_click(
    session, control, elsewhere
):
    from sindri_jupyter._panel import Panel

    stranger = elsewhere("runpod", "stranger")
    sj.deploy("runpod", gpu="L40", name="mine", wait=False)
    panel = Panel()
    try:
        panel.wait()
        row, mine = panel.row("stranger"), panel.row("mine")
        assert "(not in this store)" in row.cells["name"].value
        assert row.adopt.layout.display is None and mine.adopt.layout.display == "none"
        row.adopt.click()
        panel.wait()
        assert f"Adopted runpod:stranger (id {stranger.id})" in panel.message.value
        assert panel.row("stranger").adopt.layout.display == "none"
        assert "not in this store" not in panel.row("stranger").cells["name"].value
        assert {r.name for r in session.store.records()} == {"stranger", "mine"}
    finally:
        panel.close()


def test_the_cli_names_its_own_commands_in_the_offers(
    session, control, elsewhere, monkeypatch, capsys
):
    stranger = elsewhere("runpod", "cli-named")
    answering(monkeypatch)
    assert cli.main(["status", "--all"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert f"`sindri-jupyter adopt runpod:{stranger.id}`" in out
    assert "%sindri" not in out


def test_a_name_shared_with_a_stranger_is_refused_even_before_any_status(
    session, control, made_elsewhere, pods
):
    mine = sj.deploy("runpod", gpu="L40", name="twin", wait=False)
    theirs = made_elsewhere("twin")
    session.unknown_tagged.clear()  # as in a new kernel that listed nothing yet
    with pytest.raises(sj.AmbiguousNameError, match="2 live deployments") as refused:
        sj.stop("twin")
    assert mine.id in str(refused.value) and theirs in str(refused.value)
    assert not [r for r in control.requests() if r["path"].endswith("/action")]


def test_adopting_a_stranger_deleted_since_the_list_adopts_nothing(
    session, control, elsewhere
):
    stranger = elsewhere("runpod", "brief")
    sj.status()
    control.call("POST", f"pods/{stranger.id}/delete")
    with pytest.raises(sj.DeploymentGoneError, match="nothing was adopted"):
        sj.adopt("brief")
    assert session.store.records(live_only=False) == []


def test_one_failed_answer_does_not_end_the_questions(
    shell, capsys, session, control, elsewhere, monkeypatch, pods
):
    first = elsewhere("runpod", "first")
    second = elsewhere("runpod", "second")
    control.enable_fault("server-error", method="DELETE", path="/v2/pods/*")
    asked = answering(
        monkeypatch,
        {
            f"runpod:first (id {first.id}): [a]dopt": "d",
            f"Destroy runpod:first (id {first.id})?": "y",
            f"runpod:second (id {second.id}): [a]dopt": "a",
        },
    )
    out, err = run(shell, capsys, "%sindri status --all")
    assert err == "" and "Traceback" not in out
    assert f"runpod:first (id {first.id}) was left as it is: RunPod" in out
    assert f"Adopted runpod:second (id {second.id})" in out
    assert len(asked) == 3 and first.id in pods()


def test_no_answer_to_the_destroy_question_leaves_it_and_ends_the_questions(
    session, control, elsewhere, monkeypatch, capsys, pods
):
    stranger = elsewhere("runpod", "kept")
    answering(monkeypatch, {"[a]dopt, [d]estroy or [s]kip": "d"})  # then EOF
    assert cli.main(["status", "--all"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert f"Left runpod:kept (id {stranger.id}) as it is: `sindri-jupyter " in out
    assert "--yes" not in out and stranger.id in pods()


def test_using_a_stranger_by_name_adopts_it_and_says_so(
    shell, capsys, session, control, elsewhere
):
    stranger = elsewhere("runpod", "used")
    out, err = run(shell, capsys, "%sindri stop used")
    assert err == ""
    assert f"Adopted runpod:used (id {stranger.id}): it carries this library's tag" in (
        out
    )
    assert [r.remote_id for r in session.store.records()] == [stranger.id]


def test_ssh_config_leaves_strangers_out_and_never_repeats_an_alias(
    session, control, made_elsewhere, tmp_path, monkeypatch
):
    from sindri_jupyter import _ssh_config

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    one = sj.deploy("runpod", gpu="L40", name="same")
    two = made_elsewhere("same")
    sj.deploy("runpod", gpu="L40", name="other")
    listed = [d.model_copy(update={"state": State.READY}) for d in sj.status()]
    for d in listed:
        d.connection = d.connection or sj.Connection()
        d.connection.ssh_direct = d.connection.ssh_direct or "ssh root@192.0.2.1 -p 22"
    blocks = _ssh_config.blocks_for(listed)
    assert two not in {b.id for b in blocks}
    sj.adopt(two)
    listed = [d.model_copy(update={"in_store": True}) for d in listed]
    aliases = [b.alias for b in _ssh_config.blocks_for(listed)]
    assert len(aliases) == len(set(aliases)) == 3
    assert {f"runpod-same-{one.id}", f"runpod-same-{two}", "other"} == set(aliases)


@pytest.mark.parametrize("target", ["a/b", "x" * 3000, "new\nline", "../pods"])
def test_adopting_what_cannot_be_a_pod_id_sends_nothing(session, control, target):
    sj.status()  # the list a name lookup needs, read beforehand
    control.clear_requests()
    with pytest.raises(sj.UnknownDeploymentError):
        sj.adopt(target)
    assert [r for r in control.requests() if r["path"] != "/v2/pods"] == []
