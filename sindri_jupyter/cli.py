"""``sindri-jupyter``: the verbs of ``%sindri`` in a terminal.

The options are the magics' own (one parser per verb in ``_commands``), and the
text output is what the magics print. ``--json`` prints one JSON document on
standard output (progress goes to standard error). ``--sandbox``, or
``SINDRI_JUPYTER_SANDBOX=1``, uses the built-in emulators.

Exit codes::

    0    done (doctor: nothing to fix)
    1    an expected failure that is neither below (doctor: something to fix)
    2    usage: a bad verb, option or value; nothing was sent
    3    the provider refused, failed or could not be reached
    4    a wait ran past --timeout; the deployment was left as it is
    130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PROVIDER = 3
EXIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130

PROG = "sindri-jupyter"
GLOBAL_FLAGS = ("--json", "--sandbox")
#: verbs of the magics that belong to a notebook only
NOTEBOOK_ONLY = ("panel", "sandbox")
#: ``emulator <action>`` is ``%sindri sandbox <switch>``, with the same options
EMULATOR_ACTIONS = {"start": "on", "stop": "stop", "status": "status", "reset": "reset"}


def _terminal(text: str) -> str:
    """The magics' wording, with the terminal's command name."""
    return text.replace("%sindri ", f"{PROG} ").replace("%sindri", PROG)


class _TerminalWords:
    """A stream that writes the magics' wording with the terminal's command name."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_terminal(text))

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, fileno, …
        return getattr(self._stream, name)


def _err(text: str) -> None:
    print(_terminal(text), file=sys.stderr, flush=True)


def _jsonable(value: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if hasattr(value, "as_json"):
        return value.as_json()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "message") and hasattr(value, "deployment"):
        return {"message": value.message, "deployment": _jsonable(value.deployment)}
    return value if isinstance(value, str | int | float | bool | None) else str(value)


def _emit(value: Any, *, reveal: bool = False) -> None:
    from ._redact import mask

    text = json.dumps(_jsonable(value), indent=2, sort_keys=True)
    print(text if reveal else mask(text))


def _split_globals(argv: Sequence[str]) -> tuple[list[str], set[str]]:
    words, flags = [], set()
    for word in argv:
        if word in GLOBAL_FLAGS:
            flags.add(word)
        else:
            words.append(word)
    return words, flags


def _parse(words: list[str]) -> tuple[str, argparse.Namespace]:
    from ._commands import parse
    from ._errors import InputError

    if words[:1] == ["emulator"]:
        action = words[1] if len(words) > 1 else "status"
        if action not in EMULATOR_ACTIONS:
            raise InputError(
                f"{PROG} emulator {action!r}: use start, stop, status or reset.",
                option="emulator",
                value=action,
            )
        _, options = parse(
            shlex.join(["sandbox", EMULATOR_ACTIONS[action], *words[2:]])
        )
        return "emulator", options
    if words[:1] and words[0] in NOTEBOOK_ONLY:
        raise InputError(
            f"{words[0]} belongs to a notebook; in a terminal use "
            f"`{PROG} emulator start|stop|status` and --sandbox.",
            option="subcommand",
            value=words[0],
        )
    return parse(shlex.join(words))


def _help(topic: str | None) -> str:
    from ._commands import help_text

    if topic == "emulator":
        return (
            f"{PROG} emulator start|stop|status|reset [--seed N] [--clock MODE] "
            "[--step S] [--speed X]\n  Start, stop, show or reset the sandbox's "
            "emulators (the options of `%sindri sandbox`)."
        )
    if topic:
        return _terminal(help_text(topic))
    lines = _terminal(help_text()).splitlines()
    lines[0] = f"{PROG} [--json] [--sandbox] <verb> [options]; `{PROG} help <verb>`."
    lines.insert(2, f"  {'emulator':<8} Start, stop or show the sandbox's emulators.")
    hidden = {"panel", "sandbox"}
    return "\n".join(line for line in lines if not hidden & set(line.split()[:1]))


class _Stub:
    """Stands in for the magics object the shared run_* functions are handed."""

    sandbox: bool | None = None


# -- --json forms ------------------------------------------------------------------
def _json_deploy(options: argparse.Namespace) -> Any:
    from . import _api, _display, _frontend

    say = _err
    provider, values, naming = _frontend.deploy_request(options, say=say)
    with naming:
        if options.dry_run:
            return _api.plan(provider, **values)
        return _api.deploy(
            provider,
            on_progress=lambda p: say(_display.progress_line(p)),
            **values,
        )


def _json_gpus(options: argparse.Namespace) -> Any:
    from . import _api

    if hasattr(_api, "gpu_table") and hasattr(options, "only"):
        return _api.gpu_table(
            options.provider or options.only,
            cloud=options.cloud,
            min_memory=options.min_memory,
            max_price=options.max_price,
            count=options.count,
        )
    return _api.gpus(options.provider, cloud=options.cloud)


def _json_emulator(options: argparse.Namespace) -> Any:
    from . import _sandbox

    if options.switch != "status":
        _run_text("sandbox", options, out=sys.stderr)
    found = {p: _sandbox.running(p) for p in _sandbox.EMULATED}
    return {p: (e.base_url if e else None) for p, e in found.items()}


def _json_doctor(options: argparse.Namespace) -> Any:
    from . import _doctor

    return _doctor.run(options.provider)


def _json_action(options: argparse.Namespace) -> Any:
    from . import _api

    verb = options.verb
    if verb == "destroy":
        return _api.destroy(
            options.target, yes=options.yes, delete_volumes=options.delete_volumes
        )
    if verb == "connect":
        return _api.connect(options.target)
    if verb == "start":
        return _api.start(
            options.target, max_hours=options.max_hours, max_cost=options.max_cost
        )
    return getattr(_api, verb)(options.target)


def _json_listing(options: argparse.Namespace) -> Any:
    from . import _api

    if options.verb == "cost":
        return _api.cost(options.provider, since=options.since)
    return _api.status(options.provider, everything=options.everything)


def _json_ssh_config(options: argparse.Namespace) -> Any:
    from . import _ssh_config

    return {"message": _ssh_config.run(remove=options.remove, yes=options.yes)}


JSON_FORMS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "deploy": _json_deploy,
    "gpus": _json_gpus,
    "status": _json_listing,
    "cost": _json_listing,
    "connect": _json_action,
    "stop": _json_action,
    "start": _json_action,
    "pause": _json_action,
    "destroy": _json_action,
    "adopt": _json_action,
    "doctor": _json_doctor,
    "ssh-config": _json_ssh_config,
    "emulator": _json_emulator,
}


# -- running -----------------------------------------------------------------------
def _run_text(verb: str, options: argparse.Namespace, *, out: Any = None) -> int:
    """The magic's own run_* function; its views print as text here."""
    import contextlib

    from . import _frontend

    if verb == "doctor":
        from . import _doctor

        findings = _doctor.run(options.provider)
        print(_terminal(_doctor.report_text(findings)), file=out or sys.stdout)
        return EXIT_FAILED if any(f.ok is False for f in findings) else EXIT_OK
    name = "sandbox" if verb == "emulator" else verb.replace("-", "_")
    before, _frontend.terminal = _frontend.terminal, True
    try:
        with contextlib.redirect_stdout(_TerminalWords(out or sys.stdout)):
            getattr(_frontend, f"run_{name}")(_Stub(), options)
    finally:
        _frontend.terminal = before
    return EXIT_OK


def _exit_code(error: BaseException) -> int:
    from ._errors import InputError, ProviderError, WaitTimeoutError

    if isinstance(error, InputError):
        return EXIT_USAGE
    if isinstance(error, ProviderError):
        return EXIT_PROVIDER
    if isinstance(error, WaitTimeoutError):
        return EXIT_TIMEOUT
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Run one verb; return its exit code (see the module's docstring)."""
    from ._errors import SindriError, WaitTimeoutError
    from ._redact import mask

    words, flags = _split_globals(list(sys.argv[1:] if argv is None else argv))
    as_json = "--json" in flags
    try:
        if not words or words[0] in ("help", "-h", "--help"):
            print(_help(words[1] if len(words) > 1 else None))
            return EXIT_OK
        verb, options = _parse(words)
        if verb == "help":
            print(_help(options.topic))
            return EXIT_OK
        from . import _api

        if "--sandbox" in flags:
            _api.session().settings.sandbox = True
        options.verb = verb
        if not as_json:
            return _run_text(verb, options)
        form = JSON_FORMS.get(verb)
        if form is None:
            _err(f"{PROG} {verb} has no --json form; run it without --json.")
            return EXIT_USAGE
        result = form(options)
        _emit(result, reveal=getattr(options, "show_secrets", False))
        if verb == "doctor":
            return EXIT_FAILED if any(f.ok is False for f in result) else EXIT_OK
        return EXIT_OK
    except WaitTimeoutError as error:
        if error.deployment is not None:
            if as_json:
                _emit(error.deployment)
            else:
                print(error.deployment)
        _err(mask(str(error)))
        return EXIT_TIMEOUT
    except SindriError as error:
        _err(mask(str(error)))
        return _exit_code(error)
    except KeyboardInterrupt:
        _err("Interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. piped into `head`: the reader has gone
        sys.stdout = None  # type: ignore[assignment]
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
