"""The REST handlers under ``<base_url>/sindri-jupyter/api/``.

Every handler is a Jupyter ``APIHandler`` behind ``@web.authenticated``: without
the server's token (or a login cookie with its XSRF token, for anything but a
read) the answer is 403 and nothing reaches a provider. Expected failures come
back as ``{"error": {"type": ..., "message": <one sentence>}}``.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from .. import _errors
from .._errors import SindriError
from .._redact import mask
from . import _service

logger = logging.getLogger("sindri_jupyter")

#: what the "New GPU" dialog may set; everything else comes from the settings
DEPLOY_FIELDS = ("provider", "gpu", "count", "image", "name")

_STATUS: list[tuple[type[SindriError], int]] = [
    (_errors.UnknownDeploymentError, 404),
    (_errors.InputError, 400),
    (_errors.NotConfiguredError, 409),
    (_errors.UnsupportedError, 400),
    (_errors.RateLimitedError, 429),
    (_errors.AuthenticationError, 502),
    (_errors.ConflictError, 409),
    (_errors.CapacityError, 409),
    (_errors.RequestRejectedError, 400),
    (_errors.ProviderError, 502),
    (_errors.DeploymentGoneError, 410),
    (_errors.WaitTimeoutError, 504),
]


def status_for(error: SindriError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


class SindriHandler(APIHandler):
    """Runs one core call and answers with its JSON, or its error as JSON."""

    @property
    def board(self) -> _service.StatusBoard:
        return self.settings["sindri_status_board"]

    async def answer(
        self, work: Callable[[], Awaitable[Any]], *, status: int = 200
    ) -> None:
        try:
            body = await work()
        except SindriError as error:
            self.fail(status_for(error), type(error).__name__, str(error))
            return
        except Exception as error:  # a bug: say so in one sentence, log the rest
            logger.error(
                "sindri-jupyter server extension failed: %s",
                mask("".join(traceback.format_exception(error))),
            )
            self.fail(
                500,
                "InternalError",
                "The Sindri server extension failed unexpectedly; the Jupyter "
                "server log has the details.",
            )
            return
        self.set_status(status)
        self.finish(json.dumps(body))

    def fail(self, status: int, kind: str, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"type": kind, "message": mask(message)}}))

    def body_json(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise _errors.InputError("The request body is not JSON.") from None
        if not isinstance(body, dict):
            raise _errors.InputError("The request body must be a JSON object.")
        return body


class ProvidersHandler(SindriHandler):
    @web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: _service.on_core_loop(_service.providers()))


class GpusHandler(SindriHandler):
    @web.authenticated
    async def get(self) -> None:
        provider = self.get_query_argument("provider", None)

        async def work() -> Any:
            return await _service.on_core_loop(_service.gpus(provider))

        await self.answer(work)


class DeploymentsHandler(SindriHandler):
    @web.authenticated
    async def get(self) -> None:
        await self.answer(self.board.snapshot)

    @web.authenticated
    async def post(self) -> None:
        async def work() -> Any:
            body = self.body_json()
            unknown = sorted(set(body) - set(DEPLOY_FIELDS))
            if unknown:
                raise _errors.InputError(
                    f"Unknown field {unknown[0]!r}: a deploy takes "
                    f"{', '.join(DEPLOY_FIELDS)}."
                )
            options = {k: v for k, v in body.items() if v not in (None, "")}
            try:
                return await _service.on_core_loop(_service.deploy(options))
            finally:
                self.board.invalidate()

        await self.answer(work, status=201)


class DeploymentHandler(SindriHandler):
    """One deployment: ``DELETE`` destroys it."""

    @web.authenticated
    async def delete(self, reference: str) -> None:
        await self._act("destroy", reference)

    async def _act(self, action: str, reference: str) -> None:
        async def work() -> Any:
            try:
                return await _service.on_core_loop(_service.act(action, reference))
            finally:
                self.board.invalidate()

        await self.answer(work)


class ActionHandler(DeploymentHandler):
    """``POST .../{ref}/stop`` and ``POST .../{ref}/start``."""

    @web.authenticated
    async def post(self, reference: str, action: str) -> None:
        await self._act(action, reference)


class ConnectionHandler(SindriHandler):
    @web.authenticated
    async def get(self, reference: str) -> None:
        await self.answer(lambda: _service.on_core_loop(_service.connection(reference)))


class PreviewHandler(SindriHandler):
    """What a destroy would delete, to ask before it."""

    @web.authenticated
    async def get(self, reference: str) -> None:
        await self.answer(
            lambda: _service.on_core_loop(_service.preview_destroy(reference))
        )


def routes(prefix: str) -> list[tuple[str, type[SindriHandler]]]:
    """The handlers, under ``prefix`` (the server's base URL + the API path)."""
    one = r"/deployments/([^/]+)"
    return [
        (prefix + "/providers", ProvidersHandler),
        (prefix + "/gpus", GpusHandler),
        (prefix + "/deployments", DeploymentsHandler),
        (prefix + one, DeploymentHandler),
        (prefix + one + "/(stop|start)", ActionHandler),
        (prefix + one + "/connection", ConnectionHandler),
        (prefix + one + "/destroy-preview", PreviewHandler),
    ]
