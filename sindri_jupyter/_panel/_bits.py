"""Small pieces the panel's views share: copy buttons, sentences, layouts."""

from __future__ import annotations

import html

from .._redact import mask

ERROR_STYLE = "color:#c53030"
NOTE_STYLE = "color:#4a5568"


def escape(text: object) -> str:
    """Masked, then HTML-escaped."""
    return html.escape(mask(str(text)))


def sentence(text: str, *, error: bool = False) -> str:
    """One masked sentence as HTML, red when it reports a failure."""
    style = ERROR_STYLE if error else NOTE_STYLE
    return f'<span style="{style}">{html.escape(mask(text))}</span>'


def copy_line(label: str, shown: str, copied: str | None = None) -> str:
    """A labelled value with a button that copies it in the browser.

    The copy happens in the page (no round trip to the kernel); ``copied`` is
    what lands on the clipboard when it differs from what is shown.
    """
    value = html.escape(mask(copied if copied is not None else shown), quote=True)
    return (
        '<div class="sindri-copy-line" style="margin:2px 0">'
        f"<b>{html.escape(label)}</b> <code>{html.escape(mask(shown))}</code> "
        f'<button class="sindri-copy" data-copy="{value}" '
        'onclick="navigator.clipboard.writeText(this.dataset.copy);'
        "this.textContent='Copied'\">Copy</button></div>"
    )
