"""The shape every provider emulator has: one `ProviderApp` subclass per provider.

A provider app owns the provider's state and answers provider-API requests. It
declares, as data, what the shared server needs to know about it:

- `provider`: the name used by `serve()`, the CLI and `/_emulator/health`;
- `routes()`: the provider's route table (method, path template, handler);
- `control_routes()`: extra `/_emulator/...` endpoints for this provider;
- `faults`: provider-level fault names (fired from handlers with
  `request.fault(name)`), on top of the server's transport faults;
- `problem_response()`: how this provider renders an error body;
- `authenticate()` and `decorate()`: its auth check and per-response headers.

The shared server (`_server.py`) adds everything else: the virtual clock, the
`Date` header, the request journal, transport faults and the control surface.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any, ClassVar

from ._clock import VirtualClock
from ._http import HttpError, Problem, Request, Response, Route, RouteTable
from ._ids import IdSource

logger = logging.getLogger("sindri_jupyter.emulators")

DEFAULT_API_KEY = "emulator-api-key"


class ProviderApp:
    """Base class for a provider emulator; subclasses fill in the provider parts."""

    provider: ClassVar[str] = ""
    faults: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        *,
        clock: VirtualClock,
        seed: int | None = None,
        api_keys: Iterable[str] = (DEFAULT_API_KEY,),
    ) -> None:
        self.clock = clock
        self.api_keys = frozenset(api_keys)
        self.initial_seed = seed
        # One lock around provider state: handlers are short, and serialising
        # them keeps every lazily evaluated transition consistent.
        self.lock = threading.RLock()
        self._routes = RouteTable(self.routes())
        self.reset(seed)

    # -- what a provider fills in -------------------------------------------

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def control_routes(self) -> list[Route]:
        """Provider-specific control endpoints, mounted under `/_emulator/`."""
        return []

    def reset(self, seed: int | None) -> None:
        """Drop all provider state and reseed; subclasses extend this."""
        self.seed = seed
        self.ids = IdSource(seed)

    def problem_response(self, problem: Problem) -> Response:
        """Render an error in the provider's own body format."""
        raise NotImplementedError

    def authenticate(self, request: Request) -> bool:
        """Default scheme: `Authorization: Bearer <one of api_keys>`."""
        value = request.header("authorization") or ""
        scheme, _, token = value.partition(" ")
        return scheme.lower() == "bearer" and token.strip() in self.api_keys

    def unauthorized(self, request: Request) -> Problem:
        missing = not request.header("authorization")
        detail = "missing bearer token" if missing else "invalid bearer token"
        return Problem(401, "Unauthorized", detail)

    def decorate(self, request: Request, response: Response) -> None:
        """Add provider headers (rate-limit state, say) to any provider response."""

    def origin(self, request: Request) -> str:
        """``"client"``, or ``"pod"`` for a call made from inside an emulated pod.

        A pod's calls come on its own schedule, so they do not move a `step`
        clock; the request log marks them.
        """
        return "client"

    def rate_limited(self, request: Request, retry_after: int) -> Response:
        """The provider's 429, used by the `rate-limit` fault."""
        problem = Problem(429, "Too Many Requests", "rate limit exceeded")
        response = self.problem_response(problem)
        response.headers["Retry-After"] = str(retry_after)
        return response

    def health(self) -> dict[str, Any]:
        """Extra fields for `GET /_emulator/health`."""
        return {}

    # -- shared machinery ----------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Authenticate, route and run one provider-API request."""
        if not request.authorized:
            return self.problem_response(self.unauthorized(request))
        route, params, allowed = self._routes.resolve(request.method, request.path)
        try:
            if route is None and allowed:
                raise HttpError(
                    405,
                    "The requested method is not allowed for this path.",
                    headers={"Allow": ", ".join(sorted(set(allowed)))},
                )
            if route is None:
                raise HttpError(404, f"no route for {request.path}")
            request.params = params
            with self.lock:
                return route.handler(request)
        except HttpError as error:
            response = self.problem_response(error.problem)
            response.headers.update(error.headers)
            return response
