"""The shared emulator machinery, exercised through a tiny provider over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import ClassVar

import httpx
import pytest

from sindri_jupyter.emulators import (
    EmulatorControlError,
    EmulatorServer,
    HttpError,
    Problem,
    ProviderApp,
    Response,
    Route,
    VirtualClock,
)

KEY = "test-key"
EPOCH = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class CounterApp(ProviderApp):
    """A provider with one counter resource, enough to exercise the base."""

    provider = "counter"
    faults: ClassVar[dict[str, str]] = {"jam": "the counter refuses to count"}

    def reset(self, seed: int | None) -> None:
        super().reset(seed)
        self.count = 0

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v1/count", self.read),
            Route("POST", "/v1/count", self.increment),
            Route("GET", "/v1/things/{name}", self.thing),
        ]

    def problem_response(self, problem: Problem) -> Response:
        body = {"error": {"status": problem.status, "message": problem.detail}}
        response = Response.json(problem.status, body)
        response.problem = problem
        return response

    def read(self, request):
        return Response.json(200, {"count": self.count, "token": self.ids.hex(8)})

    def increment(self, request):
        if request.fault("jam"):
            raise HttpError(409, "jammed")
        self.count += request.json().get("by", 1)
        return Response.json(201, {"count": self.count})

    def thing(self, request):
        return Response.json(200, {"name": request.params["name"]})


@pytest.fixture
def server():
    clock = VirtualClock(mode="manual", epoch=EPOCH)
    app = CounterApp(clock=clock, seed=3, api_keys=[KEY])
    with EmulatorServer(app).start() as running:
        yield running


@pytest.fixture
def api(server):
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as client:
        yield client


def test_wrong_or_missing_key_is_401_and_journalled_without_the_key(server, api):
    assert httpx.get(f"{server.base_url}/v1/count").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.get(f"{server.base_url}/v1/count", headers=wrong).status_code == 401
    assert api.get("/v1/count").status_code == 200
    entries = server.control.requests()
    assert [entry["authorized"] for entry in entries] == [False, False, True]
    assert "nope" not in str(entries) and KEY not in str(entries)


def test_unknown_path_and_wrong_method(api):
    assert api.get("/v1/nothing").status_code == 404
    response = api.delete("/v1/count")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"


def test_path_parameters_are_percent_decoded(api):
    assert api.get("/v1/things/NVIDIA%20L4").json() == {"name": "NVIDIA L4"}


def test_date_header_follows_the_manual_clock(server, api):
    first = parsedate_to_datetime(api.get("/v1/count").headers["Date"])
    assert first == EPOCH
    server.control.advance(90)
    later = parsedate_to_datetime(api.get("/v1/count").headers["Date"])
    assert later - first == timedelta(seconds=90)


def test_step_mode_advances_once_per_provider_request(server, api):
    server.control.set_clock(mode="step", step=2.5)
    api.get("/v1/count")
    api.get("/v1/count")
    server.control.health()  # control calls must not tick the clock
    last = parsedate_to_datetime(api.get("/v1/count").headers["Date"])
    times = [entry["time"] for entry in server.control.requests()]
    assert times == [
        "2026-06-01T12:00:02.500000Z",
        "2026-06-01T12:00:05Z",
        "2026-06-01T12:00:07.500000Z",
    ]
    assert last == EPOCH + timedelta(seconds=7)  # Date carries whole seconds


def test_realtime_mode_runs_at_speed():
    clock = VirtualClock(mode="realtime", speed=1000, epoch=EPOCH)
    first = clock.now()
    while clock.now() - first < timedelta(seconds=50):
        pass
    assert clock.now() > first


def test_clock_refuses_bad_settings(server):
    with pytest.raises(EmulatorControlError) as refused:
        server.control.set_clock(mode="sideways")
    assert refused.value.status == 400
    with pytest.raises(EmulatorControlError):
        server.control.advance(-1)


def test_fault_count_and_match(server, api):
    server.control.enable_fault("server-error", count=2, method="POST", path="/v1/c*")
    assert api.get("/v1/count").status_code == 200
    statuses = [api.post("/v1/count", json={}).status_code for _ in range(3)]
    assert statuses == [500, 500, 201]
    assert server.control.faults() == []
    assert server.app.count == 1  # the failed posts were never handled


def test_provider_fault_fires_from_the_handler(server, api):
    server.control.enable_fault("jam", count=1)
    assert api.post("/v1/count", json={}).status_code == 409
    assert api.post("/v1/count", json={}).status_code == 201
    assert server.control.requests()[0]["faults"] == ["jam"]


def test_unknown_fault_is_refused(server):
    with pytest.raises(EmulatorControlError) as refused:
        server.control.enable_fault("gremlins")
    assert refused.value.status == 400


def test_rate_limit_fault_sends_retry_after(server, api):
    server.control.enable_fault("rate-limit", count=1, params={"retry_after": 7})
    response = api.get("/v1/count")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"


def test_reset_drops_without_handling(server, api):
    server.control.enable_fault("reset", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1/count", json={})
    assert server.app.count == 0
    assert server.control.requests()[0]["status"] is None


def test_commit_then_reset_handles_then_drops(server, api):
    server.control.enable_fault("commit-then-reset", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1/count", json={"by": 5})
    assert api.get("/v1/count").json()["count"] == 5


def test_empty_and_truncated_bodies(server, api):
    server.control.enable_fault("empty-body", count=1)
    empty = api.post("/v1/count", json={})
    assert (empty.status_code, empty.content) == (200, b"")
    server.control.enable_fault("truncated-json", count=1)
    cut = api.get("/v1/count")
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        cut.json()
    assert api.get("/v1/count").json()["count"] == 1


def test_html_502_and_echo_auth_leak_the_header_on_purpose(server, api):
    server.control.enable_fault("html-502", count=1)
    page = api.get("/v1/count")
    assert page.status_code == 502 and page.headers["content-type"].startswith(
        "text/html"
    )
    assert f"Bearer {KEY}" in page.text
    server.control.enable_fault("echo-auth")
    assert api.get("/v1/count").status_code == 200  # successes are untouched
    error = api.get("/v1/nothing")
    assert KEY in error.json()["error"]["message"]


def test_slow_fault_delays_the_answer(server, api):
    server.control.enable_fault("slow", count=1, params={"seconds": 0.3})
    response = api.get("/v1/count")
    assert response.elapsed >= timedelta(seconds=0.3)


def test_reset_clears_state_journal_faults_and_reseeds(server, api):
    first_token = api.get("/v1/count").json()["token"]
    api.post("/v1/count", json={"by": 2})
    server.control.enable_fault("server-error")
    server.control.reset(epoch="2030-01-01T00:00:00Z")
    assert server.control.requests() == [] and server.control.faults() == []
    body = api.get("/v1/count").json()
    assert body == {"count": 0, "token": first_token}
    assert server.control.clock()["now"] == "2030-01-01T00:00:00Z"


def test_health_names_the_provider(server):
    health = server.control.health()
    assert health["provider"] == "counter" and health["ok"] is True
    assert isinstance(health["pid"], int)


def test_non_loopback_host_is_refused():
    app = CounterApp(clock=VirtualClock(), api_keys=[KEY])
    with pytest.raises(ValueError):
        EmulatorServer(app, host="0.0.0.0")
