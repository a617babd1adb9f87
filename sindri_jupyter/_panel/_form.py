"""The deploy form: provider, GPU from the live catalog, size, image, place, name.

Every check is the core's own (``_api.build_spec`` and the validators behind
it): the form only shows the one sentence a check gives beside the field it
names, and keeps Deploy disabled until every value passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .. import _api, _display
from .._errors import InputError, SindriError
from .._models import DeploySpec, GpuOffer
from ._bits import sentence

IMAGE_PRESETS = (
    "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04",
    "runpod/base:0.6.2-cuda12.4.1",
    "nvidia/cuda:12.4.1-runtime-ubuntu22.04",
)
CLOUDS = ("SECURE", "COMMUNITY")
# Which field a core check's ``option`` names.
_FIELD_OF_OPTION = {
    "--gpu": "gpu",
    "--count": "count",
    "--image": "image",
    "--disk": "disk",
    "--volume": "volume",
    "--cloud": "cloud",
    "--datacenter": "region",
    "--name": "name",
}
_WIDE = widgets.Layout(width="420px")
_SHORT = widgets.Layout(width="220px")


class DeployForm:
    """The widgets of the form and the rules that tie them together."""

    def __init__(
        self,
        providers: list[str],
        *,
        load_catalog: Callable[[str, str], None],
        on_deploy: Callable[[DeploySpec], None],
    ):
        settings = _api.session().settings
        self._load_catalog = load_catalog
        self._on_deploy = on_deploy
        self.offers: dict[str, GpuOffer] = {}
        self.provider = widgets.Dropdown(
            options=providers,
            value=settings.default_provider
            if settings.default_provider in providers
            else providers[0],
            description="Provider",
            layout=_SHORT,
        )
        self.gpu = widgets.Dropdown(options=[], description="GPU", layout=_WIDE)
        self.count = widgets.IntText(value=1, description="GPUs", layout=_SHORT)
        self.image = widgets.Combobox(
            value=settings.image,
            options=_unique((settings.image, *IMAGE_PRESETS)),
            ensure_option=False,
            description="Image",
            layout=_WIDE,
        )
        self.disk = widgets.IntText(
            value=settings.disk_gb, description="Disk GB", layout=_SHORT
        )
        self.volume = widgets.IntText(
            value=settings.volume_gb, description="Volume GB", layout=_SHORT
        )
        cloud = (settings.cloud or "SECURE").upper()
        self.cloud = widgets.Dropdown(
            options=CLOUDS,
            value=cloud if cloud in CLOUDS else "SECURE",
            description="Cloud",
            layout=_SHORT,
        )
        self.region = widgets.Text(
            placeholder="any, or data center ids, comma-separated",
            description="Region",
            layout=_WIDE,
        )
        self.name = widgets.Text(
            placeholder="e.g. trainer", description="Name", layout=_SHORT
        )
        self.estimate = widgets.HTML()
        self.refresh = widgets.Button(
            description="Reload catalog", layout=widgets.Layout(width="130px")
        )
        self.deploy = widgets.Button(
            description="Deploy", button_style="success", disabled=True
        )
        self.problem = widgets.HTML()
        fields = ("provider", *_FIELD_OF_OPTION.values())
        self.errors = {field: widgets.HTML() for field in fields}
        self.box = widgets.VBox(
            [
                self._line("provider", self.refresh),
                self._line("gpu"),
                self._line("count"),
                self._line("image"),
                self._line("disk"),
                self._line("volume"),
                self._line("cloud"),
                self._line("region"),
                self._line("name"),
                widgets.HBox([self.deploy, self.estimate]),
                self.problem,
            ]
        )
        for field in ("gpu", "count", "image", "disk", "volume", "region", "name"):
            getattr(self, field).observe(self._changed, names="value")
        self.provider.observe(self._catalog_changed, names="value")
        self.cloud.observe(self._catalog_changed, names="value")
        self.refresh.on_click(lambda _: self.reload())
        self.deploy.on_click(self._deploy_clicked)
        self._show_cloud()
        self.check()

    def _line(self, field: str, *extra: widgets.Widget) -> widgets.HBox:
        return widgets.HBox([getattr(self, field), *extra, self.errors[field]])

    # -- catalog ---------------------------------------------------------------------
    def reload(self) -> None:
        self.gpu.options = []
        self.estimate.value = sentence("Reading the GPU catalog…")
        self._load_catalog(self.provider.value, self.cloud.value)

    def set_offers(self, provider: str, cloud: str, offers: list[GpuOffer]) -> None:
        """The catalog arrived (on the panel's loop): fill the GPU picker."""
        if (provider, cloud) != (self.provider.value, self.cloud.value):
            return  # the user has moved on to another provider or cloud
        chosen = self.gpu.value
        self.offers = {offer.id: offer for offer in offers}
        self.gpu.options = [(_offer_label(o, cloud), o.id) for o in offers]
        if chosen in self.offers:
            self.gpu.value = chosen
        self.check()

    def catalog_failed(self, message: str) -> None:
        self.estimate.value = sentence(message, error=True)

    def _catalog_changed(self, change: Any) -> None:
        self._show_cloud()
        self.reload()
        self.check()

    def _show_cloud(self) -> None:
        # Only RunPod has a secure/community cloud choice.
        runpod = self.provider.value == "runpod"
        self.cloud.layout.display = None if runpod else "none"

    # -- checking --------------------------------------------------------------------
    def _changed(self, change: Any) -> None:
        self.check()

    def spec(self) -> DeploySpec:
        """The validated request, or the core's InputError."""
        return _api.build_spec(
            self.provider.value,
            gpu=self.gpu.value,
            name=self.name.value.strip(),
            count=self.count.value,
            image=self.image.value.strip() or None,
            cloud=self.cloud.value if self.provider.value == "runpod" else None,
            disk=self.disk.value,
            volume=self.volume.value,
            datacenters=self.region.value,
        )

    def check(self) -> DeploySpec | None:
        """Show at most one reason beside its field; Deploy is enabled only if none."""
        for error in self.errors.values():
            error.value = ""
        self.problem.value = ""
        self._estimate()
        if not self.gpu.value:
            waiting = "Reading the GPU catalog…" if not self.offers else ""
            self.errors["gpu"].value = sentence(waiting or "Choose a GPU.")
            self.deploy.disabled = True
            return None
        try:
            spec = self.spec()
        except InputError as refusal:
            field = _FIELD_OF_OPTION.get(refusal.option or "")
            target = self.errors[field] if field else self.problem
            target.value = sentence(str(refusal), error=True)
            self.deploy.disabled = True
            return None
        except SindriError as failure:
            self.problem.value = sentence(str(failure), error=True)
            self.deploy.disabled = True
            return None
        self.deploy.disabled = False
        return spec

    def _estimate(self) -> None:
        offer = self.offers.get(self.gpu.value or "")
        if offer is None:
            if self.offers:
                self.estimate.value = ""
            return
        cloud = self.cloud.value if self.provider.value == "runpod" else None
        price = offer.price(cloud)
        count = self.count.value if self.count.value and self.count.value > 0 else 1
        total = _display.money(price * count, "/h") if price is not None else "-"
        self.estimate.value = (
            f"Estimate: <b>{total}</b> ({offer.id} × {count}"
            f"{', ' + cloud.lower() if cloud else ''})"
        )

    def _deploy_clicked(self, button: widgets.Button) -> None:
        spec = self.check()
        if spec is not None:
            self._on_deploy(spec)


def _offer_label(offer: GpuOffer, cloud: str) -> str:
    memory = f"{offer.memory_gb:g} GB" if offer.memory_gb else "? GB"
    price = _display.money(offer.price(cloud), "/h")
    stock = (offer.stock or "unknown").lower()
    return f"{offer.id} · {memory} · {price} · stock {stock}"


def _unique(values: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
