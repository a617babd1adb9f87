"""``%sindri``: the notebook front end.

Registering is cheap: this module imports only IPython and traitlets; the
provider core (httpx, pydantic) loads on the first command. Expected failures
show as one line (``UsageError``); anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import re
import string
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.utils.text import DollarFormatter
from traitlets import Bool, Float, Int, Unicode, observe

from . import _commands
from ._errors import InputError, SindriError, WaitTimeoutError

_NAME_AFTER_DOLLAR = re.compile(r"(.*?)\$(\$?[\w.]+)", re.DOTALL)


class _LineFormatter(DollarFormatter):
    """IPython's ``$name`` and ``{expression}`` expansion, the same inside quotes.

    IPython leaves ``$`` alone inside single quotes; here one rule holds
    everywhere, so ``'P=a$$b'`` gives ``P=a$b`` and ``{{`` gives ``{``.
    """

    def parse(self, text: str):  # type: ignore[override]
        for literal, field, spec, conversion in string.Formatter.parse(self, text):
            kept, end = "", 0
            for match in _NAME_AFTER_DOLLAR.finditer(literal):
                before, name = match.group(1, 2)
                if name.startswith("$"):
                    kept += before + name
                else:
                    yield kept + before, name, "", None
                    kept = ""
                end = match.end()
            yield kept + literal[end:], field, spec, conversion


def _show(html: str, text: str) -> None:
    from IPython.display import display

    display({"text/html": html, "text/plain": text}, raw=True)


@magics_class
class Sindri(Magics):
    """Cloud GPUs from the notebook. Defaults are set with ``%config Sindri.<name>``."""

    default_provider = Unicode("runpod", help="runpod or northflank").tag(config=True)
    image = Unicode(
        "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404", help="container image"
    ).tag(config=True)
    cloud = Unicode("SECURE", help="RunPod cloud: SECURE or COMMUNITY").tag(config=True)
    disk_gb = Int(50, help="container disk in GB (wiped on stop)").tag(config=True)
    volume_gb = Int(20, help="persistent volume in GB; 0 for none").tag(config=True)
    ssh_key_path = Unicode(
        "~/.ssh/id_ed25519.pub", help="public key put in the pod as PUBLIC_KEY"
    ).tag(config=True)
    timeout_seconds = Float(1200.0, help="how long deploy waits, in seconds").tag(
        config=True
    )
    sandbox = Bool(
        None, allow_none=True, help="use the built-in emulators (None: env var)"
    ).tag(config=True)
    max_hours = Float(
        None, allow_none=True, help="stop deployments after this many running hours"
    ).tag(config=True)
    max_cost = Float(
        None, allow_none=True, help="stop deployments once they cost this many USD"
    ).tag(config=True)
    stop_when_idle = Unicode(
        None, allow_none=True, help="stop deployments idle this long, e.g. 30m"
    ).tag(config=True)

    @observe(
        "default_provider", "image", "cloud", "disk_gb", "volume_gb",
        "ssh_key_path", "timeout_seconds", "sandbox",
        "max_hours", "max_cost", "stop_when_idle",
    )  # fmt: skip
    def _settings_changed(self, change: Any) -> None:
        self._apply_settings()

    def _apply_settings(self) -> None:
        from ._api import session

        settings = session().settings
        for name in (
            "default_provider", "image", "cloud", "disk_gb", "volume_gb",
            "ssh_key_path", "timeout_seconds",
            "max_hours", "max_cost", "stop_when_idle",
        ):  # fmt: skip
            setattr(settings, name, getattr(self, name))
        if self.sandbox is not None:
            settings.sandbox = self.sandbox

    def _expand(self, line: str) -> str:
        try:
            return _LineFormatter().vformat(line, args=[], kwargs=self.shell.user_ns)
        except Exception as error:  # any evaluation error of the user's expression
            raise InputError(
                f"Cannot expand the line ({type(error).__name__}: {error}); write "
                "$$ for a literal $ and {{ }} for literal braces."
            ) from None

    @no_var_expand
    @line_cell_magic
    def sindri(self, line: str, cell: str | None = None) -> Any:
        """Deploy and manage cloud GPUs: `%sindri help` lists the subcommands."""
        try:
            command, options = _commands.parse(self._expand(line))
            if cell is not None:
                # %%sindri deploy: the cell's body is a sindri.yaml, taken as is.
                if command != "deploy":
                    raise InputError(
                        f"%%sindri takes a sindri.yaml body for deploy only, not "
                        f"{command}: write %%sindri deploy [options].",
                        option="subcommand",
                        value=command,
                    )
                options.config_body = cell
            if command == "help":
                print(_commands.help_text(options.topic))
                return None
            self._apply_settings()
            from . import _frontend

            return getattr(_frontend, f"run_{command.replace('-', '_')}")(self, options)
        except WaitTimeoutError as error:
            from ._display import deployment_html, deployment_text

            if error.deployment is not None:
                _show(
                    deployment_html(error.deployment), deployment_text(error.deployment)
                )
            raise UsageError(str(error)) from None
        except SindriError as error:
            from ._redact import mask

            raise UsageError(mask(str(error))) from None


def _extend_docstring() -> None:
    Sindri.sindri.__doc__ = (
        (Sindri.sindri.__doc__ or "") + "\n\n" + _commands.help_text()
    )


_extend_docstring()
