"""The rules createPod and updatePod enforce beyond the JSON Schema (all 400s).

Each check raises `HttpError`; the wording says what to change.
"""

from __future__ import annotations

import re
from typing import Any

from .._http import HttpError

PORT = re.compile(r"^(\d{1,5})/(http|tcp)$")


def bad_request(detail: str) -> HttpError:
    return HttpError(400, detail)


def check_ports(ports: list[str] | None) -> None:
    for entry in ports or []:
        found = PORT.match(entry)
        if not found or not 1 <= int(found.group(1)) <= 65535:
            raise bad_request(
                f"port {entry!r} is invalid: use '<port>/http' or '<port>/tcp'"
            )
    numbers = [entry.partition("/")[0] for entry in ports or []]
    if len(numbers) != len(set(numbers)):
        raise bad_request("each port may be exposed only once")


def check_create(body: dict[str, Any]) -> None:
    has_gpu, has_cpu = "gpu" in body, "cpu" in body
    if has_gpu == has_cpu:
        raise bad_request("exactly one of gpu or cpu must be set")
    mounts = body.get("mounts") or {}
    if "persistent" in mounts and "network" in mounts:
        raise bad_request("mounts.persistent and mounts.network cannot both be set")
    if has_cpu and "persistent" in mounts:
        raise bad_request("mounts.persistent is not allowed on CPU pods")
    if mounts.get("network") == []:
        raise bad_request("mounts.network must not be empty")
    gpu = body.get("gpu") or {}
    if gpu.get("allowedCudaVersions") and "minCudaVersion" in gpu:
        raise bad_request(
            "gpu.allowedCudaVersions and gpu.minCudaVersion are mutually exclusive"
        )
    check_ports(body.get("ports"))


def check_update(current: dict[str, Any], body: dict[str, Any]) -> None:
    """`current` is the pod's mounts; mount kind and volume id are fixed."""
    check_ports(body.get("ports"))
    mounts = body.get("mounts")
    if not mounts:
        return  # omitted or {} leaves the mounts unchanged
    if "persistent" in mounts and "network" in mounts:
        raise bad_request("mounts.persistent and mounts.network cannot both be set")
    if mounts.get("network") == []:
        raise bad_request("clearing mounts is not supported (network: [])")
    for kind in mounts:
        if kind not in current:
            raise bad_request(f"mount kind {kind!r} is fixed at create and was not set")
    if "network" in mounts:
        before = current["network"][0]["volumeId"]
        if mounts["network"][0]["volumeId"] != before:
            raise bad_request("the volumeId of a network mount cannot change")
