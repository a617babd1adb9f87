"""The price catalog: each provider's live GPU prices, kept a short while.

Prices are read from the provider (RunPod ``GET /v2/catalog/gpus``, Northflank
plans and regions) and kept for ``PRICE_CACHE_SECONDS`` of wall time. The last
catalog read is also written to the data directory, so a new kernel has it: a
dry run shows prices from it without sending anything, and when the provider
cannot be reached the last prices are shown, labelled stale with their time.

Every price carries the provider's own time of reading ("as of"), taken from the
answer's ``Date`` header, so it is the emulator's clock in the sandbox.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._config import data_dir
from .._errors import ProviderError, TransportError
from .._models import GpuOffer

if TYPE_CHECKING:
    from .._engine import Session
    from ..providers._base import Provider

logger = logging.getLogger("sindri_jupyter")

#: how long a catalog read is reused before the provider is asked again
PRICE_CACHE_SECONDS = 120.0
_FILE = "prices.json"


def wall_time() -> float:
    """Seconds since the epoch; tests move it to age the cache."""
    return time.time()


@dataclass
class PriceSheet:
    """One provider's offers for one cloud, and when the provider said so."""

    provider: str
    cloud: str
    offers: list[GpuOffer]
    as_of: datetime | None
    fetched_at: float
    #: the provider could not be reached and these are the last known prices
    stale: bool = False
    #: why they are stale, in one short phrase
    reason: str | None = None

    def label(self) -> str:
        """``prices as of <time>``, saying plainly when they are stale."""
        when = _when(self.as_of, self.fetched_at)
        if self.stale:
            why = f" ({self.reason})" if self.reason else ""
            return f"{self.provider} prices are STALE, as of {when}{why}"
        return f"{self.provider} prices as of {when}"


def _when(as_of: datetime | None, fetched_at: float) -> str:
    moment = as_of or datetime.fromtimestamp(fetched_at, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _cache_path(session: Session) -> Path:
    folder = data_dir() / "sandbox" if session.settings.sandbox_on else data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / _FILE


def _key(provider: str, cloud: str) -> str:
    return f"{provider}:{cloud.upper()}"


def _read_all(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def load(session: Session, provider: str, cloud: str) -> PriceSheet | None:
    """The last catalog read for this provider and cloud, however old."""
    entry = _read_all(_cache_path(session)).get(_key(provider, cloud))
    if not isinstance(entry, dict):
        return None
    try:
        offers = [GpuOffer.model_validate(item) for item in entry["offers"]]
        as_of = entry.get("as_of")
        return PriceSheet(
            provider=provider,
            cloud=cloud.upper(),
            offers=offers,
            as_of=datetime.fromisoformat(as_of) if as_of else None,
            fetched_at=float(entry["fetched_at"]),
        )
    except (KeyError, TypeError, ValueError):
        logger.info("ignoring an unreadable price cache entry for %s", provider)
        return None


def save(session: Session, sheet: PriceSheet) -> None:
    path = _cache_path(session)
    everything = _read_all(path)
    everything[_key(sheet.provider, sheet.cloud)] = {
        "as_of": sheet.as_of.isoformat() if sheet.as_of else None,
        "fetched_at": sheet.fetched_at,
        "offers": [offer.model_dump(mode="json") for offer in sheet.offers],
    }
    # Written whole and renamed, so a kernel reading it never sees half a file.
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(everything, sort_keys=True), "utf-8")
    partial.replace(path)


def is_fresh(sheet: PriceSheet) -> bool:
    return wall_time() - sheet.fetched_at < PRICE_CACHE_SECONDS


async def fetch(session: Session, api: Provider, cloud: str) -> PriceSheet:
    """Ask the provider now, and keep what it said."""
    offers = await api.gpu_offers(cloud=cloud)
    sheet = PriceSheet(
        provider=api.name,
        cloud=cloud.upper(),
        offers=offers,
        as_of=api.server_time(),
        fetched_at=wall_time(),
    )
    save(session, sheet)
    return sheet


async def current(session: Session, api: Provider, cloud: str) -> PriceSheet:
    """Fresh prices: the kept ones while young, else the provider's.

    Where the provider cannot be reached, the last known prices come back
    marked stale; with none kept, the provider's error is raised.
    """
    kept = load(session, api.name, cloud)
    if kept is not None and is_fresh(kept):
        return kept
    try:
        return await fetch(session, api, cloud)
    except (TransportError, ProviderError) as error:
        if kept is None or not _unreachable(error):
            raise
        logger.info("%s unreachable; showing the prices kept", api.name)
        kept.stale = True
        kept.reason = "the provider could not be reached"
        return kept


def _unreachable(error: ProviderError) -> bool:
    # A refused key is not "unreachable": stale prices would hide it.
    return isinstance(error, TransportError) or (error.status or 0) >= 500


def kept_only(session: Session, provider: str, cloud: str) -> PriceSheet | None:
    """The last prices without asking anyone (dry runs); stale when old."""
    kept = load(session, provider, cloud)
    if kept is not None and not is_fresh(kept):
        kept.stale = True
        kept.reason = "older than the cache time; a dry run asks no one"
    return kept
