"""Northflank's plans and regions: GPU offers, plan choice and cost estimates.

Both catalogs come from the API (``GET /v1/plans`` and ``GET /v1/regions``);
prices change, so nothing here is bundled, but they are read once per process
and endpoint, as the reference advises, to spare the hourly request budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..._errors import InputError
from ..._models import GpuOffer

CENTS_PER_DOLLAR = 100
MEBIBYTES_PER_GIBIBYTE = 1024

#: what a service gets when neither --plan nor --cpu/--memory is given
DEFAULT_GPU_SIZE = (8.0, 32 * 1024)  # vCPU, MB: enough to feed one GPU
DEFAULT_CPU_SIZE = (2.0, 4 * 1024)


@dataclass(frozen=True)
class Plan:
    id: str
    cpu: float
    memory_mb: int
    dollars_per_hour: float

    def describe(self) -> str:
        memory = f"{self.memory_mb / 1024:g} GB"
        return f"{self.id} ({self.cpu:g} vCPU, {memory}, ${self.dollars_per_hour}/h)"


@dataclass(frozen=True)
class Device:
    """One GPU type as one region offers it."""

    id: str
    name: str
    memory_gb: float | None
    count_options: tuple[int, ...]
    cents_per_hour: float


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    devices: dict[str, Device] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    plans: dict[str, Plan]
    regions: dict[str, Region]

    @classmethod
    def from_api(cls, plans: dict[str, Any], regions: dict[str, Any]) -> Catalog:
        found_plans = {
            item["id"]: Plan(
                item["id"],
                float(item.get("cpuResource") or 0),
                int(item.get("ramResource") or 0),
                float(item.get("amountPerHour") or 0),
            )
            for item in plans.get("plans") or []
        }
        found_regions = {}
        for item in regions.get("regions") or []:
            devices = {}
            for gpu in item.get("gpuDevices") or []:
                memory = (gpu.get("memoryInfo") or {}).get("sizeInMiB")
                devices[gpu["id"]] = Device(
                    gpu["id"],
                    gpu.get("name") or gpu["id"],
                    memory / MEBIBYTES_PER_GIBIBYTE if memory else None,
                    tuple(int(c) for c in gpu.get("countOptions") or ()),
                    float((gpu.get("pricing") or {}).get("onDemand") or 0),
                )
            found_regions[item["id"]] = Region(
                item["id"], item.get("name") or item["id"], devices
            )
        return cls(found_plans, found_regions)

    # -- GPUs --------------------------------------------------------------------
    def offering(self, gpu_type: str) -> list[str]:
        """Ids of the regions that offer ``gpu_type``, in the API's order."""
        return [r.id for r in self.regions.values() if gpu_type in r.devices]

    def gpu_offers(self, provider: str) -> list[GpuOffer]:
        """One offer per GPU type, with its count options and regions."""
        offers: dict[str, GpuOffer] = {}
        for region in self.regions.values():
            for device in region.devices.values():
                price = device.cents_per_hour / CENTS_PER_DOLLAR
                offer = offers.get(device.id)
                if offer is None:
                    offers[device.id] = GpuOffer(
                        provider=provider,
                        id=device.id,
                        name=device.name,
                        memory_gb=device.memory_gb,
                        price_secure=price,
                        price_community=price,
                        max_count=max(device.count_options, default=None),
                        count_options=list(device.count_options),
                        regions=[region.id],
                    )
                else:
                    offer.regions.append(region.id)
        return list(offers.values())

    def device(self, region_id: str, gpu_type: str) -> Device | None:
        region = self.regions.get(region_id)
        return region.devices.get(gpu_type) if region else None

    def check_region(self, region_id: str, option: str) -> None:
        if region_id not in self.regions:
            known = ", ".join(self.regions)
            raise InputError(
                f"{option} {region_id!r} is not a Northflank region; known: {known}.",
                option=option,
                value=region_id,
            )

    # -- plans -------------------------------------------------------------------
    def choose_plan(
        self,
        *,
        named: str | None,
        cpu: float | None,
        memory_mb: int | None,
        gpu: bool,
    ) -> Plan:
        """The named plan, or the cheapest that fits --cpu/--memory."""
        if named:
            plan = self.plans.get(named)
            if plan is None:
                near = ", ".join(p.id for p in self.smallest_first()[:4])
                raise InputError(
                    f"--plan {named!r} is not a Northflank plan; smallest ones: "
                    f"{near} (`GET /v1/plans` lists all).",
                    option="--plan",
                    value=named,
                )
            return plan
        default_cpu, default_memory = DEFAULT_GPU_SIZE if gpu else DEFAULT_CPU_SIZE
        if cpu is None and memory_mb is None:
            cpu, memory_mb = default_cpu, default_memory
        wanted_cpu, wanted_memory = cpu or 0.0, memory_mb or 0
        for plan in self.smallest_first():
            if plan.cpu >= wanted_cpu and plan.memory_mb >= wanted_memory:
                return plan
        largest = self.smallest_first()[-1].describe() if self.plans else "none"
        raise InputError(
            f"No Northflank plan has {wanted_cpu:g} vCPU and "
            f"{wanted_memory / 1024:g} GB; the largest is {largest}. Lower --cpu "
            "or --memory.",
            option="--cpu",
            value=cpu,
        )

    def smallest_first(self) -> list[Plan]:
        return sorted(
            self.plans.values(),
            key=lambda p: (p.dollars_per_hour, p.cpu, p.memory_mb, p.id),
        )

    # -- cost --------------------------------------------------------------------
    def hourly(
        self,
        *,
        plan_id: str | None,
        region_id: str | None,
        gpu_type: str | None,
        gpu_count: int,
        instances: int,
    ) -> float:
        """instances × (plan + GPUs × GPU price), in US dollars an hour."""
        plan = self.plans.get(plan_id or "")
        per_instance = plan.dollars_per_hour if plan else 0.0
        if gpu_type:
            per_instance += gpu_count * self.gpu_dollars(region_id, gpu_type)
        return instances * per_instance

    def gpu_dollars(self, region_id: str | None, gpu_type: str) -> float:
        device = self.device(region_id or "", gpu_type)
        if device is None:  # region unknown: the type's price anywhere
            prices = [
                r.devices[gpu_type].cents_per_hour
                for r in self.regions.values()
                if gpu_type in r.devices
            ]
            return (prices[0] if prices else 0.0) / CENTS_PER_DOLLAR
        return device.cents_per_hour / CENTS_PER_DOLLAR
