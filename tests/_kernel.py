"""Cells run in a real kernel (nbclient), with the RunPod sandbox on."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient


def run_in_kernel(
    cells: list[str], folder, monkeypatch, key: str
) -> nbformat.NotebookNode:
    """The notebook of ``cells`` after a kernel ran them in ``folder``.

    The sandbox's key is ``key``; its RunPod emulator is stopped afterwards.
    """
    monkeypatch.setenv("SINDRI_JUPYTER_SANDBOX", "1")
    monkeypatch.setenv("SINDRI_JUPYTER_SANDBOX_KEY", key)
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells]
    )
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    try:
        client.execute()
    finally:
        from sindri_jupyter import _sandbox

        _sandbox.stop("runpod")
    return notebook


def pieces(secret: str) -> set[str]:
    """Every 6-character piece of a secret: any one of them in output is a leak."""
    return {secret[i : i + 6] for i in range(len(secret) - 5)}
