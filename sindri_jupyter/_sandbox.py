"""The sandbox: the built-in provider emulators, run as background processes.

Each emulator runs in its own process so it outlives a kernel restart; where it
listens, and the key it accepts, live in a file readable only by the user under
the data directory. Every kernel of the user finds the same emulator there.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from ._config import Endpoint, data_dir
from ._errors import SindriError
from ._redact import register_secret

logger = logging.getLogger("sindri_jupyter")

EMULATED = ("runpod", "northflank")
SEEDED_EPOCH = "2026-06-01T12:00:00Z"
_START_TIMEOUT = 20.0


def sandbox_dir() -> Path:
    path = data_dir() / "sandbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _state_file(provider: str) -> Path:
    return sandbox_dir() / f"{provider}-emulator.json"


def _healthy(base_url: str, pid: int | None = None) -> bool:
    try:
        reply = httpx.get(f"{base_url}/_emulator/health", timeout=2.0)
        body = reply.json()
    except (httpx.HTTPError, ValueError):
        return False
    return bool(body.get("ok")) and (pid is None or body.get("pid") == pid)


def _read_state(provider: str) -> dict[str, Any] | None:
    try:
        return json.loads(_state_file(provider).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def running(provider: str) -> Endpoint | None:
    """The emulator this user already runs for ``provider``, if it answers."""
    state = _read_state(provider)
    if not state:
        return None
    base_url = f"http://127.0.0.1:{state['port']}"
    if not _healthy(base_url, state.get("pid")):
        return None
    register_secret(state["key"])
    return Endpoint(provider, base_url, state["key"], sandbox=True)


def ensure(
    provider: str, *, seed: int | None = None, speed: float | None = None
) -> Endpoint:
    """The user's emulator for ``provider``, started in the background if needed."""
    if provider not in EMULATED:
        raise SindriError(f"There is no sandbox emulator for {provider}.")
    found = running(provider)
    if found:
        return found
    # A fixed key may be given (tests use one shaped like a real key to prove it
    # never shows); otherwise each sandbox gets its own random one.
    key = os.environ.get("SINDRI_JUPYTER_SANDBOX_KEY") or secrets.token_urlsafe(24)
    register_secret(key)
    folder = sandbox_dir()
    port_file = folder / f"{provider}-emulator.port"
    port_file.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "sindri_jupyter.emulators", provider,
        "--port", "0", "--port-file", str(port_file),
    ]  # fmt: skip
    if seed is not None:
        # A seed fixes ids and addresses, and the clock's start, so that a
        # notebook run twice shows the same times too.
        command += ["--seed", str(seed), "--epoch", SEEDED_EPOCH]
    if speed is not None:
        command += ["--speed", str(speed)]
    environment = {**os.environ, "SINDRI_EMULATOR_API_KEYS": key}
    log = open(folder / f"{provider}-emulator.log", "ab")  # noqa: SIM115 - child keeps it
    process = subprocess.Popen(
        command,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SindriError(
                f"The {provider} emulator exited at start; see {folder}/"
                f"{provider}-emulator.log."
            )
        if port_file.exists() and port_file.read_text().strip():
            port = int(port_file.read_text().strip())
            base_url = f"http://127.0.0.1:{port}"
            if _healthy(base_url):
                _write_state(provider, {"port": port, "pid": process.pid, "key": key})
                logger.info("started the %s emulator at %s", provider, base_url)
                return Endpoint(provider, base_url, key, sandbox=True)
        time.sleep(0.05)
    process.terminate()
    raise SindriError(
        f"The {provider} emulator did not start within {_START_TIMEOUT:g} s."
    )


def _write_state(provider: str, state: dict[str, Any]) -> None:
    target = _state_file(provider)
    temporary = target.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    os.replace(temporary, target)


def stop(provider: str) -> bool:
    """Stop the user's emulator for ``provider``; False where none was running."""
    state = _read_state(provider)
    _state_file(provider).unlink(missing_ok=True)
    if not state:
        return False
    base_url = f"http://127.0.0.1:{state['port']}"
    if not _healthy(base_url, state.get("pid")):
        return False
    try:
        os.kill(state["pid"], signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def control(endpoint: Endpoint, method: str, path: str, body: Any = None) -> Any:
    """Call the emulator's control surface (clock, faults, reset)."""
    reply = httpx.request(
        method, f"{endpoint.base_url}/_emulator/{path}", json=body, timeout=10.0
    )
    if reply.is_error:
        raise SindriError(
            f"The {endpoint.provider} emulator refused: {reply.text[:200]}"
        )
    return reply.json() if reply.content else None
