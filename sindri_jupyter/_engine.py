"""Orchestration shared by every provider: sessions, addressing, status, actions.

Front ends call this module (through ``sindri_jupyter._api``); providers do the
talking. Deploying has its own module, ``_deploy``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from . import _config, _sandbox
from ._config import Endpoint, Settings
from ._errors import (
    AmbiguousNameError,
    ConflictError,
    DeploymentGoneError,
    InputError,
    NotConfiguredError,
    UnknownDeploymentError,
)
from ._models import Deployment, GpuOffer, Progress, State
from ._store import Store
from .providers._base import Provider

logger = logging.getLogger("sindri_jupyter")

ProgressCallback = Callable[[Progress], None]
#: the launch id kept for an object adopted by id that never carried our tag
UNTAGGED = "untagged-"
#: the detail of a deployment still there whose launch tag was removed
TAG_GONE = "its launch tag is gone"


class Clock:
    """Wall time for waits; swapped for a fake one in tests and benchmarks."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass
class Session:
    """Everything one front end needs: settings, store, providers, clock."""

    settings: Settings = field(default_factory=Settings)
    clock: Clock = field(default_factory=Clock)
    #: tests may route provider traffic through e.g. ``httpx.MockTransport``
    transport: httpx.AsyncBaseTransport | None = None
    #: fixed endpoints, e.g. an emulator a test started; they win over all else
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    _store: Store | None = field(default=None, repr=False)
    _store_key: str | None = field(default=None, repr=False)
    #: sentences for the user from work done on the side (guards, reminders)
    notices: list[str] = field(default_factory=list, repr=False)
    #: the first command that lists deployments has had its reminder
    reminded: bool = field(default=False, repr=False)
    _guard_check: Any = field(default=None, repr=False)
    #: when guarded deployments were last checked (monotonic seconds)
    last_guard_check: float = field(default=0.0, repr=False)
    #: each provider's clock at its last list, for reports
    server_now: dict[str, datetime] = field(default_factory=dict, repr=False)
    #: per provider, tagged objects its last list had that this store does not
    #: know, by launch id
    unknown_tagged: dict[str, dict[str, Deployment]] = field(
        default_factory=dict, repr=False
    )

    def remind(self, deployments: list[Deployment]) -> None:
        """Once per session, a line on what runs and bills, if anything does."""
        if self.reminded:
            return
        self.reminded = True
        from ._cost.views import reminder_line

        line = reminder_line(deployments)
        if line:
            self.notices.append(line)

    def take_notices(self) -> list[str]:
        said, self.notices = self.notices, []
        if self._guard_check is not None:
            said += self._guard_check.messages
            self._guard_check.messages = []
        return said

    def guard_check(self) -> Any:
        """The kernel's background check of guarded deployments."""
        from ._guards import BackgroundCheck

        if self._guard_check is None:
            self._guard_check = BackgroundCheck(self)
        return self._guard_check

    # -- where things are ---------------------------------------------------------
    def endpoint(self, provider: str) -> Endpoint:
        if provider not in _config.PROVIDERS:
            raise InputError(
                f"Unknown provider {provider!r}: use runpod or northflank.",
                option="provider",
                value=provider,
            )
        if provider in self.endpoints:
            return self.endpoints[provider]
        if self.settings.sandbox_on:
            return _sandbox.ensure(provider)
        return _config.real_endpoint(provider)

    def configured(self) -> list[str]:
        """Providers this session can talk to: the sandbox's, or those with a key."""
        from .providers import available

        if self.endpoints:
            return [p for p in available() if p in self.endpoints]
        if self.settings.sandbox_on:
            return [p for p in available() if p in _sandbox.EMULATED]
        found = [p for p in available() if _config.api_key(p)]
        if not found:
            raise NotConfiguredError(
                "No provider key is set: set RUNPOD_API_KEY or NORTHFLANK_API_TOKEN "
                "(or `%sindri login runpod`), or try everything offline in the "
                "sandbox (`%sindri sandbox on`, or SINDRI_JUPYTER_SANDBOX=1)."
            )
        return found

    @property
    def store(self) -> Store:
        key = "sandbox" if self.settings.sandbox_on else "live"
        root = _config.data_dir()
        if self._store is None or self._store_key != f"{root}:{key}":
            folder = root / "sandbox" if key == "sandbox" else root
            self._store = Store(folder / "deployments.sqlite3")
            self._store_key = f"{root}:{key}"
        return self._store

    @contextlib.asynccontextmanager
    async def provider(self, name: str) -> AsyncIterator[Provider]:
        from .providers import create

        endpoint = self.endpoint(name)
        public_key = _config.read_public_key(self.settings.ssh_key_path)
        # SSH commands name the private half only where the key pair is there.
        private_key = (
            self.settings.ssh_key_path.removesuffix(".pub") if public_key else None
        )
        instance = create(
            name,
            endpoint,
            transport=self.transport,
            private_key_path=private_key,
            sleep=self.clock.sleep,
            timeout=self.settings.request_timeout_seconds,
        )
        instance.use_store(self.store)
        try:
            yield instance
        finally:
            await instance.aclose()

    # -- catalog ------------------------------------------------------------------
    async def gpus(self, provider: str, *, cloud: str | None = None) -> list[GpuOffer]:
        from ._cost import prices

        async with self.provider(provider) as api:
            sheet = await prices.current(self, api, cloud or self.settings.cloud)
            offers = sheet.offers
        return sorted(
            offers, key=lambda o: (o.price(cloud) is None, o.price(cloud) or 0)
        )

    # -- status -------------------------------------------------------------------
    async def status(
        self, provider: str | None = None, *, everything: bool = False
    ) -> list[Deployment]:
        """Every deployment, with one list request per provider.

        With ``everything``, providers are searched in full for tagged objects
        (Northflank: every project, not only those known), and records this store
        marked gone earlier are listed too.
        """
        names = [provider] if provider else self.configured()
        found: list[Deployment] = []
        for name in names:
            async with self.provider(name) as api:
                found.extend(await self._status_of(api, everywhere=everything))
        self.remind(found)
        if everything:
            shown = {(d.provider, d.launch_id) for d in found}
            found += [
                self._gone_row(record)
                for name in names
                for record in self.store.records(name, live_only=False)
                if record.state == State.GONE.value
                and (name, record.launch_id) not in shown
            ]
        return sorted(
            found, key=lambda d: (d.provider, str(d.created_at or ""), d.name)
        )

    @staticmethod
    def _gone_row(record: Any, now: datetime | None = None) -> Deployment:
        return Deployment(
            provider=record.provider,
            id=record.remote_id or "-",
            name=record.name,
            launch_id=record.launch_id,
            state=State.GONE,
            created_at=datetime.fromisoformat(record.created),
            as_of=now,
        )

    async def _status_of(
        self, api: Provider, *, everywhere: bool = False
    ) -> list[Deployment]:
        from . import _guards

        store = self.store
        remote = await api.list_tagged(everywhere=everywhere)
        now = api.server_time()
        if now is not None:
            self.server_now[api.name] = now
        by_launch = {}
        for item in remote:
            deployment = _guards.to_deployment(api, item)
            by_launch[deployment.launch_id] = deployment
        stopped = await _guards.enforce(self, api, list(by_launch.values()))
        self.last_guard_check = time.monotonic()
        for deployment_id, sentence, after in stopped:
            self.notices.append(sentence)
            for launch, deployment in by_launch.items():
                if deployment.id == deployment_id and after is not None:
                    by_launch[launch] = api.to_deployment(after, now=now)
        shown: list[Deployment] = []
        for record in store.records(api.name):
            deployment = by_launch.pop(record.launch_id, None)
            if deployment is not None:
                if record.remote_id is None:
                    store.set_remote(api.name, record.launch_id, deployment.id)
                shown.append(deployment)
            elif record.remote_id is not None and (
                untagged := await self._read(api, record.remote_id)
            ):
                # Still there, but no longer carries our tag (its env was replaced
                # elsewhere): it still costs money, so it stays in view.
                never = record.launch_id.startswith(UNTAGGED)
                detail = "not launched by this library" if never else TAG_GONE
                shown.append(
                    api.to_deployment(untagged, now=now).model_copy(
                        update={"name": record.name, "detail": detail}
                    )
                )
            elif record.remote_id is not None or record.state == "launching":
                store.set_state(api.name, record.launch_id, State.GONE.value)
                shown.append(self._gone_row(record, now))
        # Tagged by this library, unknown to this store: started on another
        # machine, or the store was lost. Shown (it may be billing) but not
        # adopted: `status --all` offers to adopt or destroy each.
        shown += [
            deployment.model_copy(
                update={"in_store": False, "detail": _stranger(deployment.detail)}
            )
            for deployment in by_launch.values()
        ]
        self.unknown_tagged[api.name] = {
            d.launch_id: d for d in by_launch.values() if d.launch_id
        }
        return shown

    # -- addressing ---------------------------------------------------------------
    async def locate(
        self, reference: str, *, adopt: bool = True
    ) -> tuple[str, str, str]:
        """``(provider, remote id, display name)`` for an id, name or provider:name.

        A deployment this store does not know (found by its tag, or by an id at
        the provider) is adopted, since the user acts on it; ``adopt=False`` only
        looks, e.g. to ask before acting.
        """
        providers, wanted = self._scope(reference)
        matches = self._match_all(providers, wanted)
        by_id = any(remote_id == wanted for _, remote_id, _ in matches)
        # A name may be shared with a tagged deployment outside this store:
        # before acting on a name, each provider is listed once per session.
        if not matches:
            to_list = providers
        elif by_id:
            to_list = []
        else:
            to_list = [p for p in providers if p not in self.unknown_tagged]
        if to_list:
            for name in to_list:
                async with self.provider(name) as api:
                    await self._status_of(api)
            matches = self._match_all(providers, wanted)
        if len(matches) == 1 and adopt:
            self._adopt_unknown(*matches[0])
        if not matches and " " not in wanted:
            matches = await self._adopt_by_id(providers, wanted, adopt=adopt)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise UnknownDeploymentError(
                f"No live deployment is called or has the id {wanted!r}; "
                "`%sindri status` lists them.",
                option="name",
                value=wanted,
            )
        listing = ", ".join(f"{p}:{n} (id {i})" for p, i, n in matches)
        raise AmbiguousNameError(
            f"{len(matches)} live deployments are called {wanted!r}: {listing}. "
            "Use an id instead.",
            value=wanted,
            candidates=matches,
        )

    def _scope(self, reference: str) -> tuple[list[str], str]:
        """The providers to search and the name or id wanted there."""
        if not isinstance(reference, str) or not reference.strip():
            raise InputError(
                "Name a deployment: its name, its id, or provider:name.",
                option="name",
                value=reference,
            )
        provider, _, rest = reference.partition(":")
        if rest and provider in _config.PROVIDERS:
            return [provider], rest
        return self.configured(), reference

    async def adopt(self, reference: str) -> str:
        """Put a deployment this store does not know into it; one sentence."""
        providers, wanted = self._scope(reference)
        known = self._match(providers, wanted)
        if len(known) == 1 and len(self._match_all(providers, wanted)) == 1:
            provider, remote_id, name = known[0]
            return (
                f"{provider}:{name} (id {remote_id}) is already in this store; "
                "nothing to do."
            )
        provider, remote_id, name = await self.locate(reference, adopt=False)
        label = f"{provider}:{name} (id {remote_id})"
        async with self.provider(provider) as api:
            # Read again: it may have gone since the list that found it.
            remote = await self._read(api, remote_id)
            if remote is None:
                self.unknown_tagged.get(provider, {}).pop(
                    self._launch_of(provider, remote_id) or "", None
                )
                raise DeploymentGoneError(f"{label} is gone; nothing was adopted.")
            found = api.to_deployment(remote, now=api.server_time())
        record = self.store.by_remote(provider, remote_id)
        if record is not None and record.state != State.GONE.value:
            return f"{label} is already in this store; nothing to do."
        launch = found.launch_id or f"{UNTAGGED}{found.id}"
        self.store.adopt(provider, launch, name, remote_id)
        self.unknown_tagged.get(provider, {}).pop(launch, None)
        return (
            f"Adopted {label}: this store tracks it from now on, so status, cost "
            "and the panel show it as yours."
        )

    def _launch_of(self, provider: str, remote_id: str) -> str | None:
        for launch, found in self.unknown_tagged.get(provider, {}).items():
            if found.id == remote_id:
                return launch
        return None

    def _match_all(
        self, providers: list[str], wanted: str
    ) -> list[tuple[str, str, str]]:
        """In this store, and among tagged ones the last lists found outside it."""
        known = self._match(providers, wanted)
        return known + [
            m for m in self._match_unknown(providers, wanted) if m not in known
        ]

    def _match_unknown(
        self, providers: list[str], wanted: str
    ) -> list[tuple[str, str, str]]:
        """Tagged deployments the last lists found that this store does not know."""
        found = [d for p in providers for d in self.unknown_tagged.get(p, {}).values()]
        chosen = [d for d in found if d.id == wanted] or [
            d for d in found if d.name == wanted
        ]
        return [(d.provider, d.id, d.name) for d in chosen]

    def _adopt_unknown(self, provider: str, remote_id: str, name: str) -> None:
        """Adopt a stranger the user acts on, and say so."""
        launch = self._launch_of(provider, remote_id)
        if launch is None:
            return
        self.store.adopt(provider, launch, name, remote_id)
        del self.unknown_tagged[provider][launch]
        self.notices.append(
            f"Adopted {provider}:{name} (id {remote_id}): it carries this library's "
            "tag but was not in this store; it is tracked here from now on."
        )

    async def _adopt_by_id(
        self, providers: list[str], wanted: str, *, adopt: bool = True
    ) -> list[tuple[str, str, str]]:
        """An id the store does not know, read at the provider: it may be billing."""
        for name in providers:
            async with self.provider(name) as api:
                remote = await api.get(wanted)
                if remote is None:
                    continue
                found = api.to_deployment(remote, now=api.server_time())
                launch = found.launch_id or f"{UNTAGGED}{found.id}"
                if adopt:
                    self.store.adopt(api.name, launch, found.name, found.id)
                return [(api.name, found.id, found.name)]
        return []

    def _match(self, providers: list[str], wanted: str) -> list[tuple[str, str, str]]:
        records = [r for p in providers for r in self.store.records(p) if r.remote_id]
        by_id = [r for r in records if r.remote_id == wanted]
        chosen = by_id or [r for r in records if r.name == wanted]
        return [(r.provider, r.remote_id, r.name) for r in chosen]  # type: ignore[misc]

    # -- actions ------------------------------------------------------------------
    async def describe(self, reference: str) -> Deployment:
        """A fresh read of one deployment, with its connection details."""
        provider, remote_id, name = await self.locate(reference)
        async with self.provider(provider) as api:
            remote = await self._read(api, remote_id)
            if remote is None:
                self._forget(provider, remote_id)
                raise DeploymentGoneError(
                    f"{provider}:{name} (id {remote_id}) is gone."
                )
            return api.to_deployment(remote, now=api.server_time())

    async def preview(
        self, action: str, reference: str, *, delete_volumes: bool = False
    ) -> tuple[str, str | None]:
        """``(label, what the action deletes)``, to ask before acting."""
        try:
            provider, remote_id, name = await self.locate(reference, adopt=False)
        except UnknownDeploymentError:
            gone = self._gone(reference) if action == "destroy" else None
            if gone is None:
                raise
            return gone, None
        label = f"{provider}:{name} (id {remote_id})"
        async with self.provider(provider) as api:
            remote = await self._read(api, remote_id)
            if remote is None:
                return label, None
            return label, api.data_loss_warning(
                action, remote, delete_volumes=delete_volumes
            )

    async def _read(self, api: Provider, remote_id: str) -> dict[str, Any] | None:
        """The remote object, or None where it is gone or no longer the one launched.

        Where a provider reuses ids (a Northflank service id is its name's slug),
        an object at the same id with another launch id is someone else's.
        """
        remote = await api.get(remote_id)
        if remote is None or not api.reuses_ids:
            return remote
        record = self.store.by_remote(api.name, remote_id)
        found = api.to_deployment(remote, now=None).launch_id
        if record is not None and record.launch_id != found:
            return None
        return remote

    async def act(
        self,
        action: str,
        reference: str,
        *,
        wait: bool = False,
        report: ProgressCallback | None = None,
        delete_volumes: bool = False,
        max_hours: float | None = None,
        max_cost: float | None = None,
    ) -> tuple[Deployment | None, str]:
        """Stop, start or destroy; returns what is left and one sentence of outcome.

        With ``wait``, a start waits until the deployment is reachable again. A
        start's ``max_hours`` and ``max_cost`` replace the kernel's limits.
        """
        if action == "pause":
            from .providers import provider_class

            named, _, _ = reference.partition(":")
            scope = [named] if named in _config.PROVIDERS else self.configured()
            if not any(provider_class(p).supports("pause") for p in scope):
                provider_class(scope[0]).check_supported("pause")
        try:
            provider, remote_id, name = await self.locate(reference)
        except UnknownDeploymentError:
            gone = self._gone(reference) if action == "destroy" else None
            if gone is None:
                raise
            return None, f"{gone} was already gone; nothing to destroy."
        label = f"{provider}:{name} (id {remote_id})"
        if action == "pause":
            from .providers import provider_class

            provider_class(provider).check_supported("pause")
        async with self.provider(provider) as api:
            remote = await self._read(api, remote_id)
            if remote is None:
                self._forget(provider, remote_id)
                if action == "destroy":
                    return None, f"{label} was already gone; nothing to destroy."
                raise DeploymentGoneError(f"{label} is gone.")
            warning = api.data_loss_warning(
                action, remote, delete_volumes=delete_volumes
            )
            after, said = await self._perform(
                api,
                action,
                remote,
                label,
                warning,
                delete_volumes=delete_volumes,
                limits={"max_hours": max_hours, "max_cost": max_cost},
            )
            if wait and action == "start" and after is not None:
                from ._deploy import wait_ready

                tell = report or (lambda _: None)
                tell(
                    Progress(
                        phase="started", message=said + " Waiting until reachable."
                    )
                )
                timeout = self.settings.timeout_seconds
                after = await wait_ready(self, api, after, timeout, tell)
            return after, said

    async def _perform(
        self,
        api: Provider,
        action: str,
        remote: dict[str, Any],
        label: str,
        warning: str | None,
        *,
        delete_volumes: bool = False,
        limits: dict[str, float | None] | None = None,
    ) -> tuple[Deployment | None, str]:
        from . import _guard_totals, _guards

        before = api.to_deployment(remote, now=api.server_time())
        if action == "destroy":
            existed = await api.destroy(before.id, delete_volumes=delete_volumes)
            self._forget(api.name, before.id)
            said = f"Destroyed {label}." if existed else f"{label} was already gone."
            note = api.destroyed(remote, delete_volumes=delete_volumes)
            return None, said + (f" {note}" if existed and note else "")
        stopping = action in ("stop", "pause")
        if stopping and before.state is State.STOPPED:
            return before, f"{label} is already stopped; nothing to do."
        if action == "start" and before.state in (
            State.PENDING,
            State.RUNNING,
            State.READY,
        ):
            note = _guards.replace_limits(
                self, api, before, label=label, **(limits or {})
            )
            if note:
                return before, f"{label} is already {before.state.value}.{note}"
            return before, f"{label} is already {before.state.value}; nothing to do."
        note = ""
        if stopping:  # the kernel's guards count this start's hours in full
            _guard_totals.observe_by_remote(self.store, api.name, before)
        else:  # refused where the kernel would stop it again at once
            note = await _guards.before_start(
                self, api, before, label=label, **(limits or {})
            )
        try:
            updated = await (api.stop(before.id) if stopping else api.start(before.id))
        except ConflictError as refusal:
            raise ConflictError(
                f"{label} cannot {action} while {before.state.value}: {refusal.detail}",
                provider=api.name,
                status=409,
                detail=refusal.detail,
            ) from None
        after = api.to_deployment(updated or remote, now=api.server_time())
        said = f"{'Stopped' if stopping else 'Started'} {label}."
        if stopping and warning:
            said += " " + warning
        return after, said + note

    def _gone(self, reference: str) -> str | None:
        """The label of a deployment this store saw go, by name, id or provider:name."""
        provider, _, rest = reference.partition(":")
        providers = [provider] if rest and provider in _config.PROVIDERS else None
        wanted = rest if providers else reference
        for record in self.store.records(live_only=False):
            if providers and record.provider not in providers:
                continue
            if record.state == State.GONE.value and wanted in (
                record.name,
                record.remote_id,
            ):
                return f"{record.provider}:{record.name} (id {record.remote_id})"
        return None

    def _forget(self, provider: str, remote_id: str) -> None:
        record = self.store.by_remote(provider, remote_id)
        if record:
            self.store.set_state(provider, record.launch_id, State.GONE.value)


def _stranger(detail: str | None) -> str:
    """The detail of a tagged deployment this store does not know."""
    return f"{detail}; not in this store" if detail else "not in this store"
