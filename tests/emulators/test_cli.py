"""The command line: port file, keys from the environment, clean SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
from conftest import ROOT


def wait_for_port(port_file, process, timeout=10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        if port_file.exists():
            return int(port_file.read_text())
        time.sleep(0.05)
    raise AssertionError("the emulator wrote no port file")


def test_cli_serves_until_sigterm(tmp_path):
    port_file = tmp_path / "runpod.port"
    environment = {**os.environ, "SINDRI_EMULATOR_API_KEYS": "one, two"}
    environment["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "sindri_jupyter.emulators", "runpod",
               "--port", "0", "--seed", "4", "--port-file", str(port_file)]  # fmt: skip
    process = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        port = wait_for_port(port_file, process)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/_emulator/health").json()["provider"] == "runpod"
        for key, status in (("one", 200), ("two", 200), ("three", 401)):
            headers = {"Authorization": f"Bearer {key}"}
            assert httpx.get(f"{base}/v2/pods", headers=headers).status_code == status
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert not port_file.exists()
    finally:
        if process.poll() is None:
            process.kill()
