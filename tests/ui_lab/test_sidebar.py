"""The Sindri sidebar in JupyterLab, driven in headless Chromium against the sandbox."""

from __future__ import annotations

import time

from sindri_jupyter.emulators import EmulatorControl

from .._browser import ARTIFACTS
from .conftest import REFRESH_SECONDS, SANDBOX_KEY, TOKEN

PANEL = "#sindri-jupyter-panel"


def open_sidebar(context, lab):
    page = context.new_page()
    page.goto(f"{lab.url}/lab?reset&token={TOKEN}")
    page.locator('.jp-SideBar [data-id="sindri-jupyter-panel"]').click(timeout=60_000)
    page.locator(f"{PANEL} .sj-BurnRate").filter(has_text="$").wait_for(timeout=30_000)
    return page


def row(page, name):
    return page.locator(f'{PANEL} .sj-Deployment[data-name="{name}"]')


def open_new_gpu_dialog(page):
    page.locator(f"{PANEL} .sj-NewGpu").click()
    dialog = page.locator("#sindri-new-gpu-dialog")
    dialog.locator('select[name="gpu"]:enabled').wait_for(timeout=30_000)
    return dialog


def live_names(api, lab):
    listed = api.get(lab.api("deployments")).json()["deployments"]
    return [d["name"] for d in listed if d["state"] != "gone"]


def test_create_in_the_dialog_see_ready_copy_ssh_and_destroy(context, lab, api):
    page = open_sidebar(context, lab)
    assert page.locator(PANEL).get_attribute("data-refresh-seconds")
    mode = page.locator(f"{PANEL} .sj-Mode")
    mode.filter(has_text="Sandbox").wait_for(timeout=10_000)
    dialog = open_new_gpu_dialog(page)
    dialog.locator('select[name="provider"]').select_option("runpod")
    gpu = dialog.locator('select[name="gpu"]')
    gpu.select_option("NVIDIA RTX A4000")
    assert "$0.24/h" in dialog.locator(".sj-Hint").inner_text()
    assert "stock" in gpu.locator("option").first.inner_text()
    dialog.locator('input[name="name"]').fill("lab-trainer")
    dialog.locator(".sj-Create").click()
    dialog.wait_for(state="detached", timeout=30_000)

    card = row(page, "lab-trainer")
    card.and_(page.locator('[data-state="ready"]')).wait_for(timeout=60_000)
    assert "$0.24/h" in card.locator(".sj-Rate").inner_text()
    burn = page.locator(f"{PANEL} .sj-BurnRate")
    burn.filter(has_text="$0.24/h").wait_for(timeout=30_000)

    card.locator(".sj-Connect").click()
    ssh = card.locator('.sj-ConnectionLine[data-label="SSH"]')
    ssh.wait_for(timeout=30_000)
    shown = ssh.locator(".sj-ConnectionValue").inner_text()
    assert shown.startswith("ssh ")
    ssh.locator(".sj-Copy").click()
    ssh.locator(".sj-Copy", has_text="Copied").wait_for(timeout=10_000)
    assert page.evaluate("navigator.clipboard.readText()") == shown
    jupyter_line = card.locator('.sj-ConnectionLine[data-label="Jupyter"]')
    assert "token=•••" in jupyter_line.inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "jupyterlab-sidebar.png"
    page.screenshot(path=str(screenshot))
    print(f"\nscreenshot: {screenshot}")
    assert SANDBOX_KEY not in page.content()

    card.locator(".sj-Destroy").click()
    confirm = page.locator(".jp-Dialog").filter(has_text="Destroy runpod:lab-trainer")
    assert "cannot be undone" in confirm.inner_text()
    confirm.locator(".jp-mod-warn", has_text="Destroy").click()
    card.wait_for(state="detached", timeout=30_000)
    assert "lab-trainer" not in live_names(api, lab)


def test_unknown_gpu_shows_one_sentence_in_the_dialog_and_creates_nothing(
    context, lab, api
):
    page = open_sidebar(context, lab)
    dialog = open_new_gpu_dialog(page)
    dialog.locator('select[name="gpu"]').select_option("__other__")
    dialog.locator('input[name="gpu-text"]').fill("h9000")
    dialog.locator('input[name="name"]').fill("never-made")
    with EmulatorControl(lab.emulator("runpod")) as control:
        control.clear_requests()
        dialog.locator(".sj-Create").click()
        error = dialog.locator(".sj-DialogError")
        error.filter(has_text="h9000").wait_for(timeout=30_000)
        creates = [r for r in control.requests() if r["method"] == "POST"]
    message = error.inner_text().strip()
    assert "\n" not in message and "Traceback" not in message
    assert "not a GPU type" in message
    assert dialog.is_visible(), "the dialog closed on an error"
    assert creates == []
    assert "never-made" not in live_names(api, lab)
    dialog.locator(".jp-mod-reject").click()
    dialog.wait_for(state="detached")


def test_a_destroy_in_one_tab_is_seen_by_the_other_within_one_refresh(
    context, lab, api
):
    created = api.post(
        lab.api("deployments"),
        json={"provider": "runpod", "gpu": "NVIDIA RTX A4000", "name": "two-tabs"},
    )
    assert created.status_code == 201, created.text
    first = open_sidebar(context, lab)
    second = open_sidebar(context, lab)
    for page in (first, second):
        row(page, "two-tabs").and_(page.locator('[data-state="ready"]')).wait_for(
            timeout=60_000
        )
    # Let the second tab settle into its steady rhythm before the destroy.
    time.sleep(REFRESH_SECONDS + 1)
    interval = float(second.locator(PANEL).get_attribute("data-refresh-seconds"))
    assert interval >= REFRESH_SECONDS

    first.bring_to_front()
    row(first, "two-tabs").locator(".sj-Destroy").click()
    first.locator(".jp-Dialog .jp-mod-warn", has_text="Destroy").click()
    row(first, "two-tabs").wait_for(state="detached", timeout=30_000)
    destroyed_at = time.monotonic()

    # One refresh of the other tab, plus the time a refresh takes.
    row(second, "two-tabs").wait_for(state="detached", timeout=(interval + 3) * 1000)
    seen_after = time.monotonic() - destroyed_at
    print(
        f"\nthe second tab saw the destroy after {seen_after:.1f} s "
        f"(its refresh interval: {interval:.1f} s)"
    )
