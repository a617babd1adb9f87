"""Test setup: no real keys, no traffic beyond 127.0.0.1, a fresh store per test.

Every test that talks to a provider talks to an emulator over real HTTP (or to an
``httpx.MockTransport``).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import string

import pytest

REAL_KEYS = ("RUNPOD_API_KEY", "NORTHFLANK_API_TOKEN", "NF_API_TOKEN")

for _variable in REAL_KEYS:
    os.environ.pop(_variable, None)
os.environ["SINDRI_JUPYTER_LOOPBACK_ONLY"] = "1"
# Never touch the developer's real keyring from a test.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
os.environ.pop("SINDRI_JUPYTER_SANDBOX", None)

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _refuse_outside_loopback(address: object) -> None:
    if not isinstance(address, tuple):
        return  # unix sockets
    host = str(address[0])
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host.split("%")[0]).is_loopback:
            return
    except ValueError:
        pass
    raise ConnectionRefusedError(f"tests may not reach {host}: only 127.0.0.1")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _refuse_outside_loopback(address)
    return _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _refuse_outside_loopback(address)
    return _connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


def fake_runpod_key() -> str:
    """A random key shaped like a real RunPod key, new for each call."""
    alphabet = string.ascii_letters + string.digits
    return "rpa_" + "".join(secrets.choice(alphabet) for _ in range(40))


@pytest.fixture(autouse=True)
def fresh_data_dir(tmp_path, monkeypatch):
    """Each test gets its own store and sandbox folder."""
    folder = tmp_path / "sindri-data"
    monkeypatch.setenv("SINDRI_JUPYTER_DATA_DIR", str(folder))
    monkeypatch.setenv("SINDRI_JUPYTER_CONFIG_DIR", str(tmp_path / "sindri-config"))
    for variable in REAL_KEYS:
        monkeypatch.delenv(variable, raising=False)
    yield folder


@pytest.fixture
def runpod_key() -> str:
    return fake_runpod_key()


@pytest.fixture
def runpod_emulator(runpod_key):
    """An in-thread RunPod emulator with a fresh seed-fixed state."""
    from sindri_jupyter.emulators import serve

    server = serve("runpod", seed=7, api_keys=[runpod_key])
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def control(runpod_emulator):
    from sindri_jupyter.emulators import EmulatorControl

    with EmulatorControl(runpod_emulator.base_url) as client:
        yield client


@pytest.fixture
def session(runpod_emulator, runpod_key):
    """The process-wide session, pointed at this test's emulator."""
    from sindri_jupyter import _api
    from sindri_jupyter._config import Endpoint
    from sindri_jupyter._deploy import POLL_SANDBOX  # noqa: F401 - documents the pace
    from sindri_jupyter._engine import Session

    endpoint = Endpoint("runpod", runpod_emulator.base_url, runpod_key, sandbox=True)
    _api._session = Session(endpoints={"runpod": endpoint})
    _api._session.settings.ssh_key_path = "/nonexistent/id_ed25519.pub"
    yield _api._session
    _api._session = None


@pytest.fixture
def shell(session):
    """An IPython shell with the extension loaded, using this test's session."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "sindri_jupyter")
    yield ip
