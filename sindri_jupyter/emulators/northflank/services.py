"""Deployment services: create, read, change, pause, resume, scale, delete.

A mixin of `NorthflankApp`. Every refusal is decided before state changes, so
a refused request leaves nothing behind.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .._http import HttpError, Request, Response, Route
from .checks import check_config, check_ports
from .contract import flag, page, slug, validated
from .model import (
    COMPLETED,
    DEPLOYING,
    FAILED,
    IN_PROGRESS,
    SCALING,
    Project,
    Rollout,
    Service,
)

if TYPE_CHECKING:
    from .app import NorthflankApp

    _Base = NorthflankApp
else:
    _Base = object

# Merged key by key on PATCH; everything else a PATCH names is replaced whole.
MERGED_SECTIONS = ("billing", "deployment")


def ok(data: Any = None) -> Response:
    return Response.json(200, {"data": {} if data is None else data})


class ServiceRoutes(_Base):
    """Route handlers for `/v1/projects/{projectId}/services/...`."""

    def service_routes(self, project: str) -> list[Route]:
        services = project + "/services"
        deployments = services + "/deployment"
        service = services + "/{serviceId}"
        return [
            Route("GET", services, self.list_services),
            Route("POST", deployments, self.create_service),
            Route("PUT", deployments, self.upsert_service),
            Route("PATCH", deployments + "/{serviceId}", self.patch_service),
            Route("GET", service, self.get_service),
            Route("DELETE", service, self.delete_service),
            Route("POST", service + "/pause", self.pause_service),
            Route("POST", service + "/resume", self.resume_service),
            Route("POST", service + "/scale", self.scale_service),
            Route("POST", service + "/restart", self.restart_service),
            Route("GET", service + "/deployment", self.get_deployment),
            Route("POST", service + "/deployment", self.update_deployment),
            Route("GET", service + "/ports", self.get_ports),
            Route("POST", service + "/ports", self.update_ports),
            Route("GET", service + "/containers", self.list_containers),
            Route("GET", service + "/runtime-environment", self.get_environment),
            Route("POST", service + "/runtime-environment", self.update_environment),
        ]

    # -- lookups and rollouts ------------------------------------------------

    def service(self, request: Request) -> tuple[Project, Service]:
        project = self.project(request)
        service_id = request.params["serviceId"]
        found = project.services.get(service_id)
        if found is None:
            raise HttpError(
                404, f"Service {service_id!r} not found in project {project.id!r}."
            )
        return project, found

    def start_rollout(self, request: Request, service: Service, reason: str) -> None:
        """Begin a rollout; the `stuck` and `deployment-failed` faults shape its end."""
        outcome = COMPLETED
        if request.fault("stuck"):
            outcome = IN_PROGRESS
        elif request.fault("deployment-failed"):
            outcome = FAILED
        timings = self.timings
        if reason == DEPLOYING:
            pending, running = timings.pending, timings.deploying
        else:
            pending, running = 0.0, timings.scaling
        service.rollout = Rollout(reason, request.now, pending, running, outcome)
        service.updated = request.now

    def replace_containers(self, service: Service, *, fresh_filesystem: bool) -> None:
        """New containers; their filesystem starts empty unless a volume holds it."""
        service.container_generation += 1
        service.container_token = self.ids.token(10)
        if fresh_filesystem and not service.volumes:
            service.filesystem_generation += 1

    # -- checks --------------------------------------------------------------

    def check_image(self, request: Request) -> None:
        if request.fault("image-unverified"):
            raise HttpError(400, "Unable to verify external image.")

    def ports_from(
        self, request: Request, wanted: list[dict], existing: list[dict]
    ) -> list[dict[str, Any]]:
        """Stored ports: known ones keep their id and DNS timing, new ones start it."""
        by_id = {port["id"]: port for port in existing}
        by_name = {port["name"]: port for port in existing}
        stored = []
        for port in wanted:
            if port.get("id") is not None and port["id"] not in by_id:
                raise HttpError(400, f"Port id {port['id']!r} does not exist.")
            kept = by_id.get(port.get("id")) or by_name.get(port["name"])
            entry = copy.deepcopy(port)
            entry["id"] = kept["id"] if kept else f"p-{self.ids.token(10)}"
            dns_at = request.now + timedelta(seconds=self.timings.dns)
            entry["_dns_at"] = kept["_dns_at"] if kept else dns_at
            stored.append(entry)
        return stored

    def volumes_to_attach(self, project: Project, config: dict) -> list[str]:
        names = (config.get("createOptions") or {}).get("volumesToAttach") or []
        found = []
        for name in names:
            volume = project.volumes.get(slug(name))
            if volume is None:
                raise HttpError(404, f"Volume {name!r} not found.")
            if volume.attached_to:
                raise HttpError(
                    409,
                    f"Volume {name!r} is already attached to {volume.attached_to!r}.",
                )
            found.append(volume.id)
        if found and config["deployment"]["instances"] > 1:
            raise HttpError(400, "A service with a volume can run one instance only.")
        return found

    # -- create, read, change ------------------------------------------------

    def create_service(self, request: Request) -> Response:
        project = self.project(request)
        config = validated(request, "CreateServiceDeploymentData")
        check_config(project, config)
        service_id = slug(config["name"])
        if service_id in project.services:
            raise HttpError(
                409,
                f"There is already a service with the same derived identifier "
                f"{service_id!r}.",
            )
        volumes = self.volumes_to_attach(project, config)
        self.check_image(request)
        service = Service(
            id=service_id,
            project_id=project.id,
            app_id=f"/{self.team}/{project.id}/{service_id}",
            config=config,
            region=project.region.id,
            cluster=project.cluster,
            created=request.now,
            updated=request.now,
            rollout=Rollout(DEPLOYING, request.now, 0, 0),
            dns_token=self.ids.token(12),
            container_token=self.ids.token(10),
        )
        service.ports = self.ports_from(request, config.get("ports") or [], [])
        service.resume_instances = int(config["deployment"]["instances"]) or 1
        for volume_id in volumes:
            project.volumes[volume_id].attached_to = service_id
            service.volumes.append(volume_id)
        self.start_rollout(request, service, DEPLOYING)
        project.services[service_id] = service
        return ok(service.echo(request.now))

    def upsert_service(self, request: Request) -> Response:
        project = self.project(request)
        config = validated(request, "CreateServiceDeploymentData")
        existing = project.services.get(slug(config["name"]))
        if existing is None:
            return self.create_service(request)
        check_config(project, config)
        self.apply(request, existing, config)
        return ok(existing.echo(request.now))

    def patch_service(self, request: Request) -> Response:
        project, service = self.service(request)
        patch = validated(request, "PatchServiceDeploymentData")
        config = copy.deepcopy(service.config)
        for key, value in patch.items():
            if key in MERGED_SECTIONS and isinstance(value, dict):
                config[key] = {**config.get(key, {}), **copy.deepcopy(value)}
            else:
                config[key] = copy.deepcopy(value)
        check_config(project, config)
        self.apply(request, service, config)
        return ok(service.echo(request.now))

    def apply(self, request: Request, service: Service, config: dict) -> None:
        """Take a whole new configuration; anything the containers see redeploys."""
        if service.volumes and config["deployment"]["instances"] > 1:
            raise HttpError(400, "A service with a volume can run one instance only.")
        if config["deployment"].get("external") != service.deployment.get("external"):
            self.check_image(request)
        old = service.config
        service.ports = self.ports_from(
            request, config.get("ports") or [], service.ports
        )
        service.config = config
        service.config["name"] = old["name"]
        if not service.paused:
            service.resume_instances = int(config["deployment"]["instances"]) or 1
        watched = ("deployment", "billing", "runtimeEnvironment", "runtimeFiles")
        changed = any(old.get(key) != config.get(key) for key in watched)
        if changed and not service.paused:
            self.replace_containers(service, fresh_filesystem=True)
            self.start_rollout(request, service, DEPLOYING)
        service.updated = request.now

    def list_services(self, request: Request) -> Response:
        project = self.project(request)
        entries = [item.list_view(request.now) for item in project.services.values()]
        return Response.json(200, page(request, "services", entries))

    def get_service(self, request: Request) -> Response:
        _, service = self.service(request)
        return ok(service.view(request.now))

    def get_deployment(self, request: Request) -> Response:
        _, service = self.service(request)
        return ok(service.deployment_view())

    def update_deployment(self, request: Request) -> Response:
        project, service = self.service(request)
        change = validated(request, "UpdateServiceDeploymentData")
        if "internal" in change:
            raise HttpError(404, f"Build service not found in project {project.id!r}.")
        config = copy.deepcopy(service.config)
        config["deployment"].update(copy.deepcopy(change))
        check_config(project, config)
        self.apply(request, service, config)
        return ok()

    def get_ports(self, request: Request) -> Response:
        _, service = self.service(request)
        return ok({"ports": service.port_views(request.now)})

    def update_ports(self, request: Request) -> Response:
        _, service = self.service(request)
        ports = validated(request, "UpdateServicePortsData")["ports"]
        check_ports(ports)
        # Replaces the whole list and does not restart the service.
        service.ports = self.ports_from(request, ports, service.ports)
        service.config["ports"] = copy.deepcopy(ports)
        service.updated = request.now
        return ok()

    def list_containers(self, request: Request) -> Response:
        _, service = self.service(request)
        containers = service.containers(request.now)
        return Response.json(200, page(request, "containers", containers))

    def get_environment(self, request: Request) -> Response:
        _, service = self.service(request)
        return ok(
            {
                "runtimeEnvironment": copy.deepcopy(
                    service.config.get("runtimeEnvironment", {})
                ),
                "runtimeFiles": copy.deepcopy(service.config.get("runtimeFiles", {})),
            }
        )

    def update_environment(self, request: Request) -> Response:
        _, service = self.service(request)
        change = validated(request, "UpdateServiceRuntimeenvironmentData")
        environment = change["runtimeEnvironment"]
        if not isinstance(environment, dict) or not all(
            isinstance(value, str) for value in environment.values()
        ):
            raise HttpError(400, "runtimeEnvironment must map names to strings.")
        config = copy.deepcopy(service.config)
        # The whole map is replaced: the reference advises always sending it all.
        config["runtimeEnvironment"] = copy.deepcopy(environment)
        if "runtimeFiles" in change:
            config["runtimeFiles"] = copy.deepcopy(change["runtimeFiles"])
        self.apply(request, service, config)
        return ok()

    # -- lifecycle actions ---------------------------------------------------

    def pause_service(self, request: Request) -> Response:
        _, service = self.service(request)
        if service.paused:
            raise HttpError(409, f"Service {service.id!r} is already paused.")
        service.resume_instances = int(service.deployment.get("instances", 1)) or 1
        service.paused = True
        self.replace_containers(service, fresh_filesystem=True)
        self.start_rollout(request, service, SCALING)
        return ok()

    def resume_service(self, request: Request) -> Response:
        _, service = self.service(request)
        body = validated(request, "ResumeServiceData", required=False)
        if not service.paused:
            raise HttpError(409, f"Service {service.id!r} is not paused.")
        instances = body.get("instances", service.resume_instances)
        self.check_instances(service, instances)
        service.config["deployment"]["instances"] = int(instances)
        service.paused = False
        # The filesystem was already discarded at pause; only containers are new.
        self.replace_containers(service, fresh_filesystem=False)
        self.start_rollout(request, service, DEPLOYING)
        return ok()

    def scale_service(self, request: Request) -> Response:
        project, service = self.service(request)
        body = validated(request, "ScaleServiceData", required=False)
        config = copy.deepcopy(service.config)
        if "instances" in body:
            self.check_instances(service, body["instances"])
        if "deploymentPlan" in body:
            config["billing"]["deploymentPlan"] = body["deploymentPlan"]
        for key in ("storage", "gracePeriodSeconds"):
            if key in body:
                config["deployment"][key] = copy.deepcopy(body[key])
        check_config(project, config)
        if service.paused:
            # A paused service keeps running nothing; resume brings this count.
            service.resume_instances = int(
                body.get("instances", service.resume_instances)
            )
            service.config = config
            return ok()
        restart = config != service.config
        if "instances" in body:
            config["deployment"]["instances"] = int(body["instances"])
        service.config = config
        if restart:
            self.replace_containers(service, fresh_filesystem=True)
        self.start_rollout(request, service, DEPLOYING if restart else SCALING)
        return ok()

    def check_instances(self, service: Service, instances: Any) -> None:
        if (
            not isinstance(instances, int | float)
            or instances != int(instances)
            or (instances < 0)
        ):
            raise HttpError(400, "instances must be a whole number >= 0.")
        if service.volumes and instances > 1:
            raise HttpError(400, "A service with a volume can run one instance only.")

    def restart_service(self, request: Request) -> Response:
        _, service = self.service(request)
        if service.paused:
            raise HttpError(
                409, f"Service {service.id!r} is paused; resume it instead."
            )
        self.replace_containers(service, fresh_filesystem=True)
        self.start_rollout(request, service, DEPLOYING)
        return ok()

    def delete_service(self, request: Request) -> Response:
        project, service = self.service(request)
        self.remove_service(project, service, flag(request, "delete_child_objects"))
        return ok()

    def remove_service(
        self, project: Project, service: Service, children: bool
    ) -> None:
        """Delete a service; its volumes go too with `children`, else they detach."""
        for volume_id in service.volumes:
            if children:
                project.volumes.pop(volume_id, None)
            elif volume_id in project.volumes:
                project.volumes[volume_id].attached_to = None
        del project.services[service.id]
