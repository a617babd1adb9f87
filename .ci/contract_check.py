"""Run a shared contract checker against a freshly started emulator.

Usage: python .ci/contract_check.py runpod|northflank CHECKER [extra checker args]

Starts the emulator with the package's own CLI, runs the checker with --json, and
fails unless the checker reports 0 failed. For RunPod it also fails when the
checker saw a pod that never reached RUNNING.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def start(provider: str, key: str) -> tuple[subprocess.Popen, str]:
    port_file = Path(tempfile.mkdtemp()) / "port"
    process = subprocess.Popen(
        [sys.executable, "-m", "sindri_jupyter.emulators", provider,
         "--seed", "11", "--api-key", key, "--port-file", str(port_file)],
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return process, f"http://127.0.0.1:{port_file.read_text().strip()}"
        time.sleep(0.05)
    process.terminate()
    raise SystemExit(f"the {provider} emulator did not start")


def main() -> int:
    provider, checker, *extra = sys.argv[1:]
    key = secrets.token_urlsafe(24)
    process, base_url = start(provider, key)
    credential = "--api-key" if provider == "runpod" else "--token"
    try:
        result = subprocess.run(
            [sys.executable, checker, "--base-url", base_url, credential, key,
             "--json", *extra],
            capture_output=True, text=True, env={**os.environ},
        )  # fmt: skip
    finally:
        process.terminate()
        process.wait(10)
    sys.stderr.write(result.stderr)
    report = json.loads(result.stdout)
    for check in report.get("checks", []):
        if not check.get("ok"):
            print("FAIL", check.get("step"), check.get("reason"))
    notes = [str(n) for n in report.get("info", [])]
    for note in notes:
        print("INFO", note)
    print(f"{provider} contract: {report['passed']} passed, {report['failed']} failed")
    short_of_running = [n for n in notes if "not RUNNING after" in n]
    if short_of_running:
        print(f"{provider}: a pod was left short of RUNNING")
        return 1
    return 0 if report["failed"] == 0 and result.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
