"""The ``providers.northflank`` block to deploy options (see ``_translate``)."""

from __future__ import annotations

from typing import Any

from ._translate import NORTHFLANK_GPUS, Translation, _pick, _workspace

WHERE = "providers.northflank"
_REFUSED = {
    "registryCredentials": "private registries are not used here; use a public "
    "image in deployment.image",
    "healthCheck": "health checks are not sent by this library yet; the deploy "
    "waits until the service's ports answer instead",
}


def northflank(
    block: dict[str, Any], deployment: dict[str, Any], result: Translation
) -> None:
    for field, reason in _REFUSED.items():
        if field in block:
            raise result.refuse(f"{WHERE}.{field}", "{...}", reason)
    _instances(block, result)
    result.set("--project", block["projectName"], f"{WHERE}.projectName")
    if "serviceName" in block:
        result.set("--name", block["serviceName"], f"{WHERE}.serviceName")
    if "region" in block:
        result.set("--region", block["region"], f"{WHERE}.region")
    _size(block, deployment, result)
    _gpu(block, deployment, result)
    size, path = _workspace(deployment, result)
    volume, source = _pick(
        result, block, "volumeSizeGb", WHERE, size, "deployment.volumes.workspace.size"
    )
    result.set("--volume", 10 if volume is None else volume, source or WHERE)
    if volume is not None and 0 < volume < 10:
        raise result.refuse(source, volume, "the smallest volume here is 10 GB")
    mount, source = _pick(
        result,
        block,
        "volumeMountPath",
        WHERE,
        path,
        "deployment.volumes.workspace.path",
    )
    result.set("--volume-path", mount or "/workspace", source or WHERE)
    if "ports" in block:
        result.set("--ports", _ports(block["ports"], result), f"{WHERE}.ports")


def _instances(block: dict[str, Any], result: Translation) -> None:
    instances = block.get("instances", 1)
    if instances == 0:
        raise result.refuse(
            f"{WHERE}.instances",
            0,
            "a paused deploy is not made here; deploy, then stop",
        )
    if instances > 1:
        raise result.refuse(
            f"{WHERE}.instances",
            instances,
            "a deployment here is one instance (a volume attaches to one)",
        )
    scaling = block.get("autoScaling") or {}
    low, high = scaling.get("minInstances", 1), scaling.get("maxInstances", 3)
    if low > high:
        raise result.refuse(
            f"{WHERE}.autoScaling.minInstances",
            low,
            f"it is more than maxInstances ({high})",
        )
    if scaling.get("enabled"):
        raise result.refuse(
            f"{WHERE}.autoScaling.enabled",
            True,
            "a deployment here is one instance (a volume attaches to one)",
        )
    if scaling:
        result.unused.append(f"{WHERE}.autoScaling (not enabled)")


def _size(
    block: dict[str, Any], deployment: dict[str, Any], result: Translation
) -> None:
    resources = deployment.get("resources") or {}
    if "computePlan" in block:
        result.set("--plan", block["computePlan"], f"{WHERE}.computePlan")
        for field in ("cpus", "memory"):
            if field in resources:
                result.notes.append(
                    f"{WHERE}.computePlan wins over deployment.resources.{field}."
                )
        return
    if "cpus" in resources:
        result.set("--cpu", resources["cpus"], "deployment.resources.cpus")
    if "memory" in resources:
        memory = resources["memory"].replace("GB", "G").replace("MB", "M")
        result.set("--memory", memory, "deployment.resources.memory")


def _gpu(
    block: dict[str, Any], deployment: dict[str, Any], result: Translation
) -> None:
    gpu = (deployment.get("resources") or {}).get("gpu") or {}
    if "gpuType" not in block:
        if "gpuCount" in block:
            raise result.refuse(
                f"{WHERE}.gpuCount", block["gpuCount"], "it needs gpuType"
            )
        if gpu.get("enabled"):
            raise result.refuse(
                "deployment.resources.gpu.enabled",
                True,
                f"name the Northflank GPU with {WHERE}.gpuType (e.g. nvidia-l4)",
            )
        result.notes.append("No gpuType: this is a CPU service.")
        return
    wanted = block["gpuType"]
    result.set("--gpu", NORTHFLANK_GPUS.get(wanted.lower(), wanted), f"{WHERE}.gpuType")
    if "memory" in gpu or "tier" in gpu:
        result.unused.append("deployment.resources.gpu tier and memory (gpuType wins)")
    count, source = _pick(
        result,
        block,
        "gpuCount",
        WHERE,
        gpu.get("count"),
        "deployment.resources.gpu.count",
    )
    result.set("--count", count or 1, source or WHERE)


def _ports(ports: list[dict[str, Any]], result: Translation) -> str:
    entries = []
    for index, port in enumerate(ports):
        path = f"{WHERE}.ports[{index}]"
        protocol = port.get("protocol", "HTTP")
        public = port.get("public", False)
        number = port["internalPort"]
        if protocol == "UDP":
            raise result.refuse(f"{path}.protocol", "UDP", "only HTTP and TCP ports")
        if protocol == "HTTP" and not public:
            raise result.refuse(
                f"{path}.public", False, "HTTP ports are public here; use TCP"
            )
        if protocol == "TCP" and public:
            raise result.refuse(
                f"{path}.public", True, "Northflank makes only HTTP ports public"
            )
        entries.append(f"{number}/{protocol.lower()}")
        result.notes.append(
            f"{path}.name {port['name']!r}: ports are named p<port> (http) or "
            "t<port> (tcp) here."
        )
    return ",".join(entries)
