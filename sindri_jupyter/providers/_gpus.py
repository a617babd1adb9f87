"""Matching what a user types against a live GPU catalog.

Shared by every provider: an exact id wins; otherwise a curated alias table,
shipped as data, is matched with case, spaces, hyphens and underscores ignored.
Several matches stop with the list; no match stops with the nearest real ids.
Nothing is ever picked silently.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from importlib import resources

from .._errors import AmbiguousGpuError, UnknownGpuError
from .._models import GpuOffer

_IGNORED = re.compile(r"[\s\-_]+")


def normalise(text: str) -> str:
    return _IGNORED.sub("", text).lower()


@functools.cache
def alias_table(filename: str) -> dict[str, tuple[str, ...]]:
    raw = json.loads(
        resources.files("sindri_jupyter.data").joinpath(filename).read_text("utf-8")
    )
    return {normalise(k): tuple(v) for k, v in raw.items() if not k.startswith("_")}


def describe(offer: GpuOffer, cloud: str | None) -> str:
    """One line a person can choose from: id, memory, $/h and stock."""
    parts = [offer.id]
    if offer.memory_gb:
        parts.append(f"{offer.memory_gb:g} GB")
    price = offer.price(cloud)
    parts.append(f"${price:.2f}/h" if price is not None else "price unknown")
    if offer.stock:
        parts.append(f"stock {offer.stock.lower()}")
    return ", ".join(parts)


def resolve(
    text: str,
    offers: list[GpuOffer],
    *,
    aliases: dict[str, tuple[str, ...]],
    cloud: str | None = None,
) -> GpuOffer:
    """Exactly one offer for ``text``, or a typed error listing the choices."""
    wanted = text.strip()
    by_id = {offer.id: offer for offer in offers}
    if wanted in by_id:
        return by_id[wanted]
    key = normalise(wanted)
    matches = _matches(key, offers, aliases)
    if cloud and len(matches) > 1:
        offered = [m for m in matches if m.price(cloud) is not None]
        matches = offered or matches
    if len(matches) == 1:
        return matches[0]
    if matches:
        matches.sort(key=lambda m: (m.price(cloud) is None, m.price(cloud) or 0))
        listing = "; ".join(describe(m, cloud) for m in matches)
        raise AmbiguousGpuError(
            f"--gpu {wanted!r} matches {len(matches)} GPU types: {listing}. "
            f'Choose one, e.g. --gpu "{matches[0].id}".',
            value=wanted,
            candidates=matches,
        )
    nearest = nearest_ids(key, offers)
    hint = f" Nearest: {', '.join(repr(n) for n in nearest)}." if nearest else ""
    raise UnknownGpuError(
        f"--gpu {wanted!r} is not a GPU type in the catalog.{hint}",
        value=wanted,
        nearest=nearest,
    )


def _matches(
    key: str, offers: list[GpuOffer], aliases: dict[str, tuple[str, ...]]
) -> list[GpuOffer]:
    by_id = {offer.id: offer for offer in offers}
    if key in aliases:
        return [by_id[i] for i in aliases[key] if i in by_id]
    exact = [o for o in offers if normalise(o.id) == key]
    if exact:
        return exact
    return [o for o in offers if normalise(o.name) == key]


def nearest_ids(key: str, offers: list[GpuOffer], limit: int = 3) -> list[str]:
    """The catalog ids closest to what was typed, for a helpful refusal."""
    scored: list[tuple[float, str]] = []
    digits = re.findall(r"\d{2,}", key)
    for offer in offers:
        candidate = normalise(offer.id)
        score = difflib.SequenceMatcher(None, key, candidate).ratio()
        if digits and all(d in candidate for d in digits):
            score += 0.5
        scored.append((score, offer.id))
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [name for score, name in scored[:limit] if score >= 0.4]
