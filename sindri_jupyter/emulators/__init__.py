"""Provider emulators: local HTTP servers that speak the providers' contracts.

They stand in for RunPod (and later Northflank) in tests, notebooks and the
offline sandbox. Start one in-process with `serve("runpod")`, or as a process
with `python -m sindri_jupyter.emulators runpod --port-file PATH`; steer it
with `EmulatorControl`. See docs/emulators.md.

Nothing here imports from the rest of `sindri_jupyter`: an emulator stands for
the provider, and the client must not be able to shape it.
"""

from ._base import DEFAULT_API_KEY, ProviderApp
from ._client import EmulatorControl, EmulatorControlError
from ._clock import VirtualClock
from ._faults import SERVER_FAULTS
from ._http import HttpError, Problem, Request, Response, Route
from ._serve import PROVIDERS, serve
from ._server import EmulatorServer

__all__ = [
    "DEFAULT_API_KEY",
    "PROVIDERS",
    "SERVER_FAULTS",
    "EmulatorControl",
    "EmulatorControlError",
    "EmulatorServer",
    "HttpError",
    "Problem",
    "ProviderApp",
    "Request",
    "Response",
    "Route",
    "VirtualClock",
    "serve",
]
