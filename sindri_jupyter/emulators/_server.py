"""The shared HTTP server: one `ProviderApp` behind stdlib `ThreadingHTTPServer`.

Per provider-API request the server ticks the clock (not for calls from inside
an emulated pod), checks the key, applies transport faults around the app's
handler, stamps `Date:` from the virtual clock and journals the exchange.
`/_emulator/...` goes to the control surface.
"""

from __future__ import annotations

import html
import ipaddress
import socket
import sys
import threading
import time
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from ._base import ProviderApp, logger
from ._clock import VirtualClock, format_instant
from ._control import PREFIX, ControlSurface
from ._faults import SERVER_FAULTS, FaultBook
from ._http import Problem, Request, Response
from ._journal import Journal, JournalEntry

LOOPBACK_NAMES = {"localhost"}
# How often the serving thread checks for shutdown; tests open many servers.
SHUTDOWN_POLL_SECONDS = 0.05


def require_loopback(host: str) -> None:
    """Emulators hold no real secrets but accept any client: never expose them."""
    if host in LOOPBACK_NAMES:
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"emulators bind to loopback only, not {host!r}")


class DropConnection(Exception):
    """Close the socket without writing a response."""


class EmulatorServer:
    """A provider app served over HTTP on loopback, in a background thread."""

    def __init__(
        self,
        app: ProviderApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        require_loopback(host)
        self.app = app
        self.clock: VirtualClock = app.clock
        self.journal = Journal()
        self.faults = FaultBook({**SERVER_FAULTS, **app.faults})
        self.control_surface = ControlSurface(self)
        self._http = _HttpServer((host, port), _Handler)
        self._http.emulator = self
        self._thread: threading.Thread | None = None
        self._control: Any = None

    @property
    def host(self) -> str:
        return self._http.server_address[0]

    @property
    def port(self) -> int:
        return self._http.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def control(self) -> Any:
        """An `EmulatorControl` bound to this server (created on first use)."""
        if self._control is None:
            from ._client import EmulatorControl

            self._control = EmulatorControl(self.base_url)
        return self._control

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            name=f"{self.app.provider}-emulator",
            daemon=True,
        )
        self._thread.start()
        logger.info("%s emulator listening on %s", self.app.provider, self.base_url)
        return self

    def serve_forever(self) -> None:
        self._http.serve_forever()

    def shutdown(self) -> None:
        """Stop serving; safe to call from another thread than the serving one."""
        self._http.shutdown()

    def close(self) -> None:
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._http.server_close()
        if self._control is not None:
            self._control.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the provider-API pipeline -------------------------------------------

    def answer(self, request: Request, entry: JournalEntry) -> Response:
        """Run faults and the app; raise `DropConnection` to answer nothing."""
        method, path = request.method, request.path

        def fire(name: str) -> Any:
            fault = self.faults.take(name, method, path)
            if fault is not None:
                entry.faults.append(name)
            return fault

        if fire("reset"):
            raise DropConnection
        slow = fire("slow")
        if slow:
            time.sleep(float(slow.params.get("seconds", 5)))
        if limited := fire("rate-limit"):
            retry_after = int(limited.params.get("retry_after", 2))
            response = self.app.rate_limited(request, retry_after)
        elif fire("server-error"):
            problem = Problem(500, "Internal Server Error", "internal server error")
            response = self.app.problem_response(problem)
        elif fire("html-502"):
            response = bad_gateway_page(request)
        else:
            response = self.app.handle(request)
            entry.faults.extend(name for name, f in request.fired.items() if f)
            if fire("commit-then-reset"):
                raise DropConnection
            if fire("empty-body"):
                response = Response(200, content_type=response.content_type)
            elif response.body and fire("truncated-json"):
                response.body = response.body[: len(response.body) // 2]
        if response.problem is not None and fire("echo-auth"):
            response = self.echo_authorization(request, response)
        self.app.decorate(request, response)
        return response

    def echo_authorization(self, request: Request, response: Response) -> Response:
        """Deliberately leak the key into the error detail (the `echo-auth` fault)."""
        problem = response.problem
        assert problem is not None
        received = request.header("authorization") or ""
        leaked = Problem(
            problem.status,
            problem.title,
            f"{problem.detail} (received Authorization: {received})",
            problem.errors,
        )
        echoed = self.app.problem_response(leaked)
        echoed.headers = {**response.headers, **echoed.headers}
        return echoed


def bad_gateway_page(request: Request) -> Response:
    """An edge proxy's HTML 502 that (carelessly) reflects the Authorization header."""
    received = html.escape(request.header("authorization") or "")
    page = (
        "<html><head><title>502 Bad Gateway</title></head><body>"
        "<h1>502 Bad Gateway</h1><p>The upstream server did not answer.</p>"
        f"<!-- request authorization: {received} --></body></html>"
    )
    return Response(502, page.encode(), "text/html; charset=utf-8")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: EmulatorServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout) is normal here, not a server fault.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    @property
    def emulator(self) -> EmulatorServer:
        return self.server.emulator

    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def version_string(self) -> str:
        return f"sindri-emulator/{self.emulator.app.provider}"

    def date_time_string(self, timestamp: float | None = None) -> str:
        # Clients take the server's Date as "now"; it must be the virtual clock.
        return format_datetime(self.emulator.clock.now(), usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def dispatch(self) -> None:
        parts = urlsplit(self.path)
        body = self.read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        query = parse_qs(parts.query, keep_blank_values=True)
        emulator = self.emulator
        if parts.path == PREFIX or parts.path.startswith(PREFIX + "/"):
            request = Request(
                self.command, parts.path, query, headers, body, emulator.clock.now()
            )
            self.write(emulator.control_surface.handle(request))
            return
        request = Request(
            self.command,
            parts.path,
            query,
            headers,
            body,
            emulator.clock.now(),
            faults=emulator.faults,
        )
        origin = emulator.app.origin(request)
        if origin == "client":
            # What runs inside a pod calls on its own schedule: only a client's
            # request moves a step clock, so repeatable runs stay repeatable.
            request.now = emulator.clock.tick()
        request.authorized = emulator.app.authenticate(request)
        entry = JournalEntry(
            self.command,
            parts.path,
            query,
            request.json_or_none(),
            format_instant(request.now),
            request.authorized,
            origin=origin,
        )
        try:
            response = emulator.answer(request, entry)
        except DropConnection:
            emulator.journal.record(entry)
            self.drop()
            return
        # A bug in one handler must not take the whole sandbox down.
        except Exception:  # noqa: BLE001  # pragma: no cover
            logger.exception(
                "emulator handler failed for %s %s", self.command, parts.path
            )
            problem = Problem(500, "Internal Server Error", "emulator bug")
            response = emulator.app.problem_response(problem)
        entry.status = response.status
        emulator.journal.record(entry)
        self.write(response)

    def drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:  # pragma: no cover - the client may already be gone
            pass

    def write(self, response: Response) -> None:
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is not None:
            self.write_stream(response)
            return
        if response.status not in (204, 304):
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.status not in (204, 304):
            self.wfile.write(response.body)

    def write_stream(self, response: Response) -> None:
        """Chunked transfer, so an event stream can stay open on HTTP/1.1."""
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        assert response.stream is not None
        try:
            for chunk in response.stream:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            close = getattr(response.stream, "close", None)
            if close:
                close()
