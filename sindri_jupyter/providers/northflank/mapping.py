"""Northflank's answers in the library's terms: names, states, cost, addresses.

Nothing here sends a request; ``provider.py`` does the talking.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ..._errors import InputError
from ..._models import Connection, State
from .catalog import Catalog

NAME_RULE = (
    "3-54 characters; letters, digits, and single hyphens or spaces between "
    "them; starting with a letter"
)
_NAME = re.compile(r"^[a-zA-Z]((-|\s)?[a-zA-Z0-9]+((-|\s)[a-zA-Z0-9]+)*)?$")
#: how a service says it was made by this library, readable from list answers
MARKER = "sindri-jupyter launch"
_MARKED = re.compile(
    rf"{MARKER} (?P<launch>[0-9a-f]{{32}})(?:, volume (?P<volume>[a-z0-9-]+))?"
)
LAUNCH_ENV = "SINDRI_LAUNCH_ID"
NAME_ENV = "SINDRI_NAME"
TOKEN_ENV = "JUPYTER_TOKEN"
CLI = "northflank"


def check_name(value: str, option: str = "--name") -> str:
    """Northflank's documented service-name rule, checked before any request."""
    if not (3 <= len(value or "") <= 54 and _NAME.match(value)):
        raise InputError(
            f"{option} {value!r} breaks Northflank's naming rule: {NAME_RULE} "
            "(e.g. lab-gpu).",
            option=option,
            value=value,
        )
    return value


def slug(name: str) -> str:
    """The id Northflank derives from a name (``Lab GPU`` → ``lab-gpu``)."""
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")


def description(launch_id: str, volume: str | None) -> str:
    text = f"{MARKER} {launch_id}"
    return text + (f", volume {volume}" if volume else "")


def marked(remote: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(launch id, volume id)`` from the service's description."""
    found = _MARKED.search(remote.get("description") or "")
    if not found:
        return None, None
    return found.group("launch"), found.group("volume")


def as_remote(project: str, service: dict[str, Any]) -> dict[str, Any]:
    """A service answer with the library's id: ``<project>/<service>``."""
    return {
        **service,
        "id": f"{project}/{service['id']}",
        "serviceId": service["id"],
        "projectId": project,
    }


def is_id(text: str) -> bool:
    project, slash, service = text.partition("/")
    return bool(slash and project and service and "/" not in service)


def split_id(remote_id: str) -> tuple[str, str]:
    """``project/service`` → its two parts; anything else is not ours."""
    if not is_id(remote_id):
        raise InputError(
            f"{remote_id!r} is not a Northflank id: they read project/service.",
            option="id",
            value=remote_id,
        )
    project, _, service = remote_id.partition("/")
    return project, service


# -- state -------------------------------------------------------------------------
def state_of(remote: dict[str, Any]) -> tuple[State, str | None]:
    """One state from the deployment status and the paused flag (docs/states.md)."""
    deployment = remote.get("deployment") or {}
    rollout = (remote.get("status") or {}).get("deployment") or None
    status = (rollout or {}).get("status")
    paused = remote.get("servicePaused") or deployment.get("instances") == 0
    if paused:
        if status in ("PENDING", "IN_PROGRESS"):
            return State.STOPPED, "pausing"
        return State.STOPPED, "paused"
    if status == "FAILED":
        return State.FAILED, "the rollout failed"
    if status in ("PENDING", "IN_PROGRESS"):
        reason = (rollout or {}).get("reason") or "DEPLOYING"
        return State.PENDING, f"{reason.lower()} ({status.lower()})"
    if rollout is None:
        return State.PENDING, "no deployment status yet"
    if status != "COMPLETED":
        return State.PENDING, f"unknown status {status!r}"
    for port in remote.get("ports") or []:
        if port.get("public") and not port.get("dns"):
            return State.RUNNING, f"port {port.get('internalPort')} has no URL yet"
    return State.READY, None


def gpu_of(remote: dict[str, Any]) -> tuple[str | None, int]:
    spec = (remote.get("deployment") or {}).get("gpu") or {}
    if not spec or spec.get("enabled") is False:
        return None, 0
    configuration = spec.get("configuration") or {}
    return configuration.get("gpuType"), int(configuration.get("gpuCount") or 1)


def running_since(remote: dict[str, Any], state: State) -> datetime | None:
    """When the current rollout finished: the last time it started running."""
    if state not in (State.RUNNING, State.READY):
        return None
    rollout = (remote.get("status") or {}).get("deployment") or {}
    stamp = rollout.get("lastTransitionTime")
    try:
        since = datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
    except ValueError:
        return None
    # "Now" comes from the Date header, in whole seconds: read this the same way.
    return since.replace(microsecond=0) if since else None


def hourly_cost(remote: dict[str, Any], catalog: Catalog, state: State) -> float:
    """The estimate while it holds compute; a paused service bills none."""
    if state in (State.STOPPED, State.GONE, State.FAILED):
        return 0.0
    gpu, count = gpu_of(remote)
    return catalog.hourly(
        plan_id=(remote.get("billing") or {}).get("deploymentPlan"),
        region_id=(remote.get("deployment") or {}).get("region"),
        gpu_type=gpu,
        gpu_count=count,
        instances=int((remote.get("deployment") or {}).get("instances") or 1),
    )


# -- addresses -------------------------------------------------------------------
def connection(remote: dict[str, Any], state: State) -> Connection:
    if state not in (State.RUNNING, State.READY):
        why = "paused" if state is State.STOPPED else state.value
        return Connection(notes=[f"No addresses: the service is {why}."])
    project, service = remote["projectId"], remote["serviceId"]
    where = f"--projectId {project} --serviceId {service}"
    found = Connection(
        shell=f"{CLI} exec service {where}",
        port_forward=f"{CLI} forward service {where} --skipHostnames",
    )
    for port in remote.get("ports") or []:
        number = str(port.get("internalPort"))
        if port.get("dns"):
            found.http[number] = f"https://{port['dns']}"
        elif port.get("protocol") in ("TCP", "UDP") or not port.get("public"):
            found.tcp[number] = "private: reach it with the port-forward command"
    token = (remote.get("runtimeEnvironment") or {}).get(TOKEN_ENV)
    if "8888" in found.http and token:
        found.jupyter_url = f"{found.http['8888']}/lab?token={token}"
        found.secrets.append(token)
    found.notes.append(
        "The commands need Northflank's CLI: `npm install -g @northflank/cli`, "
        "then `northflank login`."
    )
    return found


# -- what actions lose -----------------------------------------------------------
def data_loss_warning(
    action: str, remote: dict[str, Any], *, delete_volumes: bool = False
) -> str | None:
    _, volume = marked(remote)
    if action in ("stop", "pause"):
        if volume:
            return (
                "Pausing discards the container's files; the volume "
                f"{volume} is kept (its storage still bills)."
            )
        return (
            "Pausing loses the files outside a volume, and this service has none: "
            "deploy with --volume to keep files across a pause, or destroy it if "
            "you are done with it."
        )
    if action == "destroy":
        goes = "the service and its container files"
        if volume and delete_volumes:
            return f"Destroying deletes {goes}, and its volume {volume}."
        if volume:
            return (
                f"Destroying deletes {goes}; its volume {volume} is kept and still "
                "bills (--delete-volumes deletes it too)."
            )
        return f"Destroying deletes {goes}."
    return None
