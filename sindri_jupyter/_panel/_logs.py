"""A deployment's log, following while the view is open.

Each read is one streaming request: the last lines first, then whatever follows
until the provider ends the stream; the view reconnects from the last line it
has. Providers without logs say so in one sentence instead of an empty box.
"""

from __future__ import annotations

import asyncio
import collections
import html
from typing import Any

import ipywidgets as widgets

from .._errors import SindriError, UnsupportedError
from .._redact import mask
from ..providers._base import LogLine
from ._bits import sentence

KEEP_LINES = 200
BACKFILL_LINES = 100
#: reconnect soon after lines arrived; back off to the cap while the log is quiet
RECONNECT_SECONDS = 2.0
RECONNECT_CAP = 15.0
UNAVAILABLE = "Logs are not available for this provider."


class LogView:
    """The log box of one row; ``follow()`` runs on the panel's loop."""

    def __init__(self, provider: str, remote_id: str):
        self.provider = provider
        self.remote_id = remote_id
        self.lines: collections.deque[str] = collections.deque(maxlen=KEEP_LINES)
        self.status = widgets.HTML(sentence("Reading the log…"))
        self.text = widgets.HTML(
            layout=widgets.Layout(max_height="240px", overflow="auto")
        )
        self.box = widgets.VBox([self.status, self.text])
        self.box.add_class("sindri-logs")
        self._dirty = False

    async def follow(self) -> None:
        from .._api import session

        cursor: str | None = None
        wait = RECONNECT_SECONDS
        try:
            while True:
                before = len(self.lines)
                async with session().provider(self.provider) as api:
                    cursor = await api.logs(
                        self.remote_id,
                        on_line=self._add,
                        tail=BACKFILL_LINES,
                        after=cursor,
                    )
                self._flush()
                fresh = len(self.lines) != before
                self.status.value = sentence(
                    "Following the log." if self.lines else "The log is empty so far."
                )
                wait = RECONNECT_SECONDS if fresh else min(RECONNECT_CAP, wait * 1.5)
                await asyncio.sleep(wait)
        except UnsupportedError:
            self.status.value = sentence(UNAVAILABLE)
        except SindriError as failure:
            self.status.value = sentence(str(failure), error=True)

    def _add(self, line: LogLine) -> None:
        stamp = line.time[11:19] if len(line.time) >= 19 else line.time
        self.lines.append(mask(f"{stamp} {line.source:<9} {line.text}".rstrip()))
        if not self._dirty:
            self._dirty = True
            asyncio.get_running_loop().call_later(0.2, self._flush)

    def _flush(self, *_: Any) -> None:
        self._dirty = False
        body = "\n".join(html.escape(line) for line in self.lines)
        self.text.value = f'<pre style="margin:0;font-size:85%">{body}</pre>'
