"""Volumes: create, list, get, delete, attach to and detach from a service.

A mixin of `NorthflankApp`. A volume holds one service at most (only
`ReadWriteOnce` is generally available), and that service may run one
instance only. Attaching or detaching restarts the service's containers.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .._http import HttpError, Request, Response, Route
from .contract import json_body, page, slug, validated
from .model import DEPLOYING, Project, Service, Volume

if TYPE_CHECKING:
    from .app import NorthflankApp

    _Base = NorthflankApp
else:
    _Base = object


def ok(data: Any = None) -> Response:
    return Response.json(200, {"data": {} if data is None else data})


class VolumeRoutes(_Base):
    """Route handlers for `/v1/projects/{projectId}/volumes/...`."""

    def volume_routes(self, project: str) -> list[Route]:
        volumes = project + "/volumes"
        volume = volumes + "/{volumeId}"
        return [
            Route("GET", volumes, self.list_volumes),
            Route("POST", volumes, self.create_volume),
            Route("GET", volume, self.get_volume),
            Route("DELETE", volume, self.delete_volume),
            Route("POST", volume + "/attach", self.attach_volume),
            Route("POST", volume + "/detach", self.detach_volume),
        ]

    def volume(self, request: Request) -> tuple[Project, Volume]:
        project = self.project(request)
        volume_id = request.params["volumeId"]
        found = project.volumes.get(volume_id)
        if found is None:
            raise HttpError(
                404, f"Volume {volume_id!r} not found in project {project.id!r}."
            )
        return project, found

    def attachable(self, project: Project, target: Any) -> Service:
        """The service an `{id, type}` object names, if a volume may join it."""
        if not isinstance(target, dict) or not isinstance(target.get("id"), str):
            raise HttpError(400, "Name the object to attach as {id, type: service}.")
        if target.get("type") != "service":
            raise HttpError(404, f"Job {target['id']!r} not found: only services here.")
        service = project.services.get(target["id"])
        if service is None:
            raise HttpError(404, f"Service {target['id']!r} not found.")
        if int(service.deployment.get("instances", 0)) > 1:
            raise HttpError(
                400,
                f"Service {service.id!r} runs several instances; a volume needs one.",
            )
        return service

    def check_mounts(self, mounts: list[dict]) -> None:
        paths = [mount["containerMountPath"] for mount in mounts]
        if not paths:
            raise HttpError(400, "A volume needs at least one mount.")
        if len(set(paths)) != len(paths):
            raise HttpError(400, "containerMountPaths must be unique.")
        for path in paths:
            if not path.startswith("/"):
                raise HttpError(400, f"Mount path {path!r} must be absolute.")

    def create_volume(self, request: Request) -> Response:
        project = self.project(request)
        body = validated(request, "CreateVolumeData")
        volume_id = slug(body["name"])
        if not volume_id:
            raise HttpError(400, "The volume name must contain letters or digits.")
        if volume_id in project.volumes:
            raise HttpError(
                409, f"There is already a volume with the identifier {volume_id!r}."
            )
        if body["spec"]["accessMode"] != "ReadWriteOnce":
            raise HttpError(400, "Only the ReadWriteOnce access mode is available.")
        self.check_mounts(body["mounts"])
        targets = list(body.get("attachedObjects") or [])
        if body.get("owningObject"):
            targets.append(body["owningObject"])
        if len(targets) > 1:
            raise HttpError(400, "A ReadWriteOnce volume attaches to one object only.")
        service = self.attachable(project, targets[0]) if targets else None
        volume = Volume(
            id=volume_id,
            name=body["name"],
            project_id=project.id,
            mounts=copy.deepcopy(body["mounts"]),
            spec=copy.deepcopy(body["spec"]),
            created=request.now,
            updated=request.now,
        )
        project.volumes[volume_id] = volume
        if service is not None:
            self.join(request, volume, service)
        return ok(volume.as_json())

    def list_volumes(self, request: Request) -> Response:
        project = self.project(request)
        entries = [volume.as_json() for volume in project.volumes.values()]
        return Response.json(200, page(request, "volumes", entries))

    def get_volume(self, request: Request) -> Response:
        _, volume = self.volume(request)
        return ok(volume.as_json())

    def delete_volume(self, request: Request) -> Response:
        project, volume = self.volume(request)
        if volume.attached_to:
            raise HttpError(
                409,
                f"Volume {volume.id!r} is attached to {volume.attached_to!r}; "
                "detach it first.",
            )
        del project.volumes[volume.id]
        return ok()

    def attach_volume(self, request: Request) -> Response:
        project, volume = self.volume(request)
        # The attach body is not in the bundled schemas; this is the SDK's
        # `nfObject` form (unconfirmed against the live API).
        target = json_body(request).get("nfObject")
        service = self.attachable(project, target)
        if volume.attached_to == service.id:
            raise HttpError(409, f"Volume {volume.id!r} is already attached there.")
        if volume.attached_to:
            raise HttpError(
                409, f"Volume {volume.id!r} is attached to {volume.attached_to!r}."
            )
        self.join(request, volume, service)
        return ok()

    def detach_volume(self, request: Request) -> Response:
        project, volume = self.volume(request)
        if not volume.attached_to:
            raise HttpError(409, f"Volume {volume.id!r} is not attached.")
        target = json_body(request, required=False).get("nfObject")
        if target and target.get("id") != volume.attached_to:
            raise HttpError(
                409, f"Volume {volume.id!r} is not attached to {target.get('id')!r}."
            )
        service = project.services[volume.attached_to]
        service.volumes.remove(volume.id)
        volume.attached_to = None
        volume.updated = request.now
        self.restart_for_storage(request, service)
        return ok()

    def join(self, request: Request, volume: Volume, service: Service) -> None:
        volume.attached_to = service.id
        volume.updated = request.now
        service.volumes.append(volume.id)
        self.restart_for_storage(request, service)

    def restart_for_storage(self, request: Request, service: Service) -> None:
        """Mounts change only in new containers, so the service redeploys."""
        if service.paused:
            return
        self.replace_containers(service, fresh_filesystem=True)
        self.start_rollout(request, service, DEPLOYING)
