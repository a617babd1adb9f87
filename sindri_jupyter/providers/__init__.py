"""Provider modules, one per cloud, all of the same shape (see ``_base``)."""

from __future__ import annotations

import importlib
from typing import Any

from .._config import Endpoint
from ._base import Provider

_MODULES = {
    "runpod": ("runpod", "RunPod"),
    "northflank": ("northflank", "Northflank"),
}


def available() -> list[str]:
    """Providers this version can talk to, in display order."""
    return list(_MODULES)


def provider_class(name: str) -> type[Provider]:
    if name not in _MODULES:
        from .._errors import InputError

        raise InputError(
            f"Unknown provider {name!r}: use one of {', '.join(_MODULES)}.",
            option="provider",
            value=name,
        )
    module_name, class_name = _MODULES[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, class_name)


def create(name: str, endpoint: Endpoint, **options: Any) -> Provider:
    return provider_class(name)(endpoint, **options)
