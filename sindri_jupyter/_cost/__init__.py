"""Cost safety: the price catalog, money spent so far, and the cost report.

- ``prices``: each provider's prices, kept a short while and in the data dir;
- ``gpus``: ``%sindri gpus``, both providers in one table;
- ``report``: ``%sindri cost``, burn rates now and spend over a period;
- ``views``: their text and HTML, and the one-line reminder.

The guards that stop runaway deployments live in ``sindri_jupyter._guards``.
"""

from __future__ import annotations

from . import gpus, prices, report, views

__all__ = ["gpus", "prices", "report", "views"]
