"""Settings, and where each provider's API is: the real one or the sandbox."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ._errors import NotConfiguredError

RUNPOD_URL = "https://api.runpod.io"
NORTHFLANK_URL = "https://api.northflank.com"

# Environment variables, documented in docs/configuration.md.
ENV_DATA_DIR = "SINDRI_JUPYTER_DATA_DIR"
ENV_SANDBOX = "SINDRI_JUPYTER_SANDBOX"
ENV_LOOPBACK_ONLY = "SINDRI_JUPYTER_LOOPBACK_ONLY"
PROVIDER_KEY_ENV = {"runpod": "RUNPOD_API_KEY", "northflank": "NORTHFLANK_API_TOKEN"}
PROVIDER_URL = {"runpod": RUNPOD_URL, "northflank": NORTHFLANK_URL}
PROVIDERS = ("runpod", "northflank")

_TRUE = {"1", "true", "yes", "on"}


@dataclasses.dataclass
class Settings:
    """Defaults a user can change with ``%config Sindri.<name> = value``."""

    default_provider: str = "runpod"
    image: str = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404"
    cloud: str = "SECURE"
    disk_gb: int = 50
    volume_gb: int = 20
    ssh_key_path: str = "~/.ssh/id_ed25519.pub"
    timeout_seconds: float = 1200.0
    request_timeout_seconds: float = 30.0  # one HTTP call; waits are timeout_seconds
    sandbox: bool | None = None  # None: follow SINDRI_JUPYTER_SANDBOX
    northflank_project: str = "sindri"  # created on first use, then reused
    northflank_region: str | None = None  # None: the first that offers the GPU
    northflank_image: str = "quay.io/jupyter/pytorch-notebook:cuda12-2025-08-18"
    # Cost guards applied to every deploy unless its options say otherwise.
    max_hours: float | None = None
    max_cost: float | None = None
    stop_when_idle: str | None = None  # a duration, e.g. "30m"

    @property
    def sandbox_on(self) -> bool:
        if self.sandbox is not None:
            return self.sandbox
        return os.environ.get(ENV_SANDBOX, "").strip().lower() in _TRUE


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where one provider's API is, and the key to use there."""

    provider: str
    base_url: str
    api_key: str = dataclasses.field(repr=False)
    sandbox: bool


def data_dir() -> Path:
    """The user's data directory for the local store and the sandbox."""
    configured = os.environ.get(ENV_DATA_DIR)
    if configured:
        path = Path(configured).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("sindri-jupyter", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def api_key(provider: str) -> str | None:
    """The key from the environment, else the one ``%sindri login`` saved."""
    key = os.environ.get(PROVIDER_KEY_ENV[provider], "").strip()
    if key:
        return key
    from ._credentials import stored_key

    return stored_key(provider)


def real_endpoint(provider: str) -> Endpoint:
    """The provider's real API, with the user's key."""
    variable = PROVIDER_KEY_ENV[provider]
    key = api_key(provider)
    if not key:
        raise NotConfiguredError(
            f"No {provider} key is set: set {variable} or run `%sindri login "
            f"{provider}`, or try everything offline in the sandbox (`%sindri "
            "sandbox on`, or SINDRI_JUPYTER_SANDBOX=1)."
        )
    return Endpoint(provider, PROVIDER_URL[provider], key, sandbox=False)


def loopback_only() -> bool:
    return os.environ.get(ENV_LOOPBACK_ONLY, "").strip().lower() in _TRUE


def read_public_key(path: str) -> str | None:
    """The user's SSH public key, or None where the file is missing."""
    candidate = Path(path).expanduser()
    try:
        text = candidate.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None
