"""A key shaped like a real one never shows, even when the provider echoes it."""

from __future__ import annotations

import logging
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import sindri_jupyter as sj
from sindri_jupyter._errors import SindriError

QUICKSTART = Path(__file__).parent.parent / "notebooks" / "quickstart.ipynb"


def pieces(secret: str) -> set[str]:
    return {secret[i : i + 6] for i in range(len(secret) - 5)}


def leaked(secret: str, text: str) -> list[str]:
    return sorted(piece for piece in pieces(secret) if piece in text)


@pytest.mark.parametrize("fault", ["echo-auth", "html-502"])
def test_echoed_keys_stay_out_of_errors_logs_and_urls(
    session, control, runpod_key, caplog, shell, capsys, fault
):
    caplog.set_level(logging.DEBUG)
    control.enable_fault(fault, method="POST", path="/v2/pods")
    if fault == "echo-auth":
        control.enable_fault("capacity", method="POST", path="/v2/pods")
    with pytest.raises(SindriError) as caught:
        sj.deploy("runpod", gpu="L40", name="t")
    shell.run_cell("%sindri deploy runpod --gpu L40 --name u")
    rendered = capsys.readouterr()
    journal = control.requests()
    urls = " ".join(r["path"] + str(r.get("query") or "") for r in journal)
    assert any(r["status"] in (400, 502) for r in journal)  # the fault really fired
    assert leaked(runpod_key, str(caught.value)) == []
    assert leaked(runpod_key, rendered.out + rendered.err) == []
    assert "UsageError" in rendered.err
    assert leaked(runpod_key, caplog.text) == []
    assert leaked(runpod_key, urls) == []


def test_the_saved_quickstart_holds_no_piece_of_the_key(
    tmp_path, monkeypatch, runpod_key
):
    monkeypatch.setenv("SINDRI_JUPYTER_SANDBOX_KEY", runpod_key)
    notebook = nbformat.read(QUICKSTART, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )  # fmt: skip
    client.execute()
    saved = tmp_path / "quickstart.ipynb"
    nbformat.write(notebook, saved)
    text = saved.read_text(encoding="utf-8")
    assert "Destroyed runpod:trainer" in text  # the tour really ran
    assert leaked(runpod_key, text) == []
