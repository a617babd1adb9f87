"""Secrets never show: not whole, not in pieces."""

from __future__ import annotations

import logging

from sindri_jupyter import _redact
from tests.conftest import fake_runpod_key


def pieces(secret: str, size: int = 6) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def test_a_registered_secret_is_masked_whole_and_in_pieces():
    secret = fake_runpod_key()
    _redact.register_secret(secret)
    text = f"detail: got {secret} and a cut copy {secret[5:17]} end"
    masked = _redact.mask(text)
    assert not any(piece in masked for piece in pieces(secret))
    assert masked.startswith("detail: got ")
    assert masked.endswith(" end")


def test_bearer_values_are_masked_even_unregistered():
    assert "abcdef123" not in _redact.mask("Authorization: Bearer abcdef123456")


def test_log_records_are_masked(caplog):
    secret = fake_runpod_key()
    _redact.register_secret(secret)
    with caplog.at_level(logging.DEBUG, logger="sindri_jupyter"):
        logging.getLogger("sindri_jupyter").debug("sending %s", secret)
    assert caplog.records
    assert not any(p in caplog.text for p in pieces(secret))


def test_secret_looking_env_keys_are_masked():
    shown = _redact.masked_env({"HF_TOKEN": "x" * 10, "BATCH": "32"})
    assert shown == {"HF_TOKEN": _redact.MASK, "BATCH": "32"}
