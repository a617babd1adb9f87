"""``%sindri gpus``: both providers' GPU offers in one table, sorted by $/h."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import InputError
from .._models import GpuOffer
from . import prices

if TYPE_CHECKING:
    from .._engine import Session


@dataclass(frozen=True)
class Filters:
    """What the user narrowed the table to; ``None`` means any."""

    min_memory_gb: float | None = None
    max_price: float | None = None  # USD an hour for ``count`` GPUs
    count: int = 1
    cloud: str = "SECURE"

    def keeps(self, offer: GpuOffer) -> bool:
        price = offer.price(self.cloud)
        if price is None:
            return False
        if self.min_memory_gb is not None and (offer.memory_gb or 0) < (
            self.min_memory_gb
        ):
            return False
        if self.max_price is not None and price * self.count > self.max_price:
            return False
        if offer.count_options:
            return self.count in offer.count_options
        return offer.max_count is None or self.count <= offer.max_count


def check_number(value: Any, option: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or not number >= 0 or number == float("inf"):
        raise InputError(
            f"{option} {value!r} must be a number of at least 0.",
            option=option,
            value=value,
        )
    return number


@dataclass
class GpuTable:
    """Offers across providers, and the time each provider's prices are from."""

    offers: list[GpuOffer]
    filters: Filters
    sheets: list[prices.PriceSheet] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def labels(self) -> list[str]:
        return [sheet.label() + "." for sheet in self.sheets] + self.failures

    def _repr_html_(self) -> str:
        from .views import gpu_table_html

        return gpu_table_html(self)

    def __str__(self) -> str:
        from .views import gpu_table_text

        return gpu_table_text(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


async def table(session: Session, providers: list[str], filters: Filters) -> GpuTable:
    """Each provider's prices (kept a short while), filtered, cheapest first."""
    from .._errors import SindriError

    found = GpuTable(offers=[], filters=filters)
    for name in providers:
        try:
            async with session.provider(name) as api:
                sheet = await prices.current(session, api, filters.cloud)
        except SindriError as error:
            if len(providers) == 1:
                raise
            found.failures.append(f"{name}: no prices ({error})")
            continue
        found.sheets.append(sheet)
        found.offers += [o for o in sheet.offers if filters.keeps(o)]
    found.offers.sort(key=lambda o: (o.price(filters.cloud) or 0.0, o.provider, o.id))
    return found
