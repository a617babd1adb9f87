"""`%sindri` in a real IPython shell: quoting, expansion, one-line errors."""

from __future__ import annotations

import re

import pytest


def run(shell, capsys, line: str) -> tuple[str, str]:
    shell.run_cell(line)
    captured = capsys.readouterr()
    return captured.out, captured.err


def creates(control) -> list[dict]:
    return [
        r
        for r in control.requests()
        if r["method"] == "POST" and r["path"] == "/v2/pods"
    ]


def test_expected_failures_are_one_line_without_traceback(shell, capsys, control):
    out, err = run(
        shell, capsys, '%sindri deploy runpod --gpu "NVIDIA RTX 4090" --name x'
    )
    assert "Traceback" not in out + err
    assert err.strip().startswith("UsageError:")
    assert len(err.strip().splitlines()) == 1
    assert "'NVIDIA RTX 4090'" in err and "NVIDIA GeForce RTX 4090" in err
    assert creates(control) == []


def test_an_unbalanced_quote_gives_a_usage_line(shell, capsys, control):
    out, err = run(shell, capsys, "%sindri deploy runpod --gpu 'NVIDIA A100 80GB PCIe")
    assert "Traceback" not in out + err
    assert "close every quote" in err
    assert control.requests() == []


@pytest.mark.parametrize(
    "option",
    ["--gpu \"NVIDIA L40\" --name 'my pod'", '--gpu="NVIDIA L40" --name=my-pod'],
)
def test_quoted_values_reach_the_request(shell, capsys, control, option):
    out, err = run(shell, capsys, f"%sindri deploy runpod {option} --no-wait")
    assert err == ""
    [create] = creates(control)
    assert create["body"]["gpu"]["id"] == "NVIDIA L40"
    assert create["body"]["env"]["SINDRI_NAME"] in ("my pod", "my-pod")


def test_dollar_and_braces_follow_ipython_expansion(shell, capsys, control):
    shell.user_ns["run_name"] = "from-var"
    line = (
        "%sindri deploy runpod --gpu L40 --name {run_name} --no-wait "
        "--env 'P=a$$b' --env DSN='postgres://u@h/db?sslmode=require' "
        "--env 'Q=say \"x\" \\ done'"
    )
    out, err = run(shell, capsys, line)
    assert err == ""
    [create] = creates(control)
    env = create["body"]["env"]
    assert env["SINDRI_NAME"] == "from-var"
    assert env["P"] == "a$b"
    assert env["DSN"] == "postgres://u@h/db?sslmode=require"
    assert env["Q"] == 'say "x" \\ done'


def test_env_without_equals_is_refused_naming_it(shell, capsys, control):
    out, err = run(shell, capsys, "%sindri deploy runpod --gpu L40 --env NOEQUALS")
    assert "--env 'NOEQUALS'" in err and "Traceback" not in err
    assert control.requests() == []


def test_bad_ports_are_refused_with_the_reason(shell, capsys, control):
    for ports, reason in (
        ("22/udp", "only http and tcp"),
        ("70000/tcp", "out of range"),
        ("8888/http;22/tcp", "separate several ports with commas"),
    ):
        out, err = run(
            shell, capsys, f"%sindri deploy runpod --gpu L40 --ports '{ports}'"
        )
        assert reason in err and ports.split(";")[0] in err
    assert control.requests() == []


def test_a_stopped_pod_prints_no_host_or_port(shell, capsys, control):
    run(shell, capsys, "%sindri deploy runpod --gpu L40 --name t")
    out, _ = run(shell, capsys, "%sindri connect t")
    host, port = re.search(r"ssh root@(\S+) -p (\d+)", out).groups()
    run(shell, capsys, "%sindri stop t")
    out, err = run(shell, capsys, "%sindri connect t")
    assert "stopped" in err
    assert host not in out + err and port not in out + err


def test_ambiguous_names_list_the_candidates_and_ids_still_work(
    shell, capsys, session, control, runpod_key
):
    import httpx

    run(shell, capsys, "%sindri deploy runpod --gpu L40 --name twin --no-wait")
    # A second pod with the same name and our tag, started "from another machine".
    body = {
        "name": "sindri-twin-abcdef",
        "imageName": None,
    }
    body = {
        "name": "sindri-twin-abcdef",
        "image": "runpod/base:latest",
        "gpu": {"id": "NVIDIA L40", "count": 1},
        "env": {"SINDRI_LAUNCH_ID": "f" * 32, "SINDRI_NAME": "twin"},
    }
    other = httpx.post(
        f"{control.base_url}/v2/pods",
        json=body,
        headers={"Authorization": f"Bearer {runpod_key}"},
    ).json()
    run(shell, capsys, "%sindri status")
    out, err = run(shell, capsys, "%sindri stop twin")
    assert "2 live deployments are called 'twin'" in err
    assert other["id"] in err
    out, err = run(shell, capsys, f"%sindri stop {other['id']}")
    assert err == "" and other["id"] in out


def test_help_explains_every_subcommand(shell, capsys):
    out, _ = run(shell, capsys, "%sindri help")
    for name in ("deploy", "status", "connect", "stop", "start", "destroy", "sandbox"):
        assert name in out
    out, _ = run(shell, capsys, "%sindri help deploy")
    assert "--gpu" in out and "--timeout" in out


def test_doubled_braces_are_literal_and_a_bad_expression_is_one_line(
    shell, capsys, control
):
    out, err = run(
        shell,
        capsys,
        "%sindri deploy runpod --gpu L40 --name b --no-wait --env 'J={{}}'",
    )
    assert err == ""
    assert creates(control)[0]["body"]["env"]["J"] == "{}"
    out, err = run(
        shell, capsys, "%sindri deploy runpod --gpu L40 --name {no_such_name}"
    )
    assert "Cannot expand the line" in err and "NameError" in err
    assert "Traceback" not in err
    assert len(creates(control)) == 1
