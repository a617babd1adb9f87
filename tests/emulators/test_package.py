"""The emulators package's face and its independence from the client code."""

from __future__ import annotations

import ast
import types

from conftest import ROOT

from sindri_jupyter import emulators

PACKAGE = ROOT / "sindri_jupyter" / "emulators"
OWN_MODULES = [*PACKAGE.glob("_*.py"), *PACKAGE.glob("runpod/*.py")]


def test_all_is_complete():
    # Provider subpackages are reached by name, not re-exported.
    public = {
        name
        for name, value in vars(emulators).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(emulators.__all__) == public


def test_emulators_import_nothing_from_the_client():
    for path in OWN_MODULES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                named = node.module
            elif isinstance(node, ast.Import):
                named = " ".join(alias.name for alias in node.names)
            else:
                continue
            if "sindri_jupyter" in named:
                assert named.startswith("sindri_jupyter.emulators"), (path, named)
