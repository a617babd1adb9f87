"""One parser per subcommand of ``%sindri``, shared by every text front end.

Lines are split with shell quoting rules, so ``--gpu "NVIDIA A100 80GB PCIe"``
and ``--gpu="NVIDIA A100 80GB PCIe"`` both work. A parse failure is an
:class:`InputError` with one sentence, never a ``SystemExit``.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable

from ._errors import InputError

PROVIDER_CHOICES = ("runpod", "northflank")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise InputError(
            f"%sindri {self.prog}: {message}. See `%sindri help {self.prog}`."
        )

    def exit(self, status: int = 0, message: str | None = None):  # type: ignore[override]
        raise InputError(message or f"%sindri {self.prog} stopped.")


def _new(name: str, summary: str) -> _Parser:
    return _Parser(prog=name, description=summary, add_help=False, allow_abbrev=False)


def _deploy() -> _Parser:
    parser = _new("deploy", "Create a GPU deployment and wait until it is reachable.")
    parser.add_argument(
        "provider",
        nargs="?",
        choices=PROVIDER_CHOICES,
        help="runpod or northflank (default: the configured one)",
    )
    parser.add_argument(
        "--gpu",
        help="GPU id or alias, e.g. A100, 4090, "
        "'NVIDIA A100 80GB PCIe'; several ids, comma-separated, are "
        "tried in order when one has no capacity",
    )
    parser.add_argument("--name", help="your name for it (default: generated)")
    parser.add_argument("--count", type=int, default=1, help="GPUs per machine (1)")
    parser.add_argument(
        "--image", help="container image (default: %%config Sindri.image)"
    )
    parser.add_argument("--cloud", help="secure or community (RunPod)")
    parser.add_argument("--disk", type=int, help="container disk in GB, wiped on stop")
    parser.add_argument(
        "--volume",
        type=int,
        help="persistent volume in GB (0 for none), kept across stops",
    )
    parser.add_argument("--volume-path", default="/workspace", help="where it mounts")
    parser.add_argument("--ports", help="e.g. '8888/http, 22/tcp' (default: both)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment variable; repeat for more",
    )
    parser.add_argument("--datacenter", help="data center ids to try, comma-separated")
    parser.add_argument("--timeout", help="how long to wait, e.g. 90s, 30m, 3h")
    parser.add_argument("--no-wait", action="store_true", help="return once created")
    parser.add_argument(
        "--spot",
        action="store_true",
        help="ask for an interruptible machine, where offered",
    )
    parser.add_argument(
        "--stop-after",
        metavar="DURATION",
        help="ask the provider to stop it after this long, where offered",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show the request and its $/h; send nothing",
    )
    parser.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="PORT/KIND",
        help="one exposed port, e.g. 8888/http (http ports are public on "
        "northflank); repeat for more",
    )
    parser.add_argument(
        "--project", help="northflank project, created if missing (default: sindri)"
    )
    parser.add_argument(
        "--region", help="northflank region for a new project (e.g. us-central)"
    )
    parser.add_argument("--plan", help="northflank compute plan, e.g. nf-compute-200")
    parser.add_argument("--cpu", help="northflank: vCPUs; the smallest plan that fits")
    parser.add_argument(
        "--memory", help="northflank: memory, e.g. 8G; the smallest plan that fits"
    )
    parser.add_argument(
        "--max-hours",
        metavar="H",
        help="stop it after H running hours (RunPod: inside the pod too)",
    )
    parser.add_argument(
        "--max-cost",
        metavar="USD",
        help="stop it once it has cost this many dollars ($/h × running time)",
    )
    parser.add_argument(
        "--stop-when-idle",
        metavar="DURATION",
        help="stop it after its GPU stays under 5%% this long, e.g. 30m",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="read a sindri.yaml (docs/sindri-yaml.md); options given here win",
    )
    return parser


def _gpus() -> _Parser:
    parser = _new("gpus", "GPU types of both providers with memory, $/h and stock.")
    parser.add_argument("provider", nargs="?", choices=PROVIDER_CHOICES)
    parser.add_argument(
        "--provider",
        dest="only",
        choices=PROVIDER_CHOICES,
        help="one provider only (same as naming it first)",
    )
    parser.add_argument("--cloud", help="secure or community: prices for that cloud")
    parser.add_argument("--min-memory", metavar="GB", help="at least this much VRAM")
    parser.add_argument(
        "--max-price", metavar="USD", help="at most this much an hour (for --count)"
    )
    parser.add_argument(
        "--count", type=int, default=1, help="GPUs per machine; prices × count (1)"
    )
    return parser


def _cost() -> _Parser:
    parser = _new("cost", "What runs now and its burn rate; spend over a period.")
    parser.add_argument("provider", nargs="?", choices=PROVIDER_CHOICES)
    parser.add_argument(
        "--since", metavar="DURATION", help="spend over this period, e.g. 7d, 12h"
    )
    return parser


def _status() -> _Parser:
    parser = _new("status", "Every deployment: state, GPU, $/h, $ so far, uptime.")
    parser.add_argument("provider", nargs="?", choices=PROVIDER_CHOICES)
    parser.add_argument(
        "--all",
        dest="everything",
        action="store_true",
        help="search every place for tagged deployments this store does not know "
        "and offer to adopt or destroy each; list records already gone too",
    )
    return parser


def _one(name: str, summary: str) -> Callable[[], _Parser]:
    def build() -> _Parser:
        parser = _new(name, summary)
        parser.add_argument("target", help="name, id, or provider:name")
        if name == "connect":
            parser.add_argument(
                "--show-secrets",
                action="store_true",
                help="show the Jupyter token instead of masking it",
            )
        if name == "start":
            parser.add_argument(
                "--max-hours",
                metavar="H",
                help="new kernel limit on running hours across all starts",
            )
            parser.add_argument(
                "--max-cost",
                metavar="USD",
                help="new kernel limit on dollars across all starts",
            )
        if name == "destroy":
            parser.add_argument("--yes", action="store_true", help="do not ask first")
            parser.add_argument(
                "--delete-volumes",
                action="store_true",
                help="northflank: delete its volumes too (kept by default)",
            )
        return parser

    return build


def _login() -> _Parser:
    parser = _new("login", "Save a provider key (hidden prompt) in the keyring.")
    parser.add_argument("provider", choices=PROVIDER_CHOICES)
    parser.add_argument("--forget", action="store_true", help="remove the saved key")
    return parser


def _sandbox() -> _Parser:
    parser = _new("sandbox", "Use the built-in emulators instead of the real APIs.")
    parser.add_argument(
        "switch",
        nargs="?",
        default="status",
        choices=("on", "off", "status", "stop", "reset"),
        help="on, off, status, stop (end the emulators), reset",
    )
    parser.add_argument(
        "--seed", type=int, help="fixed ids and addresses (reset/start)"
    )
    parser.add_argument(
        "--clock",
        choices=("realtime", "step", "manual"),
        help="step: time moves a fixed amount per request (repeatable runs)",
    )
    parser.add_argument(
        "--step",
        type=float,
        default=5.0,
        help="seconds per request with --clock step (5)",
    )
    parser.add_argument("--speed", type=float, help="realtime clock speed factor")
    parser.add_argument(
        "--epoch",
        metavar="TIME",
        help="set the emulators' clock to this RFC 3339 time (repeatable dates)",
    )
    return parser


def _doctor() -> _Parser:
    parser = _new("doctor", "Check keys, SSH key, extension and emulators; say fixes.")
    parser.add_argument("provider", nargs="?", choices=PROVIDER_CHOICES)
    return parser


def _ssh_config() -> _Parser:
    parser = _new(
        "ssh-config", "Write a Host block per ready deployment with direct SSH."
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="add the Include line to ~/.ssh/config without asking",
    )
    parser.add_argument(
        "--remove", action="store_true", help="remove every block this wrote"
    )
    return parser


def _panel() -> _Parser:
    return _new(
        "panel", "Open the widget panel: deploy, watch and manage GPUs by clicking."
    )


def _help() -> _Parser:
    parser = _new("help", "Explain a subcommand.")
    parser.add_argument("topic", nargs="?")
    return parser


BUILDERS: dict[str, Callable[[], _Parser]] = {
    "deploy": _deploy,
    "gpus": _gpus,
    "status": _status,
    "cost": _cost,
    "connect": _one("connect", "SSH commands, Jupyter link and HTTP URLs."),
    "stop": _one("stop", "Stop: compute is released; the container disk is wiped."),
    "start": _one("start", "Start a stopped deployment again."),
    "pause": _one("pause", "Pause, where the provider has a pause distinct from stop."),
    "destroy": _one("destroy", "Delete it and its volume; asks first."),
    "adopt": _one("adopt", "Track a deployment found by its tag in this store."),
    "sandbox": _sandbox,
    "login": _login,
    "doctor": _doctor,
    "ssh-config": _ssh_config,
    "panel": _panel,
    "help": _help,
}


def split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as error:
        raise InputError(
            f"Cannot read the line ({error}): close every quote, e.g. "
            '%sindri deploy runpod --gpu "NVIDIA A100 80GB PCIe".'
        ) from None


def parse(line: str) -> tuple[str, argparse.Namespace]:
    words = split(line)
    if not words:
        return "help", argparse.Namespace(topic=None)
    command, rest = words[0], words[1:]
    if command in ("-h", "--help"):
        command = "help"
    if command not in BUILDERS:
        known = ", ".join(BUILDERS)
        raise InputError(
            f"Unknown subcommand {command!r}: use one of {known}.",
            option="subcommand",
            value=command,
        )
    if "-h" in rest or "--help" in rest:
        return "help", argparse.Namespace(topic=command)
    return command, BUILDERS[command]().parse_args(rest)


def help_text(topic: str | None = None) -> str:
    if topic:
        if topic not in BUILDERS:
            raise InputError(
                f"No help for {topic!r}: use one of {', '.join(BUILDERS)}."
            )
        parser = BUILDERS[topic]()
        parser.prog = f"%sindri {topic}"
        return parser.format_help()
    lines = [
        "%sindri <subcommand> [options]; `%sindri help <subcommand>` for options.",
        "",
    ]
    for name, build in BUILDERS.items():
        lines.append(f"  {name:<8} {build().description}")
    lines += [
        "",
        "IPython expands $name and {expression} in the line; write $$ and {{ }} for",
        "a literal $ or braces. Defaults: %config Sindri.<option> (see `%config Sindri`).",
    ]
    return "\n".join(lines)
