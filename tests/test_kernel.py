"""Through a real kernel (nbclient): sync and async calls while its loop runs."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from tests.conftest import fake_runpod_key


def pieces(secret: str) -> set[str]:
    return {secret[i : i + 6] for i in range(len(secret) - 5)}


def execute(cells: list[str], tmp_path, monkeypatch, key: str) -> nbformat.NotebookNode:
    monkeypatch.setenv("SINDRI_JUPYTER_SANDBOX", "1")
    monkeypatch.setenv("SINDRI_JUPYTER_SANDBOX_KEY", key)
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells]
    )
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute()
    finally:
        from sindri_jupyter import _sandbox

        _sandbox.stop("runpod")
    return notebook


def texts(notebook: nbformat.NotebookNode) -> list[str]:
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            found.append(output.get("text", ""))
            for value in (output.get("data") or {}).values():
                found.append(value if isinstance(value, str) else str(value))
    return found


def test_status_deploy_and_adeploy_work_in_a_running_kernel(tmp_path, monkeypatch):
    key = fake_runpod_key()
    notebook = execute(
        [
            "%load_ext sindri_jupyter",
            "%sindri status",
            "import sindri_jupyter as sj\n"
            "first = sj.deploy('runpod', gpu='L40', name='sync')\n"
            "print('sync', first.state.value)",
            "second = await sj.adeploy('runpod', gpu='L40S', name='async')\n"
            "print('async', second.state.value)",
            "import sys\nprint('nest_asyncio loaded:', 'nest_asyncio' in sys.modules)",
            "%sindri status",
        ],
        tmp_path,
        monkeypatch,
        key,
    )
    shown = "\n".join(texts(notebook))
    assert "No deployments." in shown
    assert "sync ready" in shown and "async ready" in shown
    assert "nest_asyncio loaded: False" in shown
    assert "2 of 2 billing compute" in shown
    assert not any(piece in shown for piece in pieces(key))
