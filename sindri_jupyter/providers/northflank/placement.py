"""Where a Northflank deploy goes, and the create request that puts it there.

Project, region and plan are decided (and every refusal raised) before anything
is created. Nothing here sends a request: ``provider.py`` reads the catalog and
the project, then sends what is built here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..._errors import InputError
from ..._models import DeploySpec, GpuOffer
from .._base import Candidate, Launch
from . import mapping
from .catalog import Catalog

DEFAULT_PORTS = ("8888/http",)
DEFAULT_PROJECT = "sindri"


@dataclass
class Placement:
    """Where a deploy goes, decided before anything is created."""

    project_id: str
    project_name: str
    region: str | None
    new_project: bool
    plan_id: str
    notes: list[str] = field(default_factory=list)


def project_name(spec: DeploySpec) -> str:
    return spec.project or DEFAULT_PROJECT


def single_gpu(spec: DeploySpec, gpus: list[GpuOffer]) -> GpuOffer | None:
    """The one GPU type asked for, or None for a CPU service."""
    if len(gpus) > 1:
        raise InputError(
            "--gpu takes one GPU type on northflank (its regions differ).",
            option="--gpu",
            value=spec.gpu,
        )
    return gpus[0] if gpus else None


def place(
    spec: DeploySpec,
    catalog: Catalog,
    gpu: GpuOffer | None,
    existing: dict[str, Any] | None,
) -> Placement:
    """Decide region and plan for the spec's project (``existing``: as read)."""
    project = project_name(spec)
    region, notes = choose_region(spec, catalog, gpu, project, existing)
    if gpu is not None:
        options = catalog.device(region or "", gpu.id).count_options  # type: ignore[union-attr]
        if spec.gpu_count not in options:
            allowed = ", ".join(str(c) for c in options)
            raise InputError(
                f"--count {spec.gpu_count} is not offered for {gpu.id} in "
                f"{region}: choose one of {allowed}.",
                option="--count",
                value=spec.gpu_count,
            )
    plan = catalog.choose_plan(
        named=spec.plan, cpu=spec.cpu, memory_mb=spec.memory_mb, gpu=bool(gpu)
    )
    return Placement(
        mapping.slug(project), project, region, existing is None, plan.id, notes
    )


def choose_region(
    spec: DeploySpec,
    catalog: Catalog,
    gpu: GpuOffer | None,
    project: str,
    existing: dict[str, Any] | None,
) -> tuple[str | None, list[str]]:
    """The region (None: the API's default) and a sentence on why it was chosen."""
    if spec.region:
        catalog.check_region(spec.region, "--region")
    offering = catalog.offering(gpu.id) if gpu else list(catalog.regions)
    where = ", ".join(offering)
    if existing is not None:
        region = (existing.get("deployment") or {}).get("region")
        if spec.region and spec.region != region:
            raise InputError(
                f"--region {spec.region} does not match project {project!r}, "
                f"which is in {region}; a project's region is fixed, so choose "
                "another --project.",
                option="--region",
                value=spec.region,
            )
        if gpu and region not in offering:
            raise InputError(
                f"--gpu {gpu.id} is not offered in {region}, the region of "
                f"project {project!r}; regions that offer it: {where}. Use a new "
                "--project with --region set to one of them.",
                option="--gpu",
                value=gpu.id,
            )
        return region, [f"Using project {project!r} in {region}."]
    default = spec.default_region
    if spec.region:
        region, why = spec.region, "--region"
    elif default and (gpu is None or default in offering):
        region, why = default, "the configured default"
    elif gpu:
        region, why = offering[0], f"the first region that offers {gpu.id}"
    else:
        region, why = None, "the API's default region"
    if gpu and region not in offering:
        raise InputError(
            f"--region {region} does not offer {gpu.id}; regions that do: {where}.",
            option="--region",
            value=region,
        )
    said = f"in {region} ({why})" if region else f"in {why}"
    return region, [f"Creating project {project!r} {said}."]


def candidate(
    spec: DeploySpec,
    launch: Launch,
    gpu: GpuOffer | None,
    placement: Placement,
    catalog: Catalog,
) -> Candidate:
    """The one create request, with its price estimate and the volume to add."""
    service_id = mapping.slug(spec.name)
    volume = f"{service_id[:34]}-data" if spec.volume_gb else None
    body = create_body(spec, launch, gpu, placement.plan_id, volume)
    price = catalog.hourly(
        plan_id=placement.plan_id,
        region_id=placement.region,
        gpu_type=gpu.id if gpu else None,
        gpu_count=spec.gpu_count,
        instances=1,
    )
    plan = catalog.plans[placement.plan_id]
    cost = f"plan {plan.id} ${plan.dollars_per_hour}/h"
    if gpu:
        each = catalog.gpu_dollars(placement.region, gpu.id)
        cost += f" + {spec.gpu_count} × {gpu.id} ${each:.2f}/h"
    notes = [
        *placement.notes,
        (
            f"Estimate: 1 instance × ({cost}) = ${price:.2f}/h; volumes and egress "
            "are extra."
        ),
    ]
    extra = {"placement": placement, "launch_id": launch.launch_id}
    if volume:
        extra["volume"] = {
            "name": volume,
            "mounts": [{"containerMountPath": spec.volume_path}],
            "spec": {
                "accessMode": "ReadWriteOnce",
                "storageSize": spec.volume_gb * 1024,  # type: ignore[operator]
            },
            "attachedObjects": [{"id": service_id, "type": "service"}],
        }
    label = gpu.id if gpu else placement.plan_id
    return Candidate(label, body, price, notes=notes, extra=extra)


def create_body(
    spec: DeploySpec,
    launch: Launch,
    gpu: GpuOffer | None,
    plan_id: str,
    volume: str | None,
) -> dict[str, Any]:
    """The deployment service's create body, stamped with the launch."""
    environment = dict(spec.env)
    environment[mapping.LAUNCH_ENV] = launch.launch_id
    environment[mapping.NAME_ENV] = launch.name
    if launch.jupyter_password:
        environment.setdefault(mapping.TOKEN_ENV, launch.jupyter_password)
    deployment: dict[str, Any] = {
        "instances": 1,
        "external": {"imagePath": spec.image},
        "docker": {"configType": "default"},
    }
    if spec.disk_gb:
        deployment["storage"] = {
            "ephemeralStorage": {"storageSize": spec.disk_gb * 1024}
        }
    if gpu:
        deployment["gpu"] = {
            "enabled": True,
            "configuration": {"gpuType": gpu.id, "gpuCount": spec.gpu_count},
        }
    return {
        "name": spec.name,
        "description": mapping.description(launch.launch_id, volume),
        "billing": {"deploymentPlan": plan_id},
        "deployment": deployment,
        "ports": _ports(spec),
        "runtimeEnvironment": environment,
    }


def _ports(spec: DeploySpec) -> list[dict[str, Any]]:
    ports = []
    for entry in spec.ports if spec.ports is not None else DEFAULT_PORTS:
        number, _, kind = entry.partition("/")
        http = kind == "http"
        ports.append(
            {
                "name": f"{'p' if http else 't'}{number}",
                "internalPort": int(number),
                "protocol": "HTTP" if http else "TCP",
                "public": http,
            }
        )
    return ports
