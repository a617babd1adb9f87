"""The panel in a real kernel (nbclient): other cells stay theirs, the saved
notebook keeps names, states and $/h in text, and closing leaves no thread."""

from __future__ import annotations

import nbformat

from tests._kernel import pieces, run_in_kernel
from tests.conftest import fake_runpod_key

CELLS = [
    "%load_ext sindri_jupyter",
    "import sindri_jupyter as sj\npanel = sj.Panel()\npanel",
    (
        "panel.form.gpu.value = 'NVIDIA L40'\n"
        "panel.form.name.value = 'watched'\n"
        "panel.form.deploy.click()"
    ),
    "print('another cell, while the deploy runs')",
    "import time\ntime.sleep(0.3)\nprint('and one more')",
    "panel.wait()\nprint('deployed:', panel.row('watched').deployment.state.value)",
    "print('a cell after the deploy')",
    (
        "panel.close()\nimport threading\n"
        "print('panel threads:', [t.name for t in threading.enumerate() "
        "if t.name == 'sindri-panel'])"
    ),
]


def cell_text(cell: nbformat.NotebookNode) -> str:
    found = []
    for output in cell.get("outputs", []):
        found.append(output.get("text", ""))
        found.append((output.get("data") or {}).get("text/plain", ""))
    return "".join(found)


def test_the_panel_in_a_kernel_keeps_outputs_in_their_cells(tmp_path, monkeypatch):
    key = fake_runpod_key()
    notebook = run_in_kernel(CELLS, tmp_path, monkeypatch, key)
    cells = notebook.cells
    assert cell_text(cells[3]) == "another cell, while the deploy runs\n"
    assert cell_text(cells[4]) == "and one more\n"
    assert cell_text(cells[5]) == "deployed: ready\n"
    assert cell_text(cells[6]) == "a cell after the deploy\n"
    assert cell_text(cells[2]) == ""
    assert cell_text(cells[7]) == "panel threads: []\n"

    # Saved, then read back without a kernel: the panel's output is text too.
    path = tmp_path / "saved.ipynb"
    nbformat.write(notebook, path)
    saved = nbformat.read(path, as_version=4)
    (shown,) = saved.cells[1].outputs
    text, page = shown.data["text/plain"], shown.data["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in shown.data
    for expected in ("watched", "ready", "$0.99"):
        assert expected in text and expected in page

    whole = path.read_text()
    assert not any(piece in whole for piece in pieces(key))
