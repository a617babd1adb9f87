"""`serve()`: start a provider emulator in a background thread of this process."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from ._base import DEFAULT_API_KEY, ProviderApp
from ._clock import VirtualClock
from ._server import EmulatorServer

# Provider name -> "module:class". Imported on demand so that serving one
# provider never loads another's code or contract.
PROVIDERS: dict[str, str] = {
    "runpod": "sindri_jupyter.emulators.runpod:RunPodApp",
    "northflank": "sindri_jupyter.emulators.northflank:NorthflankApp",
}


def provider_app_class(provider: str) -> type[ProviderApp]:
    try:
        module_name, _, class_name = PROVIDERS[provider].partition(":")
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown provider {provider!r}; known: {known}") from None
    return getattr(importlib.import_module(module_name), class_name)


def make_clock(clock: VirtualClock | Mapping[str, Any] | str | None) -> VirtualClock:
    """Accept a clock, a mapping of its settings, or just a mode name."""
    if isinstance(clock, VirtualClock):
        return clock
    if isinstance(clock, str):
        return VirtualClock(mode=clock)
    return VirtualClock(**dict(clock or {}))


def serve(
    provider: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int | None = None,
    api_keys: Iterable[str] = (DEFAULT_API_KEY,),
    clock: VirtualClock | Mapping[str, Any] | str | None = None,
    **options: Any,
) -> EmulatorServer:
    """Start `provider`'s emulator on loopback and return the running server.

    `port=0` picks a free port (read it from `.base_url`). `options` go to the
    provider app (for RunPod e.g. `provisioning_seconds`). Use the result as a
    context manager, or call `.close()`.
    """
    app_class = provider_app_class(provider)
    app = app_class(clock=make_clock(clock), seed=seed, api_keys=api_keys, **options)
    return EmulatorServer(app, host=host, port=port).start()
