"""RunPod's GPU catalog, data centers and stock, as the emulator holds them.

GPU types come from the bundled `runpod-gpu-types.json`. The v2 `GpuType` shape
requires a numeric price for both clouds, so a type the file does not price for
both is kept aside ("unpriced") instead of being given an invented price; the
control surface can price it, which lists it from then on.

Stock is a count of free GPUs per (GPU type, data center, cloud). Seeded
defaults give every listed type at least one well-stocked data center per
cloud it is offered on, so a default sandbox can always deploy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._ids import IdSource
from .._validation import load_bundled

CLOUDS = ("SECURE", "COMMUNITY")
CUDA_VERSIONS = ("12.4", "12.6", "12.8", "13.0")
# Blackwell parts need a 12.8+ driver; no host offers them with an older CUDA.
BLACKWELL_MARKERS = ("5080", "5090", "B200", "B300", "PRO 4500", "PRO 6000")


@dataclass(frozen=True)
class DataCenter:
    id: str
    name: str
    region: str
    country: str
    global_network: bool
    volume_types: tuple[str, ...]
    compliance: tuple[str, ...]

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "region": self.region,
            "globalNetwork": self.global_network,
            "networkVolumeTypes": list(self.volume_types),
            "compliance": list(self.compliance),
        }


STANDARD, FAST = "STANDARD", "HIGH_PERFORMANCE"
DATA_CENTERS = (
    DataCenter("US-KS-2", "US Kansas 2", "NORTH_AMERICA", "US", True,
               (STANDARD, FAST), ("SOC_2_TYPE_2", "ISO_IEC_27001")),
    DataCenter("US-TX-3", "US Texas 3", "NORTH_AMERICA", "US", True,
               (STANDARD,), ("SOC_2_TYPE_2",)),
    DataCenter("US-CA-2", "US California 2", "NORTH_AMERICA", "US", False,
               (STANDARD,), ("SOC_2_TYPE_2", "HIPAA")),
    DataCenter("CA-MTL-1", "CA Montreal 1", "NORTH_AMERICA", "CA", True,
               (STANDARD, FAST), ("ISO_IEC_27001", "RENEWABLE")),
    DataCenter("EU-RO-1", "EU Romania 1", "EUROPE", "RO", True,
               (STANDARD, FAST), ("GDPR", "ISO_IEC_27001")),
    DataCenter("EU-SE-1", "EU Sweden 1", "EUROPE", "SE", False,
               (STANDARD,), ("GDPR", "RENEWABLE")),
    DataCenter("EU-CZ-1", "EU Czech Republic 1", "EUROPE", "CZ", False,
               (STANDARD,), ("GDPR",)),
    DataCenter("AP-JP-1", "AP Japan 1", "ASIA", "JP", False, (STANDARD,), ()),
    DataCenter("OC-AU-1", "OC Australia 1", "OCEANIA", "AU", False, (), ()),
)  # fmt: skip


def cuda_key(version: str) -> tuple[int, ...]:
    """Numeric order for CUDA versions: 12.11 is above 12.2."""
    return tuple(int(part) for part in version.split("."))


@dataclass
class GpuModel:
    """One GPU type with the facts the v2 `GpuType` needs."""

    id: str
    name: str
    memory: int
    manufacturer: str
    clouds: dict[str, bool]
    price: dict[str, float]
    max_count: int

    @classmethod
    def from_file(cls, entry: dict) -> GpuModel:
        identifier = entry["id"]
        if identifier.startswith("AMD"):
            manufacturer = "AMD"
        elif identifier.startswith(("NVIDIA", "Tesla")):
            manufacturer = "NVIDIA"
        else:
            manufacturer = "UNKNOWN"
        price = {
            "SECURE": entry.get("securePricePerGpuHr"),
            "COMMUNITY": entry.get("communityPricePerGpuHr"),
        }
        clouds = {
            "SECURE": bool(entry.get("secureCloud", price["SECURE"] is not None)),
            "COMMUNITY": bool(
                entry.get("communityCloud", price["COMMUNITY"] is not None)
            ),
        }
        return cls(
            identifier,
            entry["displayName"],
            int(entry["memoryInGb"]),
            manufacturer,
            clouds,
            price,
            int(entry.get("maxGpuCount") or 8),
        )

    @property
    def priced(self) -> bool:
        return all(isinstance(value, int | float) for value in self.price.values())

    @property
    def cuda_versions(self) -> tuple[str, ...]:
        if self.manufacturer != "NVIDIA":
            return ()  # AMD hosts report no CUDA version at all
        if any(marker in self.id for marker in BLACKWELL_MARKERS):
            return tuple(v for v in CUDA_VERSIONS if cuda_key(v) >= (12, 8))
        return CUDA_VERSIONS

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "pool": None,  # the bundled file names no serverless pools
            "manufacturer": self.manufacturer,
            "memory": self.memory,
            "secure": self.clouds["SECURE"],
            "community": self.clouds["COMMUNITY"],
            "price": {
                "secure": self.price["SECURE"],
                "community": self.price["COMMUNITY"],
            },
            "maxCount": {
                "secure": self.max_count if self.clouds["SECURE"] else 0,
                "community": self.max_count if self.clouds["COMMUNITY"] else 0,
            },
        }


@dataclass
class Offer:
    """Free GPUs of one type in one data center and cloud, and host CUDA versions."""

    gpu: str
    data_center: str
    cloud: str
    stock: int
    cuda_versions: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict:
        return {
            "gpu": self.gpu,
            "dataCenter": self.data_center,
            "cloud": self.cloud,
            "count": self.stock,
            "cudaVersions": list(self.cuda_versions),
        }


@dataclass(frozen=True)
class Placement:
    data_center: DataCenter
    cloud: str
    cuda_version: str | None


def cuda_choice(
    offered: tuple[str, ...], allowed: list[str] | None, minimum: str | None
) -> str | None | bool:
    """The newest host CUDA meeting the rule; None if no CUDA; False if no match."""
    if not offered:
        return False if (allowed or minimum) else None
    candidates = list(offered)
    if allowed:
        candidates = [version for version in candidates if version in allowed]
    if minimum:
        candidates = [v for v in candidates if cuda_key(v) >= cuda_key(minimum)]
    return max(candidates, key=cuda_key) if candidates else False


def availability_level(stock: int, count: int = 1) -> str:
    machines = stock // max(count, 1)
    if machines <= 0:
        return "NONE"
    if machines <= 2:
        return "LOW"
    if machines <= 7:
        return "MEDIUM"
    return "HIGH"


class Catalog:
    """GPU types, data centers and seeded stock; the scheduler's view of capacity."""

    def __init__(self, ids: IdSource) -> None:
        self.ids = ids
        self.data_centers = {center.id: center for center in DATA_CENTERS}
        self.gpus: dict[str, GpuModel] = {}
        self.unpriced: dict[str, GpuModel] = {}
        for entry in load_bundled("runpod-gpu-types.json"):
            model = GpuModel.from_file(entry)
            target = self.gpus if model.priced else self.unpriced
            target[model.id] = model
        self.offers: dict[tuple[str, str, str], Offer] = {}
        for model in self.gpus.values():
            self.seed_offers(model)

    def seed_offers(self, model: GpuModel) -> None:
        random = self.ids.random
        for cloud in CLOUDS:
            if not model.clouds[cloud]:
                continue
            chosen = random.sample(DATA_CENTERS, random.randint(2, 4))
            for index, center in enumerate(chosen):
                # The first pick is well stocked so every listed type can deploy.
                stock = random.choice((16, 24, 32) if index == 0 else (0, 2, 4, 8, 16))
                self.offers[model.id, center.id, cloud] = Offer(
                    model.id, center.id, cloud, stock, self.host_cuda(model)
                )

    def host_cuda(self, model: GpuModel) -> tuple[str, ...]:
        versions = model.cuda_versions
        if not versions:
            return ()
        size = min(len(versions), self.ids.random.randint(2, 3))
        return tuple(sorted(self.ids.random.sample(versions, size), key=cuda_key))

    def gpu(self, gpu_id: str) -> GpuModel | None:
        return self.gpus.get(gpu_id)

    def offers_for(self, gpu_id: str, cloud: str | None = None) -> list[Offer]:
        return [
            offer
            for (gpu, _, offer_cloud), offer in self.offers.items()
            if gpu == gpu_id and cloud in (None, offer_cloud)
        ]

    # -- scheduling ------------------------------------------------------------

    def place(
        self,
        model: GpuModel,
        *,
        count: int,
        cloud: str,
        preferred: list[str],
        allowed_cuda: list[str] | None,
        minimum_cuda: str | None,
        global_networking: bool,
    ) -> Placement | None:
        """Choose a data center with `count` free GPUs, or None (no capacity)."""
        offers = self.offers_for(model.id, cloud)
        if preferred:
            rank = {center: index for index, center in enumerate(preferred)}
            offers = [offer for offer in offers if offer.data_center in rank]
            offers.sort(key=lambda offer: rank[offer.data_center])
        else:
            offers.sort(key=lambda offer: (-offer.stock, offer.data_center))
        for offer in offers:
            center = self.data_centers[offer.data_center]
            if offer.stock < count or (global_networking and not center.global_network):
                continue
            cuda = cuda_choice(offer.cuda_versions, allowed_cuda, minimum_cuda)
            if cuda is False:
                continue
            return Placement(center, cloud, cuda or None)
        return None

    def take(self, gpu_id: str, data_center: str, cloud: str, count: int) -> bool:
        offer = self.offers.get((gpu_id, data_center, cloud))
        if offer is None or offer.stock < count:
            return False
        offer.stock -= count
        return True

    def release(self, gpu_id: str, data_center: str, cloud: str, count: int) -> None:
        offer = self.offers.get((gpu_id, data_center, cloud))
        if offer is not None:
            offer.stock += count

    # -- control ---------------------------------------------------------------

    def set_stock(
        self, gpu_id: str, count: int, data_center: str | None, cloud: str | None
    ) -> list[Offer]:
        """Set free GPUs; naming a data center creates the offer if it is missing."""
        model = self.gpus[gpu_id]
        clouds = [cloud] if cloud else [c for c in CLOUDS if model.clouds[c]]
        changed = []
        for each_cloud in clouds:
            if data_center:
                key = (gpu_id, data_center, each_cloud)
                if key not in self.offers:
                    self.offers[key] = Offer(
                        gpu_id, data_center, each_cloud, 0, model.cuda_versions
                    )
                targets = [self.offers[key]]
            else:
                targets = self.offers_for(gpu_id, each_cloud)
            for offer in targets:
                offer.stock = count
                changed.append(offer)
        return changed

    def set_price(self, gpu_id: str, prices: dict[str, float]) -> GpuModel:
        """Change list prices; pricing an unpriced type on both clouds lists it."""
        model = self.gpus.get(gpu_id) or self.unpriced[gpu_id]
        model.price.update(prices)
        for cloud, value in prices.items():
            model.clouds[cloud] = model.clouds[cloud] or value is not None
        if gpu_id in self.unpriced and model.priced:
            self.gpus[gpu_id] = self.unpriced.pop(gpu_id)
            self.seed_offers(model)
        return model
