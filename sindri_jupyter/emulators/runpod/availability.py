"""Catalog reads with `include=AVAILABILITY` and the data center list.

Only pod stock is modelled; asked about CLUSTER or SERVERLESS alone, every GPU
type reads NONE. Filters follow the contract's parameter descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import Catalog, GpuModel, Offer, availability_level, cuda_key

LEVELS = ("NONE", "LOW", "MEDIUM", "HIGH")


@dataclass(frozen=True)
class StockQuery:
    """What an availability read asks about."""

    products: tuple[str, ...]
    count: int = 1
    cloud: str = "SECURE"
    countries: tuple[str, ...] | None = None
    cuda_exact: tuple[str, ...] | None = None
    cuda_minimum: str | None = None

    def cuda_scope(self, versions: tuple[str, ...]) -> list[str]:
        scoped = list(versions)
        if self.cuda_exact:
            scoped = [version for version in scoped if version in self.cuda_exact]
        if self.cuda_minimum:
            floor = cuda_key(self.cuda_minimum)
            scoped = [version for version in scoped if cuda_key(version) >= floor]
        return scoped


def best(levels: list[str]) -> str:
    return max(levels, key=LEVELS.index, default="NONE")


def offer_level(offer: Offer, query: StockQuery, model: GpuModel) -> str:
    if "POD" not in query.products:
        return "NONE"
    filtered = query.cuda_exact or query.cuda_minimum
    if filtered and not query.cuda_scope(offer.cuda_versions):
        return "NONE"
    return availability_level(offer.stock, query.count)


def gpu_with_availability(
    catalog: Catalog, model: GpuModel, query: StockQuery, *, listing: bool
) -> dict | None:
    """The GpuType with availability fields; None drops it from a list read."""
    offers = catalog.offers_for(model.id, query.cloud)
    if query.countries is not None:
        offers = [
            offer
            for offer in offers
            if catalog.data_centers[offer.data_center].country in query.countries
        ]
        if listing and not offers:
            return None  # the list drops types with no data center there
    body = model.as_json()
    per_center = []
    for offer in offers:
        level = offer_level(offer, query, model)
        if level != "NONE":
            center = catalog.data_centers[offer.data_center]
            per_center.append(
                {"id": center.id, "name": center.name, "availability": level}
            )
    per_center.sort(key=lambda entry: entry["id"])
    body["availability"] = best([entry["availability"] for entry in per_center])
    if per_center:
        body["dataCenters"] = per_center
    versions = cuda_versions(offers, query, model)
    if versions:
        body["cudaVersions"] = versions
    return body


def cuda_versions(offers: list[Offer], query: StockQuery, model: GpuModel) -> list:
    available: dict[str, bool] = {}
    for offer in offers:
        usable = offer_level(offer, query, model) != "NONE"
        for version in query.cuda_scope(offer.cuda_versions):
            available[version] = available.get(version, False) or usable
    ordered = sorted(available, key=cuda_key)
    return [
        {"version": version, "available": available[version]} for version in ordered
    ]


def data_center_list(
    catalog: Catalog,
    *,
    include: tuple[str, ...] = (),
    regions: tuple[str, ...] | None = None,
    volume_types: tuple[str, ...] | None = None,
    compliance: tuple[str, ...] | None = None,
    global_network: bool | None = None,
) -> list[dict]:
    """Data centers after the filters (OR within regions, AND elsewhere)."""
    found = []
    for center in catalog.data_centers.values():
        if regions and center.region not in regions:
            continue
        if volume_types and not set(volume_types) <= set(center.volume_types):
            continue
        if compliance and not set(compliance) <= set(center.compliance):
            continue
        if global_network is not None and center.global_network != global_network:
            continue
        found.append(data_center_json(catalog, center.id, include))
    return found


def data_center_json(
    catalog: Catalog, center_id: str, include: tuple[str, ...]
) -> dict:
    body = catalog.data_centers[center_id].as_json()
    if "GPU_AVAILABILITY" in include:
        levels: dict[str, list[str]] = {}
        for (gpu_id, offer_center, _), offer in catalog.offers.items():
            if offer_center == center_id and gpu_id in catalog.gpus:
                levels.setdefault(gpu_id, []).append(availability_level(offer.stock))
        gpus = [
            {
                "id": gpu_id,
                "name": catalog.gpus[gpu_id].name,
                "availability": best(found),
            }
            for gpu_id, found in sorted(levels.items())
        ]
        if gpus:  # omitted entirely when the data center offers no GPUs
            body["gpuAvailability"] = gpus
    # No CPU flavors are emulated, so cpuAvailability is always omitted.
    return body
