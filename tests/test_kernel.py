"""Through a real kernel (nbclient): sync and async calls while its loop runs."""

from __future__ import annotations

import nbformat

from tests._kernel import pieces, run_in_kernel
from tests.conftest import fake_runpod_key


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
    notebook = run_in_kernel(
        [
            "%load_ext sindri_jupyter",
            "%sindri status",
            (
                "import sindri_jupyter as sj\n"
                "first = sj.deploy('runpod', gpu='L40', name='sync')\n"
                "print('sync', first.state.value)"
            ),
            (
                "second = await sj.adeploy('runpod', gpu='L40S', name='async')\n"
                "print('async', second.state.value)"
            ),
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
