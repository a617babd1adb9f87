"""Checks on every user value, before anything is built or sent.

Each refusal is one sentence naming the option and the value at fault.
"""

from __future__ import annotations

import math
import re

from ._errors import InputError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,47}$")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_WORD = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
CLOUDS = ("SECURE", "COMMUNITY")
PORT_KINDS = ("http", "tcp")


def name(value: str, option: str = "--name") -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InputError(
            f"{option} {value!r} is not a usable name: use 1-48 letters, digits, "
            "spaces, dots, hyphens or underscores, starting with a letter or digit.",
            option=option,
            value=value,
        )
    return value


def ports(
    value: str | list[str] | tuple[str, ...], option: str = "--ports"
) -> tuple[str, ...]:
    """``"8888/http, 22/tcp"`` → ``("8888/http", "22/tcp")``."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple) and all(isinstance(i, str) for i in value):
        items = list(value)
    else:
        raise InputError(
            f"{option} takes text such as '8888/http, 22/tcp', not {value!r}.",
            option=option,
            value=value,
        )
    found: list[str] = []
    for raw in items:
        entry = raw.strip()
        if not entry:
            continue
        number, slash, kind = entry.partition("/")
        if (
            not slash
            or not (number.isascii() and number.isdigit())
            or not kind.isalpha()
        ):
            raise InputError(
                f"{option} entry {entry!r} is not <port>/<http|tcp>; separate "
                "several ports with commas.",
                option=option,
                value=entry,
            )
        if kind.lower() not in PORT_KINDS:
            raise InputError(
                f"{option} entry {entry!r} uses {kind!r}: only http and tcp ports "
                "can be exposed.",
                option=option,
                value=entry,
            )
        if not 1 <= int(number) <= 65535:
            raise InputError(
                f"{option} entry {entry!r} is out of range: ports are 1-65535.",
                option=option,
                value=entry,
            )
        port = f"{int(number)}/{kind.lower()}"
        if port not in found:
            found.append(port)
    if not found:
        raise InputError(
            f"{option} {value!r} names no port; leave {option} out for the defaults.",
            option=option,
            value=value,
        )
    return tuple(found)


def env_pair(value: str, option: str = "--env") -> tuple[str, str]:
    """``KEY=VALUE``, split on the first ``=`` only; the value is kept byte for byte."""
    if not isinstance(value, str):
        raise InputError(f"{option} takes KEY=VALUE text.", option=option)
    key, equals, rest = value.partition("=")
    if not equals:
        # Do not repeat what may be a secret typed with the wrong separator.
        shown = value if not _SECRET_WORD.search(value) else value[:3] + "…"
        raise InputError(
            f"{option} {shown!r} has no '=': write KEY=VALUE.",
            option=option,
            value=value,
        )
    if not _ENV_KEY.fullmatch(key):
        raise InputError(
            f"{option} key {key!r} is not a valid variable name (letters, digits and "
            "underscores, not starting with a digit).",
            option=option,
            value=key,
        )
    return key, rest


def env(
    values: dict[str, str] | list[str] | None, option: str = "--env"
) -> dict[str, str]:
    if not values:
        return {}
    pairs = values.items() if isinstance(values, dict) else map(env_pair, values)
    checked: dict[str, str] = {}
    for key, value in pairs:
        env_pair(f"{key}=", option)
        if not isinstance(value, str):
            raise InputError(
                f"{option} {key} must be text, not {type(value).__name__}.",
                option=option,
                value=key,
            )
        checked[key] = value
    return checked


def duration(value: str | float, option: str = "--timeout") -> float:
    """``90s``, ``30m``, ``3h``, ``1d`` or plain seconds."""
    if isinstance(value, bool):
        raise InputError(
            f"{option} takes a duration such as 90s, 30m or 3h.", option=option
        )
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value or "")
        if not match:
            raise InputError(
                f"{option} {value!r} is not a duration: use a number with s, m, h "
                "or d, such as 90s, 30m or 3h.",
                option=option,
                value=value,
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not math.isfinite(seconds) or seconds <= 0:
        raise InputError(
            f"{option} must be longer than zero.", option=option, value=value
        )
    return seconds


def count(value: int, option: str, *, low: int = 1, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(
            f"{option} must be a whole number.", option=option, value=value
        )
    if value < low or (high is not None and value > high):
        bound = f"{low}-{high}" if high is not None else f"at least {low}"
        raise InputError(
            f"{option} {value} is out of range: it must be {bound}.",
            option=option,
            value=value,
        )
    return value


def cloud(value: str | None, option: str = "--cloud") -> str | None:
    if value is None:
        return None
    upper = value.strip().upper() if isinstance(value, str) else None
    if upper not in CLOUDS:
        raise InputError(
            f"{option} {value!r} is not a cloud: use secure or community.",
            option=option,
            value=value,
        )
    return upper


def volume(value: int | None, option: str = "--volume") -> int | None:
    """Persistent volume size in GB: 0 means none, else at least 10 (RunPod's floor)."""
    if value is None or value == 0:
        return value
    return count(value, option, low=10, high=4096)


_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(g|gb|gib|m|mb|mib)?\s*$", re.IGNORECASE)


def memory(value: str | float | None, option: str = "--memory") -> int | None:
    """``8G``, ``512M`` or a bare number of GB, as whole megabytes."""
    if value is None:
        return None
    match = _MEMORY.match(str(value))
    if not match or float(match.group(1)) <= 0:
        raise InputError(
            f"{option} {value!r} is not a size: use e.g. 8G, 512M, or a number of GB.",
            option=option,
            value=value,
        )
    unit = (match.group(2) or "g").lower()
    megabytes = float(match.group(1)) * (1 if unit.startswith("m") else 1024)
    return max(1, round(megabytes))


def cpu(value: str | float | None, option: str = "--cpu") -> float | None:
    """A number of vCPUs, e.g. 0.5 or 8."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if not 0 < number <= 256:
        raise InputError(
            f"{option} {value!r} is not a number of vCPUs (e.g. 0.5, 2, 8).",
            option=option,
            value=value,
        )
    return number


def text(value: object, option: str, *, allow_none: bool = True) -> str | None:
    """A text option from Python, where a front end cannot vouch for its type."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            f"{option} must be non-empty text, not {value!r}.", option=option
        )
    return value


def mount_path(value: object, option: str = "--volume-path") -> str:
    if not isinstance(value, str) or not value.startswith("/") or "\n" in value:
        raise InputError(
            f"{option} {value!r} must be an absolute path such as /workspace.",
            option=option,
            value=value,
        )
    return value
