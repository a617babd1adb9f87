"""The panel end to end in a real browser: deploy, see it ready, destroy it."""

from __future__ import annotations

import re

import nbformat

from tests._browser import ARTIFACTS

CELLS = [
    "%load_ext sindri_jupyter\n%sindri sandbox on --seed 7",
    "%sindri panel",
]
SECONDS = 1000  # Playwright counts milliseconds


def test_the_panel_deploys_shows_ready_and_destroys_in_jupyterlab(browser, lab):
    url, root, _ = lab
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in CELLS]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(notebook, root / "panel.ipynb")

    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.set_default_timeout(60 * SECONDS)
    page.goto(f"{url}/lab/tree/panel.ipynb?reset")
    # The execution indicator says idle before the kernel is connected; the
    # status bar's "| Idle" is the signal that a Shift+Enter will be taken.
    page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\| Idle")).wait_for()
    page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.click()
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")

    panel = page.locator(".sindri-panel")
    panel.wait_for()
    gpu = panel.locator(".widget-dropdown", has=page.locator("label", has_text="GPU"))
    option = gpu.locator("option", has_text="NVIDIA L40 · 48 GB")
    option.wait_for(state="attached")
    gpu.locator("select").select_option(label=option.inner_text())
    name = panel.locator(".widget-text", has=page.locator("label", has_text="Name"))
    name.locator("input").fill("browser-gpu")
    deploy = panel.locator("button", has_text=re.compile(r"^Deploy$"))
    page.wait_for_function(
        "b => !b.disabled", arg=deploy.element_handle(), timeout=30 * SECONDS
    )
    deploy.click()

    row = panel.locator(".sindri-row", has_text="browser-gpu")
    row.locator("span", has_text=re.compile(r"^ready$")).wait_for()
    row.locator("button", has_text="Connect").click()
    row.locator("button.sindri-copy").first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "panel-browser.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")

    row.locator("button", has_text=re.compile(r"^Destroy$")).click()
    confirm = row.locator("button", has_text="Confirm destroy")
    page.wait_for_function(
        "b => !b.disabled", arg=confirm.element_handle(), timeout=30 * SECONDS
    )
    confirm.click()
    panel.locator("text=Destroyed runpod:browser-gpu").wait_for()
    row.wait_for(state="detached")
    page.close()
