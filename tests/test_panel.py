"""The widget panel, driven as a user drives it, against the RunPod emulator."""

from __future__ import annotations

import threading

import httpx
import pytest
from ipywidgets.widgets import widget as widget_module

from sindri_jupyter._models import State


@pytest.fixture
def panel(session):
    from sindri_jupyter._panel import Panel

    opened = Panel()
    opened.wait()
    yield opened
    opened.close()


def requests_made(control, method: str | None = None, path: str | None = None):
    return [
        r
        for r in control.requests()
        if (method is None or r["method"] == method)
        and (path is None or r["path"] == path)
    ]


def fill(panel, *, gpu="NVIDIA L40", name="trainer", count=1):
    panel.form.gpu.value = gpu
    panel.form.name.value = name
    panel.form.count.value = count


def deploy(panel, **values):
    fill(panel, **values)
    assert not panel.form.deploy.disabled, panel.form.problem.value
    panel.form.deploy.click()
    panel.wait()
    return panel.row(values.get("name", "trainer"))


def test_the_gpu_picker_shows_memory_price_and_stock_and_the_estimate_follows(panel):
    labels = [label for label, _ in panel.form.gpu.options]
    assert any(
        "NVIDIA L40 · 48 GB · $" in label and "stock" in label for label in labels
    )
    fill(panel, count=1)
    one = panel.form.estimate.value
    panel.form.count.value = 2
    two = panel.form.estimate.value
    assert "$0.99/h" in one and "$1.98/h" in two
    panel.form.cloud.value = "COMMUNITY"
    panel.wait()
    panel.form.gpu.value = "NVIDIA L40"
    assert "community" in panel.form.estimate.value


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("count", 0, "--count 0 is out of range"),
        ("name", "", "is not a usable name"),
        ("name", "-bad", "is not a usable name"),
        ("volume", 5, "--volume 5 is out of range"),
        ("disk", 0, "--disk 0 is out of range"),
    ],
)
def test_bad_input_says_why_beside_the_field_and_keeps_deploy_disabled(
    panel, control, field, value, words
):
    fill(panel)
    control.clear_requests()
    getattr(panel.form, field).value = value
    assert words in panel.form.errors[field].value
    assert panel.form.deploy.disabled
    panel.form.deploy.click()
    panel.wait()
    assert requests_made(control, "POST") == []
    assert panel.table.rows == {}


def test_deploy_watch_ready_connect_stop_start_and_destroy_by_clicking(panel, control):
    row = deploy(panel, count=2)
    assert row.deployment.state is State.READY
    assert "ready" in row.cells["state"].value
    assert row.cells["$/h"].value == "$1.98"
    assert "is ready at $1.98/h" in panel.message.value
    assert len(requests_made(control, "POST", "/v2/pods")) == 1

    row.connect.click()
    panel.wait()
    details = row.detail.children[0].value
    assert "ssh root@" in details and details.count('class="sindri-copy"') >= 3
    assert "HTTP 8888" in details and "--show-secrets" in details

    row.power.click()
    panel.wait()
    assert row.deployment.state is State.STOPPED
    assert "Stopped runpod:trainer" in panel.message.value
    assert row.power.description == "Start"

    row.power.click()
    panel.wait()
    assert row.deployment.state is State.READY
    assert "Started runpod:trainer" in panel.message.value

    row.destroy.click()
    panel.wait()
    assert "Destroying deletes the pod" in row.detail.children[0].children[0].value
    row.confirm.click()
    panel.wait()
    assert "Destroyed runpod:trainer" in panel.message.value
    assert panel.table.rows == {}
    assert len(requests_made(control, "DELETE")) == 1


def test_a_destroy_click_without_confirming_destroys_nothing(panel, control):
    row = deploy(panel)
    row.destroy.click()
    panel.wait()
    row.cancel.click()
    panel.wait()
    assert "Nothing was done to runpod:trainer" in panel.message.value
    assert requests_made(control, "DELETE") == []
    assert requests_made(control, "POST", f"/v2/pods/{row.deployment.id}/action") == []
    assert panel.row("trainer").deployment.state is State.READY


def test_an_action_that_fails_says_so_in_one_sentence_in_the_panel(panel, control):
    fill(panel)
    control.enable_fault("capacity")
    panel.form.deploy.click()
    panel.wait()
    said = panel.message.value
    assert "no capacity" in said.lower() and "color:#c53030" in said
    assert "Traceback" not in said and said.count("\n") == 0


def test_money_and_uptime_tick_between_rounds_for_a_running_row(panel):
    row = deploy(panel)
    start_spent, start_uptime = row.ticked(row.read_at)
    spent, uptime = row.ticked(row.read_at + 3600)
    assert uptime - start_uptime == pytest.approx(3600)
    assert spent - start_spent == pytest.approx(0.99)


def test_logs_show_the_last_lines_and_follow(panel):
    row = deploy(panel)
    row.logs.click()
    view, _ = panel._logs[row.key]
    for _ in range(100):
        if "pod is ready" in view.text.value:
            break
        threading.Event().wait(0.05)
    assert "pulling image" in view.text.value
    assert "pod is ready" in view.text.value
    row.logs.click()  # closes the view and stops following
    assert row.key not in panel._logs


def test_a_provider_without_logs_says_so(panel, monkeypatch):
    from sindri_jupyter.providers._base import Provider
    from sindri_jupyter.providers.runpod import RunPod

    row = deploy(panel)
    monkeypatch.setattr(RunPod, "logs", Provider.logs)
    row.logs.click()
    view, future = panel._logs[row.key]
    future.result(timeout=10)
    assert "Logs are not available for this provider." in view.status.value


def test_widget_state_never_holds_the_api_key_or_the_jupyter_token(
    panel, runpod_key, runpod_emulator
):
    row = deploy(panel)
    row.connect.click()
    panel.wait()
    pod = httpx.get(
        f"{runpod_emulator.base_url}/v2/pods/{row.deployment.id}",
        headers={"Authorization": f"Bearer {runpod_key}"},
    ).json()
    token = pod["env"]["JUPYTER_PASSWORD"]
    row.logs.click()
    panel.wait()
    secrets = [runpod_key, token]
    pieces = {s[i : i + 6] for s in secrets for i in range(len(s) - 5)}
    states = [repr(w.get_state()) for w in list(widget_module._instances.values())]
    states.append(panel.text() + panel.html())
    leaked = [p for p in pieces for state in states if p in state]
    assert leaked == []


def test_the_text_and_html_fallbacks_show_names_states_and_prices(panel):
    deploy(panel, count=2)
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    text = bundle["text/plain"]
    assert "trainer" in text and "ready" in text and "$1.98" in text
    assert "trainer" in bundle["text/html"] and "ready" in bundle["text/html"]


def test_closing_the_panel_stops_the_poller_and_leaves_no_thread(session):
    from sindri_jupyter._panel import Panel, _hub

    first, second = Panel(), Panel()
    assert _hub.current() is first.hub is second.hub
    first.close()
    assert _hub.current() is not None
    second.close()
    assert _hub.current() is None
    assert not [t for t in threading.enumerate() if t.name == _hub.THREAD_NAME]
    assert not second.hub.thread.is_alive()


def test_the_magic_opens_the_panel(shell):
    from sindri_jupyter._panel import Panel

    opened = shell.run_line_magic("sindri", "panel")
    try:
        assert isinstance(opened, Panel)
    finally:
        opened.close()


@pytest.fixture
def both_providers(session, runpod_emulator, runpod_key):
    """The session pointed at the RunPod emulator and a Northflank one."""
    from sindri_jupyter._config import Endpoint
    from sindri_jupyter.emulators import serve
    from sindri_jupyter.providers import available

    if "northflank" not in available():
        pytest.skip("the Northflank provider is not registered in this version")
    key = "nf-" + "k" * 30
    with serve("northflank", seed=7, api_keys=[key]) as server:
        session.endpoints["northflank"] = Endpoint(
            "northflank", server.base_url, key, sandbox=True
        )
        yield server


def test_northflank_deploys_from_the_panel_and_says_it_has_no_logs(both_providers):
    from sindri_jupyter._panel import Panel

    panel = Panel()
    try:
        panel.wait()
        panel.form.provider.value = "northflank"
        panel.wait()
        assert panel.form.gpu.options
        panel.form.gpu.value = panel.form.gpu.options[0][1]
        panel.form.name.value = "nf-one"
        panel.form.deploy.click()
        panel.wait()
        row = panel.row("nf-one")
        assert row.deployment.provider == "northflank"
        assert row.deployment.state is State.READY
        row.logs.click()
        view, future = panel._logs[row.key]
        future.result(timeout=10)
        assert "Logs are not available for this provider." in view.status.value
        assert "northflank" in panel.text() and "nf-one" in panel.text()
    finally:
        panel.close()
