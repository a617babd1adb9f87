"""The Jupyter server extension behind the JupyterLab sidebar.

It adds a small REST API under ``<base_url>/sindri-jupyter/api/`` (see
``docs/jupyterlab.md``) that calls the same provider core as the magics.
Installing the package enables it (``jupyter-config/``); by hand::

    jupyter server --ServerApp.jpserver_extensions="{'sindri_jupyter._server': True}"

Loading it only registers handlers: no provider is asked anything, and no
emulator is started, until the sidebar first asks.
"""

from __future__ import annotations

from typing import Any

API_PATH = "sindri-jupyter/api"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "sindri_jupyter._server"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from jupyter_server.utils import url_path_join

    from ._handlers import routes
    from ._service import StatusBoard

    web_app = server_app.web_app
    web_app.settings["sindri_status_board"] = StatusBoard()
    prefix = url_path_join(web_app.settings["base_url"], API_PATH)
    web_app.add_handlers(".*$", routes(prefix))
    server_app.log.info("sindri-jupyter: API at %s", prefix)
