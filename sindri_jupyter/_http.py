"""One transport policy for every provider.

- every call has a timeout;
- the key travels only in the ``Authorization`` header;
- 429 waits as ``Retry-After`` says (within a bound), then retries;
- 5xx, dropped connections and timeouts are retried with jittered backoff, but
  only for calls that are safe to repeat: a create is never repeated here (the
  caller reconciles by tag instead);
- answers that are not JSON where JSON was due become a :class:`TransportError`
  with the status and a short masked excerpt.
"""

from __future__ import annotations

import email.utils
import functools
import ipaddress
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import tenacity

from ._config import Endpoint, loopback_only
from ._errors import RateLimitedError, TransportError
from ._redact import excerpt, register_secret

logger = logging.getLogger("sindri_jupyter")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_RATE_LIMIT_WAIT = 30.0
RETRIES = 3
#: times one call may wait out a spent request budget (``budget`` below)
BUDGET_WAITS = 3

ErrorMapper = Callable[[httpx.Response], Exception]


@dataclass
class Reply:
    """A provider's answer, parsed, with the provider's own idea of the time."""

    status: int
    data: Any
    server_time: datetime | None
    headers: httpx.Headers


class _Retryable(Exception):
    def __init__(self, error: Exception, wait: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.wait = wait


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def _guard_loopback(request: httpx.Request) -> None:
    if loopback_only() and not _is_loopback(request.url.host):
        raise TransportError(
            f"Refused a request to {request.url.host}: this environment allows "
            "only 127.0.0.1 (SINDRI_JUPYTER_LOOPBACK_ONLY is set).",
            provider="sindri",
        )


def server_time(response: httpx.Response) -> datetime | None:
    value = response.headers.get("date")
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verified TLS context for every client: building one costs ~40 ms."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class ApiClient:
    """An async JSON client for one provider endpoint."""

    def __init__(
        self,
        endpoint: Endpoint,
        map_error: ErrorMapper,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], Any] | None = None,
    ):
        register_secret(endpoint.api_key)
        self.endpoint = endpoint
        self.provider = endpoint.provider
        self._map_error = map_error
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            base_url=endpoint.base_url,
            headers={
                "Authorization": f"Bearer {endpoint.api_key}",
                "Accept": "application/json",
                "User-Agent": "sindri-jupyter/0.1",
            },
            timeout=timeout,
            transport=transport,
            event_hooks={"request": [_guard_loopback]},
            verify=_tls_context(),
        )
        self.last_server_time: datetime | None = None
        #: a shared request budget (``_ratelimit.Budget``) where the provider has one
        self.budget: Any = None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        safe_to_repeat: bool,
        expect_json: bool = True,
    ) -> Reply:
        """Send one request under the transport policy."""
        for _ in range(BUDGET_WAITS):
            try:
                return await self._call(
                    method, path, json, params, safe_to_repeat, expect_json
                )
            except RateLimitedError as error:
                # A 429 means nothing was done, so even a create may go again.
                if self.budget is None or not await self.budget.wait_out(error):
                    raise
        return await self._call(method, path, json, params, safe_to_repeat, expect_json)

    async def _call(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        safe_to_repeat: bool,
        expect_json: bool,
    ) -> Reply:
        attempts = RETRIES if safe_to_repeat else 1

        def wait_for(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, _Retryable) and error.wait is not None:
                return error.wait
            return tenacity.wait_random_exponential(multiplier=0.5, max=8)(state)

        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(attempts),
            wait=wait_for,
            retry=tenacity.retry_if_exception_type(_Retryable),
            reraise=True,
            **({"sleep": self._sleep} if self._sleep else {}),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(method, path, json, params, expect_json)
        except _Retryable as final:
            raise final.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        expect_json: bool,
    ) -> Reply:
        if self.budget is not None:
            await self.budget.admit()
        logger.debug("%s %s %s", self.provider, method, path)
        try:
            response = await self._client.request(
                method, path, json=json, params=params
            )
        except httpx.TimeoutException as error:
            raise _Retryable(self._transport_error("timed out", error)) from None
        except httpx.TransportError as error:
            raise _Retryable(self._transport_error("failed", error)) from None
        self.last_server_time = server_time(response) or self.last_server_time
        if self.budget is not None:
            self.budget.observe(response, self.last_server_time)
            if response.status_code == 429:
                raise self.budget.refused(response)
        if response.status_code == 429:
            wait = _retry_after(response)
            error = RateLimitedError(
                f"{self.provider} is rate limiting requests; "
                f"try again in {round(wait or 60)} s.",
                provider=self.provider,
                retry_after=wait,
            )
            if wait is not None and wait <= MAX_RATE_LIMIT_WAIT:
                raise _Retryable(error, wait)
            raise error
        if response.status_code >= 500:
            raise _Retryable(self._map_error(response))
        if response.status_code >= 400:
            raise self._map_error(response)
        data = None
        if expect_json and response.status_code != 204:
            data = self._parse_json(response)
        return Reply(
            response.status_code, data, self.last_server_time, response.headers
        )

    def _parse_json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise _Retryable(
                TransportError(
                    f"{self.provider} answered {response.status_code} with a body "
                    f"that is not JSON: {excerpt(response.text, 80)!r}",
                    provider=self.provider,
                    status=response.status_code,
                )
            ) from None

    def _transport_error(self, what: str, error: Exception) -> TransportError:
        kind = type(error).__name__
        return TransportError(
            f"The request to {self.provider} {what} ({kind}); its outcome is unknown.",
            provider=self.provider,
        )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
