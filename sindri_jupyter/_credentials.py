"""Where API keys come from, and where ``%sindri login`` keeps them.

Order: the provider's environment variable; the system keyring where a real
backend exists; a file readable only by the user under the user's config
directory (used, and said plainly, where there is no keyring). Keys are
registered for masking as soon as they are read.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ._redact import register_secret

logger = logging.getLogger("sindri_jupyter")

SERVICE = "sindri-jupyter"
ENV_CONFIG_DIR = "SINDRI_JUPYTER_CONFIG_DIR"


def config_dir() -> Path:
    configured = os.environ.get(ENV_CONFIG_DIR)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("sindri-jupyter", appauthor=False))


def _file() -> Path:
    return config_dir() / "credentials.json"


def _keyring():
    """The system keyring, or None where only the 'fail' or a null backend exists."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - a broken keyring config means no keyring
        return None
    if isinstance(backend, fail.Keyring) or backend.priority <= 0:
        return None
    return keyring


def _read_file() -> dict[str, str]:
    try:
        return json.loads(_file().read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def stored_key(provider: str) -> str | None:
    """A key saved by ``login``, from the keyring or the private file."""
    keyring = _keyring()
    if keyring is not None:
        try:
            value = keyring.get_password(SERVICE, provider)
        except Exception:  # noqa: BLE001 - an unreadable keyring falls back to the file
            value = None
        if value:
            register_secret(value)
            return value
    value = _read_file().get(provider)
    if value:
        register_secret(value)
    return value or None


def save_key(provider: str, key: str) -> str:
    """Keep ``key`` for ``provider``; returns one sentence saying where."""
    register_secret(key)
    keyring = _keyring()
    if keyring is not None:
        keyring.set_password(SERVICE, provider, key)
        return f"Saved the {provider} key in the system keyring."
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = _read_file()
    saved[provider] = key
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(saved, handle)
    os.replace(temporary, path)
    return (
        f"No system keyring here: saved the {provider} key in {path}, readable "
        "only by you."
    )


def forget_key(provider: str) -> bool:
    """Remove a saved key; False where none was saved."""
    removed = False
    keyring = _keyring()
    if keyring is not None:
        try:
            keyring.delete_password(SERVICE, provider)
            removed = True
        except Exception:  # noqa: BLE001 - nothing stored there
            pass
    saved = _read_file()
    if saved.pop(provider, None) is not None:
        removed = True
        _file().write_text(json.dumps(saved), "utf-8")
    return removed
