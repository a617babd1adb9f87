"""RunPod's extra control endpoints: stock, prices, outside deletes, containers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._control import PREFIX, body_object
from .._http import HttpError, Request, Response, Route
from .catalog import CLOUDS

if TYPE_CHECKING:
    from .app import RunPodApp


class ControlRoutes:
    """Mounted under `/_emulator/` by the shared control surface."""

    def control_routes(self: RunPodApp) -> list[Route]:
        return [
            Route("GET", f"{PREFIX}/stock", self.control_get_stock),
            Route("POST", f"{PREFIX}/stock", self.control_set_stock),
            Route("GET", f"{PREFIX}/catalog", self.control_get_catalog),
            Route("POST", f"{PREFIX}/catalog", self.control_set_price),
            Route("POST", f"{PREFIX}/pods/{{id}}/delete", self.control_delete_pod),
            Route("POST", f"{PREFIX}/pods/{{id}}/cost", self.control_set_pod_cost),
            Route("GET", f"{PREFIX}/pods/{{id}}/container", self.control_container),
            Route(
                "POST", f"{PREFIX}/pods/{{id}}/container", self.control_set_container
            ),
            Route("POST", f"{PREFIX}/pods/{{id}}/gpu", self.control_set_gpu),
        ]

    def control_get_stock(self: RunPodApp, request: Request) -> Response:
        offers = [offer.as_json() for offer in self.catalog.offers.values()]
        return Response.json(200, {"stock": offers})

    def control_set_stock(self: RunPodApp, request: Request) -> Response:
        body = body_object(request, required=True)
        gpu, count = body.get("gpu"), body.get("count")
        if gpu not in self.catalog.gpus:
            raise HttpError(404, f"GPU type {gpu!r} is not in the catalog")
        if not isinstance(count, int) or count < 0:
            raise HttpError(400, "count must be a non-negative integer")
        center, cloud = body.get("dataCenter"), body.get("cloud")
        if center is not None and center not in self.catalog.data_centers:
            raise HttpError(404, f"data center {center!r} does not exist")
        if cloud is not None and cloud not in CLOUDS:
            raise HttpError(400, f"cloud must be one of {', '.join(CLOUDS)}")
        changed = self.catalog.set_stock(gpu, count, center, cloud)
        return Response.json(200, {"stock": [offer.as_json() for offer in changed]})

    def control_get_catalog(self: RunPodApp, request: Request) -> Response:
        listed = [model.as_json() for model in self.catalog.gpus.values()]
        unpriced = sorted(self.catalog.unpriced)
        return Response.json(200, {"gpus": listed, "unpriced": unpriced})

    def control_set_price(self: RunPodApp, request: Request) -> Response:
        body = body_object(request, required=True)
        gpu = body.get("gpu")
        if gpu not in self.catalog.gpus and gpu not in self.catalog.unpriced:
            raise HttpError(404, f"GPU type {gpu!r} is unknown")
        prices = {}
        for cloud in CLOUDS:
            value = body.get(cloud.lower())
            if value is None:
                continue
            if not isinstance(value, int | float) or value < 0:
                raise HttpError(400, f"{cloud.lower()} must be a non-negative number")
            prices[cloud] = float(value)
        if not prices:
            raise HttpError(400, "give a secure and/or community price")
        model = self.catalog.set_price(gpu, prices)
        listed = model.id in self.catalog.gpus
        return Response.json(200, {"gpu": model.as_json(), "listed": listed})

    def control_delete_pod(self: RunPodApp, request: Request) -> Response:
        pod = self.pods.get(request.params["id"])
        if pod is None:
            raise HttpError(404, f"pod {request.params['id']!r} not found")
        self.terminate(pod, self.clock.now())
        return Response.json(200, {"deleted": pod.id})

    def control_set_pod_cost(self: RunPodApp, request: Request) -> Response:
        """Change a pod's own `cost` (USD/h) from now on, as a price change would."""
        pod = self.pods.get(request.params["id"])
        if pod is None:
            raise HttpError(404, f"pod {request.params['id']!r} not found")
        cost = body_object(request, required=True).get("cost")
        if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
            raise HttpError(400, "cost must be a non-negative number (USD per hour)")
        pod.cost_per_hour = float(cost)
        pod.bill(self.clock.now())  # billing follows the new rate from now on
        return Response.json(200, pod.as_json(self.clock.now()))

    # -- what runs inside a pod (see container.py) ---------------------------------

    def _containers(self: RunPodApp, request: Request) -> tuple[str, Any]:
        pod_id = request.params["id"]
        if pod_id not in self.billed:
            raise HttpError(404, f"pod {pod_id!r} not found")
        if self.containers is None:
            raise HttpError(409, "this emulator runs no containers")
        return pod_id, self.containers

    def control_container(self: RunPodApp, request: Request) -> Response:
        pod_id, containers = self._containers(request)
        return Response.json(200, containers.describe(pod_id))

    def control_set_container(self: RunPodApp, request: Request) -> Response:
        pod_id, containers = self._containers(request)
        body = body_object(request, required=True)
        works = body.get("runpodctl")
        if not isinstance(works, bool):
            raise HttpError(400, "runpodctl must be true or false")
        containers.runpodctl_works[pod_id] = works
        return Response.json(200, containers.describe(pod_id))

    def control_set_gpu(self: RunPodApp, request: Request) -> Response:
        pod_id, containers = self._containers(request)
        body = body_object(request, required=True)
        util = body.get("util")
        count = self.billed[pod_id].gpu["count"]
        if isinstance(util, int) and not isinstance(util, bool):
            util = [util] * count
        if (
            not isinstance(util, list)
            or len(util) != count
            or not all(isinstance(u, int) and 0 <= u <= 100 for u in util)
        ):
            raise HttpError(400, f"util must be 0-100, or a list of {count} of them")
        containers.gpu_util[pod_id] = util
        return Response.json(200, containers.describe(pod_id))
