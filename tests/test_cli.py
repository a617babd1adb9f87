"""`sindri-jupyter`: the magics' verbs in a terminal, against the RunPod emulator."""

from __future__ import annotations

import json

import pytest

from sindri_jupyter import cli
from sindri_jupyter._commands import BUILDERS


def creates(control) -> list[dict]:
    return [
        r["body"]
        for r in control.requests()
        if r["method"] == "POST" and r["path"] == "/v2/pods"
    ]


def normalised(body: dict) -> dict:
    """A create body without what each deploy generates anew."""
    body = json.loads(json.dumps(body))
    launch = body["env"].pop("SINDRI_LAUNCH_ID")
    assert body["name"].endswith(launch[:6])
    body["name"] = body["name"][: -len(launch[:6])]
    body["env"].pop("JUPYTER_PASSWORD")
    return body


@pytest.mark.parametrize(
    "words",
    [
        ["deploy", "runpod", "--gpu", "L40", "--name", "same", "--no-wait"],
        [
            "deploy", "runpod", "--gpu", "NVIDIA L40", "--name", "same", "--count",
            "2", "--disk", "30", "--volume", "0", "--ports", "8888/http,22/tcp",
            "--env", "A=1", "--cloud", "community", "--no-wait",
        ],
    ],
)  # fmt: skip
def test_the_cli_and_the_magic_send_identical_requests(shell, control, capsys, words):
    import shlex

    assert cli.main(words) == cli.EXIT_OK
    assert cli.main(["destroy", "same", "--yes"]) == cli.EXIT_OK
    shell.run_line_magic("sindri", shlex.join(words))
    first, second = creates(control)
    assert normalised(first) == normalised(second)


def test_the_same_sindri_yaml_gives_the_same_request(shell, control, tmp_path):
    path = tmp_path / "sindri.yaml"
    path.write_text(
        'version: "3.0"\nname: fromfile\ndeployment: {provider: runpod}\n'
        "providers:\n  runpod: {gpuTypeId: NVIDIA L40, containerDiskGb: 33}\n"
    )
    assert cli.main(["deploy", "--config", str(path), "--no-wait"]) == 0
    assert cli.main(["destroy", "fromfile", "--yes"]) == 0
    shell.run_line_magic("sindri", f"deploy --config {path} --no-wait")
    first, second = creates(control)
    assert normalised(first) == normalised(second)
    assert first["disk"] == 33


def test_the_whole_tour_runs_in_a_terminal(session, control, capsys):
    tour = [
        ["gpus", "runpod"],
        ["deploy", "runpod", "--gpu", "a100-sxm", "--name", "trainer"],
        ["status"],
        ["connect", "trainer"],
        ["stop", "trainer"],
        ["start", "trainer"],
        *([["cost"]] if "cost" in BUILDERS else []),  # where the verb exists
        ["destroy", "trainer", "--yes"],
    ]
    for words in tour:
        assert cli.main(words) == cli.EXIT_OK, words
        out = capsys.readouterr().out
        assert "<table" not in out and "{'text/html'" not in out
    assert len(creates(control)) == 1


def test_json_output_parses_and_masks_secrets(session, control, capsys):
    assert cli.main(["--json", "deploy", "runpod", "--gpu", "L40", "--name", "j"]) == 0
    deployed = json.loads(capsys.readouterr().out)
    assert deployed["name"] == "j" and deployed["state"] == "ready"
    assert cli.main(["connect", "j", "--json"]) == 0
    shown = capsys.readouterr().out
    password = creates(control)[0]["env"]["JUPYTER_PASSWORD"]
    assert password not in shown and "token=•••" in shown
    assert cli.main(["--json", "status"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["name"] == "j"


def test_exit_codes_for_usage_provider_and_timeout(
    session, control, capsys, runpod_key
):
    assert cli.main(["deploy", "runpod", "--gpu", "L40", "--count", "x"]) == 2
    assert "sindri-jupyter deploy" in capsys.readouterr().err
    assert cli.main(["frobnicate"]) == cli.EXIT_USAGE
    assert control.requests() == []
    words = ["deploy", "runpod", "--gpu", "L40", "--name", "slow", "--timeout", "0.01s"]
    assert cli.main(words) == cli.EXIT_TIMEOUT
    assert "destroy" in capsys.readouterr().err
    cli.main(["destroy", "slow", "--yes"])
    from sindri_jupyter._config import Endpoint

    wrong = Endpoint("runpod", session.endpoints["runpod"].base_url, "rpa_wrong", True)
    session.endpoints["runpod"] = wrong
    assert cli.main(["status", "runpod"]) == cli.EXIT_PROVIDER
    err = capsys.readouterr().err
    assert "refused the API key" in err and "rpa_wrong" not in err


def test_help_comes_from_the_magics_parsers(capsys):
    assert cli.main(["help", "deploy"]) == 0
    text = capsys.readouterr().out
    for action in BUILDERS["deploy"]()._actions:
        for flag in action.option_strings:
            assert flag in text
    assert "%sindri" not in text
    assert cli.main([]) == 0
    listing = capsys.readouterr().out
    for verb in [*BUILDERS, "emulator"]:
        if verb not in ("panel", "sandbox"):
            assert f"  {verb}" in listing


def test_notebook_only_verbs_are_refused_in_one_line(capsys):
    assert cli.main(["panel"]) == cli.EXIT_USAGE
    assert "emulator" in capsys.readouterr().err


def test_the_console_script_is_declared():
    import tomllib
    from pathlib import Path

    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    assert project["scripts"]["sindri-jupyter"] == "sindri_jupyter.cli:main"
    assert any(d.lower().startswith("pyyaml") for d in project["dependencies"])


def test_a_separate_process_reads_sandbox_from_the_environment(tmp_path):
    import os
    import subprocess
    import sys

    environment = {
        **os.environ,
        "SINDRI_JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "SINDRI_JUPYTER_SANDBOX": "1",
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "sindri_jupyter.cli", "emulator", "status", "--json"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert done.returncode == cli.EXIT_OK, done.stderr
    assert json.loads(done.stdout) == {"northflank": None, "runpod": None}
    done = subprocess.run(
        [sys.executable, "-m", "sindri_jupyter.cli", "status"],
        capture_output=True,
        text=True,
        env={**environment, "SINDRI_JUPYTER_SANDBOX": ""},
        check=False,
    )
    assert done.returncode == cli.EXIT_FAILED
    assert "RUNPOD_API_KEY" in done.stderr and "Traceback" not in done.stderr


def test_the_sandbox_flag_turns_the_sandbox_on(monkeypatch, capsys):
    from sindri_jupyter import _api
    from sindri_jupyter._engine import Session

    monkeypatch.setattr(_api, "_session", Session())
    assert cli.main(["--json", "emulator", "status", "--sandbox"]) == cli.EXIT_OK
    assert _api._session.settings.sandbox_on is True
    assert json.loads(capsys.readouterr().out) == {"northflank": None, "runpod": None}
