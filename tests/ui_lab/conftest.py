"""The JupyterLab sidebar in a real browser: JupyterLab started here, in the sandbox.

Playwright drives Debian's Chromium (``/usr/bin/chromium``) and never downloads
a browser; without that binary the tests are skipped with the reason (CI
installs it, see ``.ci/run``). The sidebar must be built and installed
(``pip install -e .`` builds it); a missing build fails with how to fix it.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from .._browser import browser, lab_settings  # noqa: F401 - browser: a fixture
from ..conftest import fake_runpod_key
from . import jupyter

TOKEN = "sindri-lab-test-token"
SANDBOX_KEY = fake_runpod_key()
#: the sidebar's refresh interval in these tests (a JupyterLab setting)
REFRESH_SECONDS = 4


def _settings(folder: Path) -> Path:
    """JupyterLab user settings: no news toast, and a short sidebar refresh."""
    sidebar = {"refreshInterval": REFRESH_SECONDS, "defaultProvider": "runpod"}
    return lab_settings(folder, {"sindri-jupyter/plugin.jupyterlab-settings": sidebar})


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab with the sandbox on, its token set, on a free port."""
    folder = tmp_path_factory.mktemp("sindri-lab")
    env = {
        "JUPYTERLAB_SETTINGS_DIR": str(_settings(folder)),
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces"),
    }
    server = jupyter.start(
        folder, lab=True, token=TOKEN, sandbox_key=SANDBOX_KEY, env=env
    )
    try:
        listed = httpx.get(
            f"{server.url}/lab/api/settings/sindri-jupyter:plugin",
            headers={"Authorization": f"token {TOKEN}"},
            timeout=30,
        )
        if listed.status_code != 200:
            pytest.fail(
                "JupyterLab does not know the Sindri sidebar: build and install it "
                "with `pip install -e .` (it runs the labextension build)."
            )
        yield server
    finally:
        server.stop()
        assert SANDBOX_KEY not in server.log(), "the sandbox key reached the log"


@pytest.fixture
def context(browser):
    made = browser.new_context(viewport={"width": 1400, "height": 900})
    made.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def api(lab):
    with httpx.Client(
        headers={"Authorization": f"token {TOKEN}"}, timeout=60
    ) as client:
        yield client
