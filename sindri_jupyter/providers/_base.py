"""The shape every provider module has.

A provider turns the library's requests into its API's calls and its answers
into the library's models. It holds no front-end logic and no waiting loops:
orchestration (placement, reconciling, waiting) lives in ``sindri_jupyter._engine``
and is the same for every provider.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import httpx

from .._config import Endpoint
from .._errors import UnsupportedError
from .._http import ApiClient, ErrorMapper
from .._models import Connection, Deployment, DeploySpec, GpuOffer


@dataclass(frozen=True)
class Capability:
    """A feature a provider lacks, with the reason shown to the user."""

    feature: str
    reason: str


@dataclass
class Candidate:
    """One concrete create request the placement may try, at most once."""

    label: str
    body: dict[str, Any]
    price_per_hour: float | None = None
    #: sentences shown before the create (where it goes, how the price adds up)
    notes: list[str] = field(default_factory=list)
    #: what the provider needs besides the body (never sent as is)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Launch:
    """The identity a deploy stamps on what it creates, so it can be found again."""

    launch_id: str
    name: str
    remote_name: str
    jupyter_password: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LogLine:
    """One line of a deployment's log, with the cursor a reader resumes after."""

    time: str
    source: str
    text: str
    cursor: str | None = None


class Provider(abc.ABC):
    """What every provider implements; see ``runpod`` for the reference one."""

    name: ClassVar[str]
    #: features this provider does not have, checked before anything is sent
    unsupported: ClassVar[tuple[Capability, ...]] = ()
    #: False where a deployment may run without a GPU (a CPU service)
    needs_gpu: ClassVar[bool] = True
    #: True where an id can come back for a new object (ids derived from names)
    reuses_ids: ClassVar[bool] = False
    #: turns the API's error answers into typed errors (set with ``staticmethod``)
    error_mapper: ClassVar[ErrorMapper]

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        private_key_path: str | None = None,
        sleep: Any = None,
        timeout: float = 30.0,
    ):
        self.endpoint = endpoint
        #: the SSH key's private half, named in SSH commands where it exists
        self.private_key_path = private_key_path
        self._sleep = sleep or asyncio.sleep
        self.api = ApiClient(
            endpoint,
            self.error_mapper,
            transport=transport,
            sleep=sleep,
            timeout=timeout,
        )

    async def aclose(self) -> None:
        await self.api.aclose()

    def server_time(self) -> datetime | None:
        """The provider's clock, as last read from an answer."""
        return self.api.last_server_time

    @classmethod
    def supports(cls, feature: str) -> bool:
        return all(capability.feature != feature for capability in cls.unsupported)

    @classmethod
    def check_supported(cls, feature: str) -> None:
        for capability in cls.unsupported:
            if capability.feature == feature:
                raise UnsupportedError(
                    f"{cls.name} cannot {feature}: {capability.reason}",
                    provider=cls.name,
                    feature=feature,
                )

    # -- catalog -----------------------------------------------------------------
    @abc.abstractmethod
    async def gpu_offers(self) -> list[GpuOffer]:
        """The live GPU catalog with prices and stock."""

    @abc.abstractmethod
    def resolve_gpu(self, text: str, offers: list[GpuOffer]) -> GpuOffer:
        """Turn what the user typed into exactly one GPU type, or raise."""

    # -- requests ----------------------------------------------------------------
    @abc.abstractmethod
    def candidates(
        self, spec: DeploySpec, launch: Launch, gpus: list[GpuOffer]
    ) -> list[Candidate]:
        """Every create body the placement may try, in the order to try them."""

    @abc.abstractmethod
    async def create(self, candidate: Candidate) -> dict[str, Any]:
        """Send one create; raise on refusal. The caller handles unclear outcomes."""

    @abc.abstractmethod
    async def find_by_launch(self, launch_id: str) -> list[dict[str, Any]]:
        """Remote objects stamped with this launch id (normally zero or one)."""

    @abc.abstractmethod
    async def list_tagged(self, *, everywhere: bool = False) -> list[dict[str, Any]]:
        """Every remote object this library created, with one list request.

        ``everywhere`` searches every place the account has, even where no
        deployment is known (``%sindri status --all``).
        """

    @abc.abstractmethod
    async def get(self, remote_id: str) -> dict[str, Any] | None:
        """One remote object, or None where the provider no longer has it."""

    @abc.abstractmethod
    async def stop(self, remote_id: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    async def start(self, remote_id: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    async def destroy(self, remote_id: str, *, delete_volumes: bool = False) -> bool:
        """Delete; False where it was already gone.

        ``delete_volumes`` matters where volumes outlive what they are attached to.
        """

    # -- mapping -----------------------------------------------------------------
    @abc.abstractmethod
    def to_deployment(
        self, remote: dict[str, Any], *, now: datetime | None
    ) -> Deployment:
        """The library's view of a remote object."""

    @abc.abstractmethod
    def connection(self, remote: dict[str, Any]) -> Connection:
        """How to reach it; empty unless it is up."""

    @abc.abstractmethod
    def data_loss_warning(
        self, action: str, remote: dict[str, Any], *, delete_volumes: bool = False
    ) -> str | None:
        """One sentence on what an action deletes, or None where nothing goes."""

    # -- optional ------------------------------------------------------------------
    @classmethod
    def check_name(cls, value: str) -> str:
        """The user's name, refused where it breaks the provider's naming rule."""
        from .._validate import name

        return name(value)

    async def prepare(
        self, spec: DeploySpec, launch: Launch, gpus: list[GpuOffer]
    ) -> list[Candidate]:
        """Candidates, after whatever lookups placement needs (none by default)."""
        return self.candidates(spec, launch, gpus)

    def destroyed(
        self, remote: dict[str, Any], *, delete_volumes: bool = False
    ) -> str | None:
        """One sentence on what a destroy deleted or kept, where worth saying."""
        return None

    def use_store(self, store: Any) -> None:
        """Where shared state (a request budget) is kept; unused by default."""

    def pacer(self) -> Any:
        """A ``_ratelimit.Pacer`` for this provider's polls; None: the default pace."""
        return None

    async def logs(
        self,
        remote_id: str,
        *,
        on_line: Callable[[LogLine], None],
        tail: int = 100,
        after: str | None = None,
    ) -> str | None:
        """Hand the log's lines to ``on_line`` until the provider ends the stream.

        Reads the last ``tail`` lines, or those after the cursor ``after``, then
        whatever follows while the stream stays open. Returns the cursor to resume
        from. Providers opt in by overriding this; the default refuses.
        """
        raise UnsupportedError(
            f"{self.name}: logs are not available for this provider.",
            provider=self.name,
            feature="logs",
        )
