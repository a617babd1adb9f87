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
    async def status(self, provider: str | None = None) -> list[Deployment]:
        """Every known deployment, with one list request per provider."""
        names = [provider] if provider else self.configured()
        found: list[Deployment] = []
        for name in names:
            async with self.provider(name) as api:
                found.extend(await self._status_of(api))
        self.remind(found)
        return sorted(
            found, key=lambda d: (d.provider, str(d.created_at or ""), d.name)
        )

    async def _status_of(self, api: Provider) -> list[Deployment]:
        from . import _guards

        store = self.store
        remote = await api.list_tagged()
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
                shown.append(
                    api.to_deployment(untagged, now=now).model_copy(
                        update={"name": record.name, "detail": "its launch tag is gone"}
                    )
                )
            elif record.remote_id is not None or record.state == "launching":
                store.set_state(api.name, record.launch_id, State.GONE.value)
                shown.append(
                    Deployment(
                        provider=api.name,
                        id=record.remote_id or "-",
                        name=record.name,
                        launch_id=record.launch_id,
                        state=State.GONE,
                        as_of=now,
                    )
                )
        for deployment in by_launch.values():
            # Tagged by this library, unknown to this store: the store was lost,
            # or it was started elsewhere. Remember it so it is never lost again.
            store.adopt(api.name, deployment.launch_id, deployment.name, deployment.id)
            shown.append(deployment.model_copy(update={"detail": "found by its tag"}))
        return shown

    # -- addressing ---------------------------------------------------------------
    async def locate(self, reference: str) -> tuple[str, str, str]:
        """``(provider, remote id, display name)`` for an id, name or provider:name."""
        if not isinstance(reference, str) or not reference.strip():
            raise InputError(
                "Name a deployment: its name, its id, or provider:name.",
                option="name",
                value=reference,
            )
        provider, _, rest = reference.partition(":")
        if rest and provider in _config.PROVIDERS:
            providers, wanted = [provider], rest
        else:
            providers, wanted = self.configured(), reference
        matches = self._match(providers, wanted)
        if not matches:
            for name in providers:
                async with self.provider(name) as api:
                    await self._status_of(api)
            matches = self._match(providers, wanted)
        if not matches and " " not in wanted:
            matches = await self._adopt_by_id(providers, wanted)
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

    async def _adopt_by_id(
        self, providers: list[str], wanted: str
    ) -> list[tuple[str, str, str]]:
        """An id the store does not know, read at the provider: it may be billing."""
        for name in providers:
            async with self.provider(name) as api:
                remote = await api.get(wanted)
                if remote is None:
                    continue
                found = api.to_deployment(remote, now=api.server_time())
                launch = found.launch_id or f"untagged-{found.id}"
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
            provider, remote_id, name = await self.locate(reference)
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
    ) -> tuple[Deployment | None, str]:
        """Stop, start or destroy; returns what is left and one sentence of outcome.

        With ``wait``, a start waits until the deployment is reachable again.
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
                api, action, remote, label, warning, delete_volumes=delete_volumes
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
    ) -> tuple[Deployment | None, str]:
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
            return before, f"{label} is already {before.state.value}; nothing to do."
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
        return after, said

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
