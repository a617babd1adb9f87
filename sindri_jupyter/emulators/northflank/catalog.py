"""Northflank's plans and regions, as the emulator serves them.

Both come from the bundled snapshots (`northflank-plans.json`,
`northflank-gpus.json`), reshaped into the `/v1/plans` and `/v1/regions`
payloads the schemas describe. The region a project lives in decides which
GPU types and counts its services may ask for, so the lookups live here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from .._validation import load_bundled

PLANS_FILE = "northflank-plans.json"
GPUS_FILE = "northflank-gpus.json"
MEBIBYTES_PER_GIBIBYTE = 1024


@dataclass(frozen=True)
class GpuDevice:
    """One GPU model as a region offers it."""

    id: str
    name: str
    manufacturer: str
    memory_mebibytes: int
    count_options: tuple[int, ...]
    on_demand_cents: float

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "manufacturer": self.manufacturer,
            "memoryInfo": {"sizeInMiB": self.memory_mebibytes},
            "countOptions": list(self.count_options),
            "pricing": {"onDemand": self.on_demand_cents},
        }


@dataclass(frozen=True)
class Region:
    """A managed-cloud region and the GPU devices it offers."""

    id: str
    name: str
    group: str
    cloud: str
    cloud_region: str
    gpu_devices: tuple[GpuDevice, ...]

    def gpu(self, gpu_type: str) -> GpuDevice | None:
        return next(
            (device for device in self.gpu_devices if device.id == gpu_type), None
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "regionName": self.group,
            "provider": {"id": self.cloud, "region": self.cloud_region},
            "gpuDevices": [device.as_json() for device in self.gpu_devices],
        }


@cache
def plans() -> tuple[dict[str, Any], ...]:
    """The `/v1/plans` items, in the snapshot's order."""
    snapshot = load_bundled(PLANS_FILE)
    currency = snapshot.get("currency", "usd")
    return tuple(
        {
            "id": plan["id"],
            "name": plan["id"],
            "currency": currency,
            "amountPerMonth": plan["usdPerMonth"],
            "amountPerHour": plan["usdPerHour"],
            "cpuResource": plan["cpu"],
            "ramResource": plan["memoryMb"],
        }
        for plan in snapshot["plans"]
    )


def plan(plan_id: str) -> dict[str, Any] | None:
    return next((item for item in plans() if item["id"] == plan_id), None)


@cache
def regions() -> tuple[Region, ...]:
    """Every region of the snapshot; GPU devices keep the snapshot's GPU order."""
    snapshot = load_bundled(GPUS_FILE)
    found = []
    for entry in snapshot["regions"]:
        # The snapshot rounds VRAM to whole GiB; MiB is all the API reports.
        devices = tuple(
            GpuDevice(
                id=gpu["gpuType"],
                name=gpu["name"],
                manufacturer=gpu["manufacturer"],
                memory_mebibytes=int(gpu["vramGb"]) * MEBIBYTES_PER_GIBIBYTE,
                count_options=tuple(int(count) for count in gpu["countOptions"]),
                on_demand_cents=gpu["onDemandUsCentsPerHour"],
            )
            for gpu in snapshot["gpus"]
            if entry["id"] in gpu["regions"]
        )
        cloud, _, cloud_region = entry["provider"].partition("/")
        found.append(
            Region(
                entry["id"],
                entry["name"],
                entry["regionName"],
                cloud,
                cloud_region,
                devices,
            )
        )
    return tuple(found)


def region(region_id: str) -> Region | None:
    return next((item for item in regions() if item.id == region_id), None)
