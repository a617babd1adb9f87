"""sindri.yaml: Sindri v3's file, read for ``deploy --config`` and ``%%sindri deploy``.

What each field becomes is in ``docs/sindri-yaml.md``; the schema that editors
can use is ``sindri_jupyter/data/sindri-yaml.schema.json``. Options given on
the command line win over the file's values.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from .._errors import InputError
from ._check import check, parse, read, schema, schema_path
from ._translate import Translation, keyword, translate

__all__ = ["FileRequest", "apply", "check", "load", "schema", "schema_path"]


def load(
    *, path: str | None = None, text: str | None = None, origin: str = "sindri.yaml"
) -> Translation:
    """Read, check and translate a file or a cell body; nothing is sent."""
    if path is not None:
        document, origin = read(path)
    else:
        document = parse(text or "", origin)
    return translate(check(document, origin), origin)


class FileRequest:
    """The provider and ``build_spec`` options of a deploy that read a sindri.yaml."""

    def __init__(self, provider: str, values: dict[str, Any], sources: dict[str, str]):
        self.provider = provider
        self.values = values
        self.sources = sources  # flag → the field that set it, for messages
        self.origin = ""

    @contextlib.contextmanager
    def naming(self) -> Iterator[None]:
        """Refusals of a value from the file name its field, not the flag."""
        try:
            yield
        except InputError as error:
            source = self.sources.get(error.option or "")
            message = str(error)
            if source and message.startswith(error.option or ""):
                error.args = (
                    f"{self.origin}: {source}{message[len(error.option or '') :]}",
                )
                error.option = source
            raise


def _line_defaults() -> dict[str, Any]:
    from .. import _commands, _frontend

    return _frontend._deploy_options(_commands.BUILDERS["deploy"]().parse_args([]))


def apply(
    options: argparse.Namespace,
    values: dict[str, Any],
    *,
    say: Callable[[str], None] = print,
) -> FileRequest:
    """The line's options over the file's (``--config``) or the cell's body."""
    body = getattr(options, "config_body", None)
    if options.config is not None and body is not None:
        raise InputError(
            "Give the file with --config or as the cell's body, not both.",
            option="--config",
            value=options.config,
        )
    if body is not None:
        translation = load(text=body, origin="the cell")
    else:
        translation = load(path=options.config)
    if options.provider and options.provider != translation.provider:
        raise InputError(
            f"{translation.origin} deploys to {translation.provider}, but the line "
            f"says {options.provider}: drop one.",
            option="provider",
            value=options.provider,
        )
    defaults = _line_defaults()
    merged = dict(values)
    sources: dict[str, str] = {}
    for flag, source in translation.sources.items():
        name = keyword(flag)
        if values.get(name) != defaults.get(name):
            if name == "env":
                merged["env"] = [*translation.options.get("env", []), *values["env"]]
                continue
            translation.notes.append(f"{flag} on the line wins over {source}.")
            continue
        sources[flag] = source
        if name in translation.options:
            merged[name] = translation.options[name]
    request = FileRequest(translation.provider, merged, sources)
    request.origin = translation.origin
    if translation.region_prefix and "--datacenter" in sources:
        merged["datacenters"] = _expand_region(translation)
    for note in translation.notes:
        say(note)
    if translation.unused:
        say("Not used here: " + "; ".join(translation.unused) + ".")
    from .. import _api

    with request.naming():
        _api.build_spec(translation.provider, **merged)  # every value, before sending
    return request


def _expand_region(translation: Translation) -> list[str]:
    """``US`` or ``EU`` to RunPod's data center ids with that prefix (one request)."""
    from .. import _api, _sync

    async def listed() -> list[str]:
        async with _api.session().provider("runpod") as api:
            reply = await api.api.call(  # type: ignore[attr-defined]
                "GET", "/v2/catalog/datacenters", safe_to_repeat=True
            )
        return [c["id"] for c in (reply.data or {}).get("dataCenters", [])]

    prefix = (translation.region_prefix or "").upper()
    every = _sync.run(lambda emit: listed())
    found = [i for i in every if i == prefix or i.startswith(prefix + "-")]
    if not found:
        raise InputError(
            f"{translation.origin}: providers.runpod.region {prefix!r} matches no "
            "data center; use a prefix such as US or EU, or one of "
            f"{', '.join(every)}.",
            option="providers.runpod.region",
            value=translation.region_prefix,
        )
    return found
