"""Browser tests: JupyterLab started here, driven by headless Debian Chromium.

Playwright drives the system's Chromium (``/usr/bin/chromium``); it never
downloads a browser. Without that binary the tests are skipped with the reason;
CI installs it (``.ci/run``), so there they always run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from .._browser import browser, lab_settings  # noqa: F401 - browser: a fixture
from ..ui_lab.jupyter import free_port


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a free port, token off, rooted in a fresh folder."""
    root = tmp_path_factory.mktemp("lab")
    home = tmp_path_factory.mktemp("lab-home")
    settings = lab_settings(home)
    port = free_port()
    environment = {
        **os.environ,
        "SINDRI_JUPYTER_DATA_DIR": str(home / "sindri-data"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    log = open(home / "lab.log", "wb")  # noqa: SIM115 - the server writes to it
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--allow-root",
            f"--ServerApp.root_dir={root}",
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited at start; see {home / 'lab.log'}")
            try:
                if httpx.get(f"{url}/api/status", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("JupyterLab did not answer within 90 s")
            time.sleep(0.25)
        yield url, root, environment
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        _stop_sandbox(environment["SINDRI_JUPYTER_DATA_DIR"])


def _stop_sandbox(data_dir: str) -> None:
    """End the emulators the notebook's kernel started in its data folder."""
    from sindri_jupyter import _sandbox

    before = os.environ.get("SINDRI_JUPYTER_DATA_DIR")
    os.environ["SINDRI_JUPYTER_DATA_DIR"] = data_dir
    try:
        for provider in _sandbox.EMULATED:
            _sandbox.stop(provider)
    finally:
        if before is None:
            os.environ.pop("SINDRI_JUPYTER_DATA_DIR", None)
        else:
            os.environ["SINDRI_JUPYTER_DATA_DIR"] = before
