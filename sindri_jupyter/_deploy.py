"""Deploying: plan, place without duplicates, wait until reachable.

The rules that keep money safe:

- a launch is recorded in the local store before its create is sent;
- a create is sent at most once per candidate (GPU type, place);
- after a clear capacity refusal the next candidate the user allowed is tried;
- after an unclear outcome (timeout, dropped connection, 5xx, bad body) nothing is
  created again until a list by launch id shows no pod, twice;
- a wait that runs out leaves the deployment as it is and says so.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Any

from . import _guards, _ratelimit
from ._engine import ProgressCallback, Session
from ._errors import (
    AuthenticationError,
    CapacityError,
    DeploymentGoneError,
    InputError,
    ProviderError,
    TransportError,
    WaitTimeoutError,
)
from ._models import Deployment, DeployPlan, DeploySpec, GpuOffer, Progress, State
from ._redact import register_secret
from .providers._base import Candidate, Launch, Provider

logger = logging.getLogger("sindri_jupyter")

SETTLE_SECONDS = 3.0
POLL_SANDBOX = 0.25
POLL_REAL = 5.0


def new_launch(spec: DeploySpec) -> Launch:
    launch_id = uuid.uuid4().hex
    password = secrets.token_urlsafe(18)
    register_secret(password)
    return Launch(
        launch_id=launch_id,
        name=spec.name,
        remote_name=f"sindri-{spec.name}-{launch_id[:6]}",
        jupyter_password=password,
    )


async def _prepare(
    api: Provider,
    spec: DeploySpec,
    launch: Launch,
    *,
    offers: list[GpuOffer] | None = None,
) -> list[Candidate]:
    found = await _candidates(api, spec, launch, offers)
    # Guards ride in the create bodies (RunPod's in-pod watchdog) and say who
    # enforces them; the notes show before anything is created.
    said = _guards.apply(spec, found)
    for candidate in found:
        candidate.notes = [*candidate.notes, *said]
    return found


async def _candidates(
    api: Provider,
    spec: DeploySpec,
    launch: Launch,
    offers: list[GpuOffer] | None,
) -> list[Candidate]:
    if offers is None:
        offers = await api.gpu_offers(cloud=spec.cloud or "SECURE")
    wanted = [part.strip() for part in (spec.gpu or "").split(",") if part.strip()]
    if not wanted and not api.needs_gpu:
        return await api.prepare(spec, launch, [])
    if not wanted:
        raise InputError(
            "--gpu is required: name a GPU type, e.g. --gpu A100.", option="--gpu"
        )
    gpus = [api.resolve_gpu(text, offers, spec.cloud) for text in wanted]
    for gpu in gpus:
        if gpu.max_count is not None and spec.gpu_count > gpu.max_count:
            raise InputError(
                f"--count {spec.gpu_count} is more than {gpu.id} offers on one "
                f"machine ({gpu.max_count}).",
                option="--count",
                value=spec.gpu_count,
            )
        if gpu.price(spec.cloud) is None:
            raise InputError(
                f"--gpu {gpu.id!r} is not offered on the {spec.cloud or 'SECURE'} "
                "cloud; try --cloud community or another GPU.",
                option="--gpu",
                value=gpu.id,
            )
    # Where the catalog says a candidate is out of stock, try it last.
    stock_rank = {"NONE": 1}
    order = sorted(
        range(len(gpus)), key=lambda i: stock_rank.get(gpus[i].stock or "", 0)
    )
    return await api.prepare(spec, launch, [gpus[i] for i in order])


def check_capabilities(spec: DeploySpec) -> None:
    """Refuse what the provider cannot do, before any request."""
    from .providers import provider_class

    provider = provider_class(spec.provider)
    if spec.spot:
        provider.check_supported("use spot")
    if spec.stop_after_seconds is not None:
        provider.check_supported("set a server-side timer")


async def plan(session: Session, spec: DeploySpec) -> DeployPlan:
    """What a deploy would send (the dry run); nothing is created.

    Prices come from the kept catalog, so a dry run sends nothing. Only where
    no catalog was ever read is the provider's catalog read, once (a read; it
    creates nothing), and the plan says so.
    """
    from ._cost import prices

    check_capabilities(spec)
    cloud = spec.cloud or "SECURE"
    sheet = prices.kept_only(session, spec.provider, cloud)
    async with session.provider(spec.provider) as api:
        read_now = sheet is None
        if sheet is None:
            sheet = await prices.fetch(session, api, cloud)
        launch = new_launch(spec)
        candidates = await _prepare(api, spec, launch, offers=sheet.offers)
    first = candidates[0]
    label = sheet.label() + (
        " (read now: no prices were kept, so this dry run read the catalog once)"
        if read_now
        else ""
    )
    first.notes = [label + ".", *first.notes]
    gpu = first.body.get("gpu", {})
    return DeployPlan(
        provider=spec.provider,
        name=spec.name,
        launch_id=launch.launch_id,
        gpu_id=gpu.get("id") or first.label,
        gpu_count=spec.gpu_count,
        cloud=first.body.get("cloud"),
        price_per_hour=first.price_per_hour,
        candidates=[c.body for c in candidates],
        notes=list(first.notes),
    )


async def _check_name_free(session: Session, api: Provider, spec: DeploySpec) -> None:
    """Names are unique among live deployments; the provider's list is the truth.

    Where ids are unique (RunPod), one list request settles it, even when the
    local store was lost or a pod was deleted elsewhere. Where the provider itself
    refuses a second service of the same name (Northflank), the store suffices.
    """
    records = [r for r in session.store.records(spec.provider) if r.name == spec.name]
    taken = [r.remote_id or "pending" for r in records]
    if not api.reuses_ids:
        listed = [
            api.to_deployment(item, now=api.server_time())
            for item in await api.list_tagged()
        ]
        session.remind(listed)  # the list was read anyway: nothing more is sent
        live = [
            found.id
            for found in listed
            if found.state.is_live and found.name == spec.name
        ]
        for record in records:
            if record.remote_id and record.remote_id not in live:
                session._forget(spec.provider, record.remote_id)  # deleted elsewhere
        taken = live
    if taken:
        raise InputError(
            f"--name {spec.name!r} is taken by a live {spec.provider} deployment "
            f"(id {taken[0]}): choose another name, or destroy that one first.",
            option="--name",
            value=spec.name,
        )


async def deploy(
    session: Session, spec: DeploySpec, on_progress: ProgressCallback | None = None
) -> Deployment:
    """Create one deployment and, unless told not to, wait until it is reachable."""
    report = on_progress or (lambda _: None)
    check_capabilities(spec)
    from ._cost import prices

    async with session.provider(spec.provider) as api:
        launch = new_launch(spec)
        sheet = await prices.fetch(session, api, spec.cloud or "SECURE")
        candidates = await _prepare(api, spec, launch, offers=sheet.offers)
        await _check_name_free(session, api, spec)
        # A real deploy is a first command too: where it read no list (it
        # reads one only where ids are unique), it reminds of nothing.
        session.remind([])
        first = candidates[0]
        price = (
            f"${first.price_per_hour:.2f}/h"
            if first.price_per_hour
            else "price unknown"
        )
        report(
            Progress(
                phase="plan",
                message=f"Deploying {first.label} × "
                f"{spec.gpu_count} on {spec.provider} at {price}.",
            )
        )
        if not spec.ssh_public_key and api.supports("use SSH"):
            report(
                Progress(
                    phase="plan",
                    message=f"No SSH public key at "
                    f"{session.settings.ssh_key_path}: SSH will accept only the "
                    "keys registered with the provider (%config "
                    "Sindri.ssh_key_path names another).",
                )
            )
        for note in first.notes:
            report(Progress(phase="plan", message=note))
        limits = _guards.limits_of(spec)
        # The price is kept even without limits: limits given at a later start
        # turn the billed dollars into hours with it.
        details: dict[str, Any] = {"price": first.price_per_hour}
        if limits.any:
            details["guards"] = limits.as_dict()
        session.store.record_launch(spec.provider, launch.launch_id, spec.name, details)
        remote = await _place(session, api, launch, candidates, report)
        session.store.set_remote(spec.provider, launch.launch_id, remote["id"])
        if limits.any:
            session.guard_check().ensure_running()
        deployment = api.to_deployment(remote, now=api.server_time())
        report(
            Progress(
                phase="created",
                message=f"Created {deployment.id}.",
                state=deployment.state,
                deployment=deployment,
            )
        )
        if not spec.wait:
            return deployment
        return await wait_ready(session, api, deployment, spec.timeout_seconds, report)


async def _place(
    session: Session,
    api: Provider,
    launch: Launch,
    candidates: list[Candidate],
    report: ProgressCallback,
) -> dict:
    last_error: ProviderError | None = None
    for index, candidate in enumerate(candidates):
        try:
            return await api.create(candidate)
        except (CapacityError, AuthenticationError) as refusal:
            if isinstance(refusal, AuthenticationError) and refusal.status != 403:
                _abandon(session, api, launch)
                raise
            last_error = refusal
            more = index + 1 < len(candidates)
            report(
                Progress(
                    phase="placement",
                    message=f"No capacity for "
                    f"{candidate.label}"
                    + ("; trying the next choice." if more else "."),
                )
            )
        except TransportError as unclear:
            found = await _reconcile(session, api, launch, unclear, report)
            if found is not None:
                return found
            # A create still in flight could land later: sending another could
            # make two pods. The launch stays recorded; status adopts it by tag.
            raise TransportError(
                f"{unclear} No pod with launch id {launch.launch_id[:8]}… shows yet, "
                "and nothing more was sent. If it appears, `%sindri status` finds "
                "it by that id.",
                provider=api.name,
                status=unclear.status,
                detail=unclear.detail,
            ) from None
        except ProviderError:
            _abandon(session, api, launch)
            raise
    _abandon(session, api, launch)
    assert last_error is not None
    raise last_error


async def _reconcile(
    session: Session,
    api: Provider,
    launch: Launch,
    unclear: TransportError,
    report: ProgressCallback,
) -> dict | None:
    """After an unclear create: adopt the pod if it exists, else prove it does not."""
    report(
        Progress(
            phase="reconcile",
            message="The create's outcome is unknown; "
            "looking for the pod by its launch id before anything else.",
        )
    )
    for attempt in range(2):
        try:
            found = await api.find_by_launch(launch.launch_id)
        except ProviderError as error:
            raise TransportError(
                f"{unclear} Checking by launch id also failed ({error}); the launch "
                f"{launch.launch_id} is recorded and `%sindri status` will find it.",
                provider=api.name,
            ) from None
        if found:
            report(Progress(phase="reconcile", message=f"Found it: {found[0]['id']}."))
            return found[0]
        if attempt == 0:
            await session.clock.sleep(SETTLE_SECONDS)
    report(Progress(phase="reconcile", message="No pod was created."))
    return None


def _abandon(session: Session, api: Provider, launch: Launch) -> None:
    session.store.set_state(api.name, launch.launch_id, State.GONE.value)


async def wait_ready(
    session: Session,
    api: Provider,
    deployment: Deployment,
    timeout: float,
    report: ProgressCallback,
) -> Deployment:
    """Poll until settled; on timeout leave it as it is and raise with its details."""
    clock = session.clock
    started = clock.monotonic()
    server_start = deployment.as_of
    interval = POLL_SANDBOX if api.endpoint.sandbox else POLL_REAL
    pacer = api.pacer()  # None: the fixed interval above
    last_seen = (deployment.state, deployment.detail)
    changed = True
    while not deployment.state.is_settled:
        if clock.monotonic() - started >= timeout:
            raise WaitTimeoutError(
                _timeout_message(deployment, timeout), deployment=deployment
            )
        if pacer is not None:
            interval = pacer.next(settled=False, changed=changed)
        await clock.sleep(interval)
        try:
            with _ratelimit.background():
                remote = await api.get(deployment.id)
        except ProviderError as error:
            # The pod exists and bills: say so with its details, not a bare error.
            raise WaitTimeoutError(
                f"Following {deployment.provider}:{deployment.name} (id "
                f"{deployment.id}) failed: {error} It was left "
                f"{deployment.state.value} at ${deployment.cost_per_hour:.2f}/h; "
                "`%sindri status` follows it.",
                deployment=deployment,
            ) from None
        if remote is None:
            session._forget(api.name, deployment.id)
            raise DeploymentGoneError(
                f"{deployment.provider}:{deployment.name} (id {deployment.id}) was "
                "deleted while waiting for it.",
                deployment=deployment.model_copy(update={"state": State.GONE}),
            )
        deployment = api.to_deployment(remote, now=api.server_time())
        if (deployment.state, deployment.detail) != last_seen:
            elapsed = None
            if server_start and deployment.as_of:
                elapsed = (deployment.as_of - server_start).total_seconds()
            report(
                Progress(
                    phase="wait",
                    message=deployment.detail or deployment.state.value,
                    state=deployment.state,
                    elapsed_seconds=elapsed,
                    deployment=deployment,
                )
            )
            last_seen = (deployment.state, deployment.detail)
            changed = True
        else:
            changed = False
    return deployment


async def watch(
    session: Session,
    api: Provider,
    deployment: Deployment,
    seconds: float,
    report: ProgressCallback,
) -> Deployment:
    """Follow a deployment for ``seconds``, reporting each change of state.

    Polls are paced by the provider's budget where it has one: fast while the
    state moves, slow (a minute) while it holds still.
    """
    from ._ratelimit import Pacer

    clock = session.clock
    pacer = api.pacer() or Pacer.for_endpoint(None, sandbox=api.endpoint.sandbox)
    end = clock.monotonic() + seconds
    last_seen = (deployment.state, deployment.detail)
    changed = False
    while clock.monotonic() < end:
        pause = pacer.next(settled=deployment.state.is_settled, changed=changed)
        await clock.sleep(min(pause, max(0.0, end - clock.monotonic())))
        if clock.monotonic() >= end:
            break
        with _ratelimit.background():
            remote = await api.get(deployment.id)
        if remote is None:
            session._forget(api.name, deployment.id)
            return deployment.model_copy(update={"state": State.GONE})
        deployment = api.to_deployment(remote, now=api.server_time())
        changed = (deployment.state, deployment.detail) != last_seen
        if changed:
            report(
                Progress(
                    phase="watch",
                    message=deployment.detail or deployment.state.value,
                    state=deployment.state,
                    deployment=deployment,
                )
            )
            last_seen = (deployment.state, deployment.detail)
    return deployment


def _timeout_message(deployment: Deployment, timeout: float) -> str:
    what = deployment.detail or deployment.state.value
    return (
        f"{deployment.provider}:{deployment.name} (id {deployment.id}) is {what} "
        f"after {timeout:g} s; it was left as it is and costs "
        f"${deployment.cost_per_hour:.2f}/h. `%sindri status` follows it; "
        f"`%sindri destroy {deployment.id}` removes it."
    )
