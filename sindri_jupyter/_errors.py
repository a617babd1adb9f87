"""The one error tree of sindri-jupyter.

Every failure a user can expect is a :class:`SindriError`; front ends show its
message as one sentence (IPython's ``UsageError`` style). Anything else is a bug
and is allowed to show a traceback.

::

    SindriError
    ├── InputError                 bad user input; nothing was sent
    │   ├── UnknownGpuError
    │   ├── AmbiguousGpuError
    │   ├── UnknownDeploymentError
    │   ├── AmbiguousNameError
    │   └── LimitReachedError      a start past a cost guard's total
    ├── NotConfiguredError         no key and no sandbox
    ├── UnsupportedError           the provider cannot do what was asked
    ├── ProviderError              the provider refused or failed
    │   ├── AuthenticationError    401 / 403
    │   ├── PaymentRequiredError   402
    │   ├── NotFoundError          404
    │   ├── ConflictError          409
    │   ├── RequestRejectedError   400 / 422
    │   │   └── CapacityError      no machine for this GPU here and now
    │   ├── RateLimitedError       429
    │   └── TransportError         timeout, dropped connection, 5xx, bad body
    ├── DeploymentGoneError        the deployment no longer exists
    └── WaitTimeoutError           a wait ran past its bound; nothing was undone

Messages never hold a secret: they are built from masked excerpts only.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AmbiguousGpuError",
    "AmbiguousNameError",
    "AuthenticationError",
    "CapacityError",
    "ConflictError",
    "DeploymentGoneError",
    "InputError",
    "LimitReachedError",
    "NotConfiguredError",
    "NotFoundError",
    "PaymentRequiredError",
    "ProviderError",
    "RateLimitedError",
    "RequestRejectedError",
    "SindriError",
    "TransportError",
    "UnknownDeploymentError",
    "UnknownGpuError",
    "UnsupportedError",
    "WaitTimeoutError",
]


class SindriError(Exception):
    """Base of every error this library raises on purpose."""


class InputError(SindriError, ValueError):
    """A value the user gave cannot be used; nothing was sent."""

    def __init__(self, message: str, *, option: str | None = None, value: Any = None):
        super().__init__(message)
        self.option = option
        self.value = value


class UnknownGpuError(InputError):
    """No GPU type in the live catalog matches what the user asked for."""

    def __init__(self, message: str, *, value: str, nearest: list[str]):
        super().__init__(message, option="--gpu", value=value)
        self.nearest = nearest


class AmbiguousGpuError(InputError):
    """Several GPU types match; the user must pick one."""

    def __init__(self, message: str, *, value: str, candidates: list[Any]):
        super().__init__(message, option="--gpu", value=value)
        self.candidates = candidates


class UnknownDeploymentError(InputError):
    """No known deployment goes by that name or id."""


class AmbiguousNameError(InputError):
    """Several live deployments share the name; the user must use an id."""

    def __init__(self, message: str, *, value: str, candidates: list[Any]):
        super().__init__(message, option="name", value=value)
        self.candidates = candidates


class LimitReachedError(InputError):
    """A start refused: the deployment's total already reached a kernel limit.

    The kernel would stop it again at once; a higher ``--max-hours`` or
    ``--max-cost`` on ``start`` lets it go on.
    """

    def __init__(self, message: str, *, option: str, limit: float, total: float):
        super().__init__(message, option=option, value=limit)
        self.limit = limit
        self.total = total


class NotConfiguredError(SindriError):
    """No API key is set for the provider and the sandbox is off."""


class UnsupportedError(SindriError):
    """The provider cannot do this; the reason comes from its capability table."""

    def __init__(self, message: str, *, provider: str, feature: str):
        super().__init__(message)
        self.provider = provider
        self.feature = feature


class ProviderError(SindriError):
    """The provider answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        detail: str | None = None,
    ):
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.detail = detail


class AuthenticationError(ProviderError):
    """The key is missing, wrong, expired or lacks a permission."""


class PaymentRequiredError(ProviderError):
    """The account has no balance left for this."""


class NotFoundError(ProviderError):
    """The provider does not know the resource."""


class ConflictError(ProviderError):
    """The request does not fit the resource's current state."""


class RequestRejectedError(ProviderError):
    """The provider refused the request as invalid."""


class CapacityError(RequestRejectedError):
    """No machine is free for this GPU type in this place right now."""


class RateLimitedError(ProviderError):
    """The provider's request budget is spent for now."""

    def __init__(self, message: str, *, provider: str, retry_after: float | None):
        super().__init__(message, provider=provider, status=429)
        self.retry_after = retry_after


class TransportError(ProviderError):
    """No usable answer: a timeout, a dropped connection, a 5xx or a bad body.

    After such an error the outcome of the request is unknown: a create may or may
    not have taken effect.
    """


class DeploymentGoneError(SindriError):
    """The deployment was deleted, here or elsewhere."""

    def __init__(self, message: str, *, deployment: Any = None):
        super().__init__(message)
        self.deployment = deployment


class WaitTimeoutError(SindriError):
    """A wait ran past its bound; the deployment was left as it is."""

    def __init__(self, message: str, *, deployment: Any = None):
        super().__init__(message)
        self.deployment = deployment
