"""What the browser tests share: Debian's Chromium driven by Playwright.

Playwright drives the system's Chromium (``/usr/bin/chromium``) and never
downloads a browser; without that binary the tests are skipped with the reason
(CI installs it, see ``.ci/run``). Each browser package's ``conftest.py``
imports the ``browser`` fixture from here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: where the tests leave screenshots
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
#: JupyterLab's update check and news, off: their toast would cover the page
QUIET_NOTIFICATIONS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"{CHROMIUM} is absent: apt-get install -y chromium chromium-driver"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def lab_settings(folder: Path, more: dict[str, dict[str, Any]] | None = None) -> Path:
    """``folder/settings``, JupyterLab user settings: quiet, plus ``more`` files."""
    settings = folder / "settings"
    for name, values in {**QUIET_NOTIFICATIONS, **(more or {})}.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return settings
