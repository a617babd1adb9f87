"""Keep secrets out of everything a person can read.

Keys travel only in request headers. Anything that turns a provider's answer or
our own state into text (error messages, log records, displays) goes through
:func:`mask` first. Masking removes every registered secret and every piece of
one six characters or longer, so a key cut in half by an excerpt still never
shows.
"""

from __future__ import annotations

import logging
import re
import threading

logger = logging.getLogger("sindri_jupyter")

MASK = "•••"
_PIECE = 6
_lock = threading.Lock()
_pieces: set[str] = set()
_secrets: set[str] = set()

# Shapes of credentials that must go even when they were never registered here.
# A shell variable's name after "Bearer" (the watchdog's script) is no key.
_SHELL_VARIABLE = r"(?!\$\{?[A-Z_][A-Z0-9_]*\}?(?:[\s\"'\\]|$))"
_SHAPES = re.compile(
    rf"(?i)(bearer\s+){_SHELL_VARIABLE}[^\s\"'<>,;]+"
    r"|\brpa_[A-Za-z0-9]{8,}|\bnf-[A-Za-z0-9_-]{16,}"
)
_SECRET_ENV_KEY = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)")


def register_secret(value: str | None) -> None:
    """Remember a secret so that :func:`mask` removes it, and its pieces, anywhere."""
    if not value or len(value) < _PIECE:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        for start in range(len(value) - _PIECE + 1):
            _pieces.add(value[start : start + _PIECE])


def mask(text: str | None) -> str:
    """Return ``text`` with every known secret, or piece of one, replaced."""
    if not text:
        return text or ""
    text = _SHAPES.sub(lambda m: (m.group(1) or "") + MASK, text)
    with _lock:
        pieces = _pieces
        if not pieces:
            return text
        hidden = [False] * len(text)
        for start in range(len(text) - _PIECE + 1):
            if text[start : start + _PIECE] in pieces:
                for index in range(start, start + _PIECE):
                    hidden[index] = True
    if not any(hidden):
        return text
    out: list[str] = []
    for index, char in enumerate(text):
        if not hidden[index]:
            out.append(char)
        elif index == 0 or not hidden[index - 1]:
            out.append(MASK)
    return "".join(out)


def excerpt(text: str | None, limit: int = 160) -> str:
    """A short, single-line, masked excerpt of a response body."""
    flat = " ".join(mask(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def is_secret_env_key(key: str) -> bool:
    """Env keys that look like they hold a secret are masked wherever shown."""
    return bool(_SECRET_ENV_KEY.search(key))


def masked_env(env: dict[str, str]) -> dict[str, str]:
    return {k: (MASK if is_secret_env_key(k) else v) for k, v in env.items()}


class RedactingFilter(logging.Filter):
    """A logging filter that masks the message and arguments of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # malformed arguments: keep the text
            message = str(record.msg)
        record.msg = mask(message)
        record.args = None
        return True


_filter = RedactingFilter()
if _filter not in logger.filters:
    logger.addFilter(_filter)
