"""What each ``%sindri`` subcommand does with its parsed options.

Holds no provider logic: it calls the core and renders what comes back.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from . import _api, _config, _display, _sandbox
from ._errors import InputError, SindriError
from ._models import Deployment, Progress

#: True in the CLI: views are printed as text, never sent to a notebook
terminal = False


def _show(html: str, text: str) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display

    if terminal or not InteractiveShell.initialized():
        print(text)  # a terminal gets the text form
        return
    display({"text/html": html, "text/plain": text}, raw=True)


def _show_deployment(deployment: Deployment, *, show_secrets: bool = False) -> None:
    _show(
        _display.deployment_html(deployment, show_secrets=show_secrets),
        _display.deployment_text(deployment, show_secrets=show_secrets),
    )


def _print_progress(progress: Progress) -> None:
    print(_display.progress_line(progress), flush=True)


def _deploy_options(options: argparse.Namespace) -> dict[str, Any]:
    return {
        "gpu": options.gpu,
        "name": options.name,
        "count": options.count,
        "image": options.image,
        "cloud": options.cloud,
        "disk": options.disk,
        "volume": options.volume,
        "volume_path": options.volume_path,
        "ports": options.ports,
        "env": options.env,
        "datacenters": options.datacenter,
        "timeout": options.timeout,
        "wait": not options.no_wait,
        "spot": options.spot,
        "stop_after": options.stop_after,
        "port": options.port or None,
        "project": options.project,
        "region": options.region,
        "plan": options.plan,
        "cpu": options.cpu,
        "memory": options.memory,
        "max_hours": options.max_hours,
        "max_cost": options.max_cost,
        "stop_when_idle": options.stop_when_idle,
    }


def _notices() -> None:
    """Sentences from work done on the side: guards that acted, the reminder."""
    from ._redact import mask

    for line in _api.session().take_notices():
        print(mask(line))


def _needs_gpu(provider: str | None) -> bool:
    from .providers import available, provider_class

    name = provider or _api.session().settings.default_provider
    return name not in available() or provider_class(name).needs_gpu


def deploy_request(
    options: argparse.Namespace, say: Any = print
) -> tuple[str | None, dict[str, Any], Any]:
    """Provider, options and error naming of a deploy; a sindri.yaml's where given.

    The magics and the CLI both call this, so the same words send the same request.
    """
    values = _deploy_options(options)
    if options.config is None and getattr(options, "config_body", None) is None:
        return options.provider, values, contextlib.nullcontext()
    from ._config_file import apply

    request = apply(options, values, say=say)
    return request.provider, request.values, request.naming()


def run_deploy(magics: Any, options: argparse.Namespace) -> None:
    provider, values, naming = deploy_request(options)
    with naming:
        _run_deploy(provider, values, options.dry_run)


def _run_deploy(provider: str | None, values: dict[str, Any], dry_run: bool) -> None:
    if not values["gpu"] and _needs_gpu(provider):
        raise InputError(
            "--gpu is required: name a GPU type, e.g. --gpu A100.", option="--gpu"
        )
    if dry_run:
        plan = _api.plan(provider, **values)
        print(_display.plan_text(plan))
        return
    latest: list[Deployment] = []

    def follow(progress: Progress) -> None:
        if progress.deployment is not None:
            latest[:] = [progress.deployment]
        _print_progress(progress)

    try:
        deployment = _api.deploy(provider, on_progress=follow, **values)
    except KeyboardInterrupt:
        print(_interrupted(latest[0] if latest else None))
        return
    finally:
        _notices()
    _show_deployment(deployment)


def _interrupted(deployment: Deployment | None) -> str:
    if deployment is None:
        return (
            "Interrupted. If the create had been sent, `%sindri status` finds the "
            "pod by its launch id."
        )
    return (
        f"Stopped waiting: {deployment.ref} (id {deployment.id}) was left "
        f"{deployment.state.value} at {_display.money(deployment.cost_per_hour, '/h')}. "
        f"`%sindri status` follows it; `%sindri destroy {deployment.id}` removes it."
    )


def run_gpus(magics: Any, options: argparse.Namespace) -> None:
    if options.provider and options.only and options.provider != options.only:
        raise InputError(
            f"--provider {options.only} contradicts {options.provider}: name one.",
            option="--provider",
            value=options.only,
        )
    found = _api.gpu_table(
        options.provider or options.only,
        cloud=options.cloud,
        min_memory=options.min_memory,
        max_price=options.max_price,
        count=options.count,
    )
    _show(found._repr_html_(), str(found))


def run_status(magics: Any, options: argparse.Namespace) -> None:
    everything = getattr(options, "everything", False)
    try:
        deployments = _api.status(options.provider, everything=everything)
    finally:
        _notices()
    _show(deployments._repr_html_(), str(deployments))
    if everything:
        _offer([d for d in deployments if not d.in_store])


def _offer(strangers: list[Deployment]) -> None:
    """Ask, for each tagged deployment this store does not know, what to do."""
    from ._redact import mask

    for deployment in strangers:
        label = f"{deployment.ref} (id {deployment.id})"
        try:
            answer = input(f"{label}: [a]dopt, [d]estroy or [s]kip? [s] ")
        except (EOFError, RuntimeError, NotImplementedError):
            # Nobody can answer here: the lines above name both commands.
            print()
            return
        try:
            if not _answer(deployment, label, answer.strip().lower()):
                return
        except SindriError as error:  # one failure does not end the questions
            print(mask(f"{label} was left as it is: {error}"))


def _answer(deployment: Deployment, label: str, choice: str) -> bool:
    """Carry out one answer; False once nobody is left to answer."""
    target = f"{deployment.provider}:{deployment.id}"
    if choice in ("a", "adopt"):
        print(_api.adopt(target).message)
    elif choice in ("d", "destroy"):
        try:
            print(_api.destroy(target).message)
        except InputError as refusal:
            if refusal.option != "--yes":
                raise
            print(f"Left {label} as it is: `%sindri destroy {target}` deletes it.")
            return False  # its question went unanswered: nobody is there
    elif choice in ("", "s", "skip"):
        print(f"Left {label} as it is.")
    else:
        print(f"Left {label} as it is: answer a, d or s.")
    return True


def run_adopt(magics: Any, options: argparse.Namespace) -> None:
    print(_api.adopt(options.target).message)


def run_cost(magics: Any, options: argparse.Namespace) -> None:
    try:
        report = _api.cost(options.provider, since=options.since)
    finally:
        _notices()
    _show(report._repr_html_(), str(report))


def run_connect(magics: Any, options: argparse.Namespace) -> None:
    try:
        deployment = _api.connect(options.target)
    finally:
        _notices()
    _show_deployment(deployment, show_secrets=options.show_secrets)


def run_stop(magics: Any, options: argparse.Namespace) -> None:
    try:
        print(_api.stop(options.target).message)
    finally:
        _notices()


def run_pause(magics: Any, options: argparse.Namespace) -> None:
    try:
        print(_api.pause(options.target).message)
    finally:
        _notices()


def run_start(magics: Any, options: argparse.Namespace) -> None:
    # The outcome sentence arrives as the first progress line, before the wait.
    try:
        result = _api.start(
            options.target,
            on_progress=_print_progress,
            max_hours=options.max_hours,
            max_cost=options.max_cost,
        )
    finally:
        _notices()
    if result.deployment is not None:
        _show_deployment(result.deployment)


def run_destroy(magics: Any, options: argparse.Namespace) -> None:
    try:
        result = _api.destroy(
            options.target, yes=options.yes, delete_volumes=options.delete_volumes
        )
    finally:
        _notices()
    print(result.message)


def run_sandbox(magics: Any, options: argparse.Namespace) -> None:
    switch = options.switch
    if switch == "off":
        magics.sandbox = False
        print("Sandbox off: commands use the real APIs with your keys.")
        return
    if switch == "stop":
        stopped = [p for p in _sandbox.EMULATED if _sandbox.stop(p)]
        magics.sandbox = False
        print(
            "Stopped the sandbox's emulators."
            if stopped
            else "No emulator was running."
        )
        return
    if switch == "status":
        _print_sandbox_status(magics)
        return
    if options.step <= 0:
        raise InputError(
            f"--step {options.step:g} must be more than 0 seconds.",
            option="--step",
            value=options.step,
        )
    if options.speed is not None and options.speed <= 0:
        raise InputError(
            f"--speed {options.speed:g} must be more than 0.",
            option="--speed",
            value=options.speed,
        )
    epoch = _epoch(options) if options.epoch else None
    magics.sandbox = True
    from .providers import available

    for provider in available():
        endpoint = _sandbox.ensure(provider, seed=options.seed, speed=options.speed)
        if switch == "reset":
            _sandbox.control(
                endpoint, "POST", "reset", _without_none({"seed": options.seed})
            )
        if options.clock:
            body = {"mode": options.clock, "step": options.step, "speed": options.speed}
            _sandbox.control(endpoint, "POST", "clock", _without_none(body))
        if epoch:
            _sandbox.control(endpoint, "POST", "clock", {"epoch": epoch})
    said = " (reset: the emulators' deployments are gone)" if switch == "reset" else ""
    print(
        f"Sandbox on{said}: the built-in emulators stand in for the providers; "
        "no account needed, nothing here costs money."
    )


def _epoch(options: argparse.Namespace) -> str:
    from datetime import datetime

    try:
        datetime.fromisoformat(options.epoch.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"--epoch {options.epoch!r} is not an RFC 3339 time, such as "
            "2026-06-01T09:00:00Z.",
            option="--epoch",
            value=options.epoch,
        ) from None
    return options.epoch


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _print_sandbox_status(magics: Any) -> None:
    session = _api.session()
    state = "on" if session.settings.sandbox_on else "off"
    lines = [f"Sandbox is {state}."]
    for provider in _sandbox.EMULATED:
        endpoint = _sandbox.running(provider)
        where = endpoint.base_url if endpoint else "not running"
        lines.append(f"  {provider} emulator: {where}")
    print("\n".join(lines))


def run_doctor(magics: Any, options: argparse.Namespace) -> None:
    from . import _doctor

    print(_doctor.report_text(_doctor.run(options.provider)))


def run_ssh_config(magics: Any, options: argparse.Namespace) -> None:
    from . import _ssh_config

    print(_ssh_config.run(remove=options.remove, yes=options.yes))


def run_panel(magics: Any, options: argparse.Namespace) -> Any:
    from ._panel import Panel

    return Panel()


def run_login(magics: Any, options: argparse.Namespace) -> None:
    from . import _credentials

    if options.forget:
        removed = _credentials.forget_key(options.provider)
        print(
            f"Removed the saved {options.provider} key."
            if removed
            else f"No {options.provider} key was saved."
        )
        return
    import getpass

    try:
        key = getpass.getpass(f"{options.provider} API key (hidden): ").strip()
    except (EOFError, RuntimeError, NotImplementedError):
        raise InputError(
            "Cannot prompt for a key here: set "
            f"{_config.PROVIDER_KEY_ENV[options.provider]} instead."
        ) from None
    if not key:
        raise InputError("No key was typed; nothing was saved.")
    print(_credentials.save_key(options.provider, key))
