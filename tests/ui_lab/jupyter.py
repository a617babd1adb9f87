"""Start a real Jupyter server (or JupyterLab) with the Sindri extension, in the sandbox.

The server runs in its own process with its own data, config and runtime folders,
so it shares nothing with the user's Jupyter or with other tests. Its sandbox
emulators are started by the server on first use and stopped, by process id, when
the server is.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

EXTENSIONS = "{'sindri_jupyter._server': True}"
REPOSITORY = Path(__file__).resolve().parents[2]
BUILT_LABEXTENSION = REPOSITORY / "sindri_jupyter" / "labextension"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    url: str
    token: str
    data_dir: Path
    process: subprocess.Popen
    log_path: Path

    def api(self, path: str) -> str:
        return f"{self.url}/sindri-jupyter/api/{path.lstrip('/')}"

    def emulator(self, provider: str) -> str | None:
        """The base URL of the server's sandbox emulator, once it was started."""
        state = self.data_dir / "sandbox" / f"{provider}-emulator.json"
        try:
            return f"http://127.0.0.1:{json.loads(state.read_text())['port']}"
        except (OSError, ValueError, KeyError):
            return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        for state in (self.data_dir / "sandbox").glob("*-emulator.json"):
            try:
                os.kill(json.loads(state.read_text())["pid"], signal.SIGTERM)
            except (OSError, ValueError, KeyError):
                pass


def start(
    folder: Path,
    *,
    lab: bool = False,
    token: str = "",
    sandbox_key: str | None = None,
    extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> RunningServer:
    """A Jupyter server (``lab=True``: JupyterLab) on a free port, ready to answer."""
    port = free_port()
    data_dir = folder / "sindri-data"
    root = folder / "root"
    for path in (data_dir, root, folder / "config", folder / "runtime"):
        path.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "SINDRI_JUPYTER_SANDBOX": "1",
        "SINDRI_JUPYTER_DATA_DIR": str(data_dir),
        "JUPYTER_CONFIG_DIR": str(folder / "config"),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
    }
    environment.update(env or {})
    if sandbox_key:
        environment["SINDRI_JUPYTER_SANDBOX_KEY"] = sandbox_key
    module = "jupyterlab" if lab else "jupyter_server"
    command = [
        sys.executable, "-m", module, "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
        "--ServerApp.password=", "--allow-root", f"--ServerApp.root_dir={root}",
        f"--ServerApp.jpserver_extensions={EXTENSIONS}", *extra,
    ]  # fmt: skip
    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=root
        )
    server = RunningServer(
        f"http://127.0.0.1:{port}", token, data_dir, process, log_path
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Jupyter server exited at start:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/api/status", timeout=2).status_code in (
                200,
                403,
            ):
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"the Jupyter server did not start in 60 s:\n{server.log()}")
