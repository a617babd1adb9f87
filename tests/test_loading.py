"""`%load_ext sindri_jupyter` only registers; the heavy modules load on first use."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("httpx", "pydantic", "ipywidgets", "jsonschema")

PROBE = """
import json, sys
from IPython.testing.globalipapp import start_ipython
before = {m for m in %(heavy)r if m in sys.modules}
ip = start_ipython()
ip.run_line_magic("load_ext", "sindri_jupyter")
loaded = {m for m in %(heavy)r if m in sys.modules} - before
registered = "sindri" in ip.magics_manager.magics["line"]
ip.run_line_magic("sindri", "help")
after_help = {m for m in %(heavy)r if m in sys.modules} - before
print(json.dumps({"loaded": sorted(loaded), "registered": registered,
                  "after_help": sorted(after_help)}))
"""


def test_load_ext_registers_without_importing_the_core():
    result = subprocess.run(
        [sys.executable, "-c", PROBE % {"heavy": HEAVY}],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["registered"] is True
    assert report["loaded"] == []
    assert report["after_help"] == []


def test_the_public_names_are_all_reachable():
    import sindri_jupyter

    for name in sindri_jupyter.__all__:
        assert getattr(sindri_jupyter, name) is not None


def test_all_is_sorted_and_complete():
    import sindri_jupyter

    public = [n for n in sindri_jupyter.__all__ if not n.startswith("_")]
    assert public == sorted(public)
    assert set(sindri_jupyter.__all__) == set(sindri_jupyter._LAZY) | {
        "load_ipython_extension",
        "__version__",
    }
