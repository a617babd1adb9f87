"""The widget panel: deploy, watch and manage GPUs by clicking.

``%sindri panel`` or ``sindri_jupyter.Panel()``. The panel is a front end like
the magics: it calls the provider core and shows what comes back; it holds no
provider logic. See ``docs/panel.md``.
"""

from __future__ import annotations

from ._panel import Panel

__all__ = ["Panel"]
