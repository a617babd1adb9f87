"""What a deployment service's configuration must satisfy beyond the schemas.

The schemas say which fields exist and their shapes; these checks say what
Northflank also refuses: unknown plans and tags, builds the emulator does not
run, GPUs the project's region does not offer, and clashing or private-only
ports made public.
"""

from __future__ import annotations

from typing import Any

from .._http import HttpError
from . import catalog
from .model import PUBLIC_PROTOCOLS, Project

MAX_PORT = 65535


def check_config(project: Project, config: dict[str, Any]) -> None:
    """What the schemas cannot say: plan, image, GPU, ports, tags."""
    plan_id = config["billing"]["deploymentPlan"]
    if catalog.plan(plan_id) is None:
        raise HttpError(400, f"Deployment plan {plan_id!r} does not exist.")
    # The emulator has no tag API, so no tag can exist yet.
    tags = config.get("tags") or []
    if tags:
        raise HttpError(400, f"Tag {tags[0]!r} does not exist; create it first.")
    deployment = config["deployment"]
    if "internal" in deployment:
        build = (deployment.get("internal") or {}).get("id", "")
        raise HttpError(
            404, f"Build service {build!r} not found in project {project.id!r}."
        )
    if "external" not in deployment:
        raise HttpError(
            400, "A deployment service needs deployment.external.imagePath."
        )
    check_gpu(project, config)
    check_ports(config.get("ports") or [])
    instances = deployment.get("instances")
    if instances != int(instances) or instances < 0:
        raise HttpError(400, "deployment.instances must be a whole number >= 0.")


def check_gpu(project: Project, config: dict[str, Any]) -> None:
    on_deployment = config["deployment"].get("gpu")
    on_billing = config.get("billing", {}).get("gpu")
    if on_deployment and on_billing and on_deployment != on_billing:
        raise HttpError(
            400, "billing.gpu and deployment.gpu disagree; send deployment.gpu only."
        )
    spec = on_deployment or on_billing
    if not spec or spec.get("enabled") is False:
        return
    configuration = spec.get("configuration")
    if not configuration:
        raise HttpError(400, "gpu.configuration.gpuType is required.")
    gpu_type = configuration["gpuType"]
    region = project.region
    device = region.gpu(gpu_type)
    if device is None:
        offered = ", ".join(item.id for item in region.gpu_devices) or "none"
        raise HttpError(
            400,
            f"GPU type {gpu_type!r} is not available in region {region.id!r} "
            f"(offered: {offered}).",
        )
    count = configuration.get("gpuCount", 1)
    if count not in device.count_options:
        options = ", ".join(str(option) for option in device.count_options)
        raise HttpError(
            400, f"gpuCount {count!r} is not offered for {gpu_type!r} ({options})."
        )
    if configuration.get("timesliced"):
        raise HttpError(400, "GPU timeslicing is only available on own clusters.")


def check_ports(ports: list[dict[str, Any]]) -> None:
    names: set[str] = set()
    numbers: set[Any] = set()
    for port in ports:
        name, number = port["name"].lower(), port["internalPort"]
        if name in names:
            raise HttpError(400, f"Port name {port['name']!r} is used twice.")
        if number in numbers:
            raise HttpError(400, f"Internal port {number!r} is used twice.")
        if number != int(number) or not 1 <= number <= MAX_PORT:
            raise HttpError(400, f"internalPort {number!r} is not a valid port.")
        if port.get("public") and port["protocol"] not in PUBLIC_PROTOCOLS:
            raise HttpError(
                400, f"Port {port['name']!r}: only HTTP and HTTP/2 can be public."
            )
        names.add(name)
        numbers.add(number)
