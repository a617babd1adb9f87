"""sindri-jupyter: cloud GPUs (RunPod, Northflank) without leaving the notebook.

In a notebook::

    %load_ext sindri_jupyter
    %sindri sandbox on
    %sindri deploy runpod --gpu A100 --name trainer

In Python: ``sindri_jupyter.deploy("runpod", gpu="A100", name="trainer")``.

Importing this package is cheap: the provider core (httpx, pydantic) loads on
first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> module that defines it; loaded on first access.
_LAZY = {
    "ActionResult": "._api",
    "aadopt": "._api",
    "adopt": "._api",
    "adeploy": "._api",
    "adestroy": "._api",
    "apause": "._api",
    "astart": "._api",
    "astop": "._api",
    "pause": "._api",
    "agpus": "._api",
    "aconnect": "._api",
    "acost": "._api",
    "agpu_table": "._api",
    "cost": "._api",
    "gpu_table": "._api",
    "astatus": "._api",
    "connect": "._api",
    "deploy": "._api",
    "destroy": "._api",
    "gpus": "._api",
    "plan": "._api",
    "session": "._api",
    "start": "._api",
    "status": "._api",
    "stop": "._api",
    "Connection": "._models",
    "Deployment": "._models",
    "DeploySpec": "._models",
    "GpuOffer": "._models",
    "State": "._models",
    "AmbiguousGpuError": "._errors",
    "AmbiguousNameError": "._errors",
    "AuthenticationError": "._errors",
    "CapacityError": "._errors",
    "ConflictError": "._errors",
    "DeploymentGoneError": "._errors",
    "InputError": "._errors",
    "LimitReachedError": "._errors",
    "NotConfiguredError": "._errors",
    "NotFoundError": "._errors",
    "PaymentRequiredError": "._errors",
    "ProviderError": "._errors",
    "RateLimitedError": "._errors",
    "RequestRejectedError": "._errors",
    "SindriError": "._errors",
    "TransportError": "._errors",
    "UnknownDeploymentError": "._errors",
    "UnknownGpuError": "._errors",
    "UnsupportedError": "._errors",
    "WaitTimeoutError": "._errors",
    "Panel": "._panel",
}

__all__ = [
    "ActionResult",
    "AmbiguousGpuError",
    "AmbiguousNameError",
    "AuthenticationError",
    "CapacityError",
    "ConflictError",
    "Connection",
    "DeploySpec",
    "Deployment",
    "DeploymentGoneError",
    "GpuOffer",
    "InputError",
    "LimitReachedError",
    "NotConfiguredError",
    "NotFoundError",
    "Panel",
    "PaymentRequiredError",
    "ProviderError",
    "RateLimitedError",
    "RequestRejectedError",
    "SindriError",
    "State",
    "TransportError",
    "UnknownDeploymentError",
    "UnknownGpuError",
    "UnsupportedError",
    "WaitTimeoutError",
    "aadopt",
    "aconnect",
    "acost",
    "adeploy",
    "adestroy",
    "adopt",
    "agpu_table",
    "agpus",
    "apause",
    "astart",
    "astatus",
    "astop",
    "connect",
    "cost",
    "deploy",
    "destroy",
    "gpu_table",
    "gpus",
    "load_ipython_extension",
    "pause",
    "plan",
    "session",
    "start",
    "status",
    "stop",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sindri_jupyter' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext sindri_jupyter``: registers ``%sindri`` and nothing else."""
    from ._magics import Sindri

    ipython.register_magics(Sindri)
