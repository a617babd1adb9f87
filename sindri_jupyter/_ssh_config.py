"""``ssh-config``: a ``Host`` block per ready deployment, so a pod is ``ssh <name>``.

The blocks live in a file of our own under the data directory; the user's
``~/.ssh/config`` gets one ``Include`` line for it, added only after the user
agrees (or ``--yes``), at the top (where an ``Include`` applies to every host).
Nothing else of that file is changed. Every value written is checked first, so
no name or address can add an option of its own; a refusal writes nothing.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from ._config import data_dir
from ._errors import InputError
from ._models import Deployment, State

HEADER = "# sindri-jupyter"
_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:-]{0,252}")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_PATH = re.compile(r"[^\s\"'#\\]+")
_DIRECT = re.compile(
    r"ssh (?P<user>\S+)@(?P<host>\S+) -p (?P<port>\S+)(?: -i (?P<identity>\S+))?"
)


def config_file() -> Path:
    return data_dir() / "ssh_config"


def user_config() -> Path:
    return Path.home() / ".ssh" / "config"


def include_line() -> str:
    return f'Include "{config_file()}"'


@dataclasses.dataclass(frozen=True)
class HostBlock:
    alias: str
    ref: str
    id: str
    user: str
    host: str
    port: int
    identity: str | None

    def text(self) -> str:
        known_hosts = data_dir() / "ssh_known_hosts"
        lines = [
            f"{HEADER} {self.ref} id {self.id}",
            f"Host {self.alias}",
            f"    HostName {self.host}",
            f"    Port {self.port}",
            f"    User {self.user}",
        ]
        if self.identity:
            lines.append(f'    IdentityFile "{self.identity}"')
        # Pods come and go on reused addresses: their keys go in a file of ours.
        lines += [
            "    StrictHostKeyChecking no",
            f'    UserKnownHostsFile "{known_hosts}"',
        ]
        return "\n".join(lines) + "\n"


def _refuse(deployment: Deployment, what: str, value: str) -> InputError:
    return InputError(
        f"{deployment.ref}: its {what} {value!r} cannot go into an SSH config (it "
        "could add options of its own), so nothing was written; rename or destroy "
        "it.",
        option=what,
        value=value,
    )


def host_block(deployment: Deployment) -> HostBlock:
    """The block for one deployment, every value checked; raise before writing."""
    alias = deployment.name.replace(" ", "-")
    if not _ALIAS.fullmatch(alias):
        raise _refuse(deployment, "name", deployment.name)
    if not _PATH.fullmatch(deployment.id):
        raise _refuse(deployment, "id", deployment.id)
    direct = (deployment.connection and deployment.connection.ssh_direct) or ""
    match = _DIRECT.match(direct)
    if match is None or any(ord(c) < 32 or ord(c) == 127 for c in direct):
        raise _refuse(deployment, "SSH command", direct)
    user, host, port, identity = match.group("user", "host", "port", "identity")
    if not _USER.fullmatch(user):
        raise _refuse(deployment, "SSH user", user)
    if not _HOST.fullmatch(host):
        raise _refuse(deployment, "SSH host", host)
    if not (port.isdigit() and 1 <= int(port) <= 65535):
        raise _refuse(deployment, "SSH port", port)
    if identity is not None and not _PATH.fullmatch(identity):
        raise _refuse(deployment, "identity file", identity)
    return HostBlock(
        alias, deployment.ref, deployment.id, user, host, int(port), identity
    )


def blocks_for(deployments: Iterable[Deployment]) -> list[HostBlock]:
    """Blocks for this store's ready deployments with direct SSH; not the rest."""
    reachable = [
        d
        for d in deployments
        if d.state is State.READY
        and d.connection
        and d.connection.ssh_direct
        and d.in_store  # a stranger gets a block once adopted
    ]
    blocks = [host_block(d) for d in reachable]
    # A name used twice gets the provider in front; used twice on one provider,
    # its id behind as well.
    blocks = _unique(blocks, lambda b: f"{b.ref.split(':')[0]}-{b.alias}")
    return _unique(blocks, lambda b: f"{b.alias}-{b.id}")


def _unique(
    blocks: list[HostBlock], rename: Callable[[HostBlock], str]
) -> list[HostBlock]:
    taken = [b.alias for b in blocks]
    return [
        dataclasses.replace(b, alias=rename(b)) if taken.count(b.alias) > 1 else b
        for b in blocks
    ]


def _write_private(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, target)


def write(blocks: list[HostBlock]) -> Path:
    """Replace our file's blocks with these (our file only)."""
    target = config_file()
    intro = f"{HEADER}: written by `ssh-config`; changes here are overwritten.\n\n"
    _write_private(target, intro + "\n".join(b.text() for b in blocks))
    return target


def has_include() -> bool:
    try:
        lines = user_config().read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return include_line() in (line.strip() for line in lines)


def add_include() -> None:
    """Put the one Include line at the top of ~/.ssh/config; keep every other byte."""
    target = user_config()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        before = target.read_bytes()
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        before, mode = b"", 0o600
    temporary = target.with_name(target.name + ".sindri-tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(include_line().encode() + b"\n" + before)
    os.replace(temporary, target)


def _ask(question: str) -> bool | None:
    try:
        answer = input(question)
    except (EOFError, RuntimeError, NotImplementedError):
        return None
    return answer.strip().lower() in ("y", "yes")


def run(
    *,
    remove: bool = False,
    yes: bool = False,
    deployments: list[Deployment] | None = None,
    ask: Callable[[str], bool | None] = _ask,
) -> str:
    """Write (or with ``remove``, empty) our file; offer the Include line once."""
    target = config_file()
    if remove:
        count = len(_read_blocks())
        target.unlink(missing_ok=True)
        return (
            f"Removed {count} Host block(s) with {target}. The Include line in "
            "~/.ssh/config may stay: ssh skips a missing file."
        )
    if deployments is None:
        from . import _api

        deployments = list(_api.status())
    blocks = blocks_for(deployments)  # every check, before anything is written
    write(blocks)
    names = ", ".join(b.alias for b in blocks) or "none are ready with direct SSH"
    lines = [f"Wrote {len(blocks)} Host block(s) to {target}: {names}."]
    if has_include():
        lines.append(f"`ssh {blocks[0].alias}` connects." if blocks else "")
    else:
        agreed = yes or ask(
            f"Add the line {include_line()!r} at the top of {user_config()}? [y/N] "
        )
        if agreed:
            add_include()
            lines.append(f"Added the Include line to {user_config()}; nothing else.")
        else:
            lines.append(
                f"{user_config()} was not changed: add `{include_line()}` at its top "
                "yourself, or run again with --yes."
            )
    return "\n".join(line for line in lines if line)


def _read_blocks() -> list[str]:
    try:
        text = config_file().read_text(encoding="utf-8")
    except OSError:
        return []
    parts = text.split(f"\n{HEADER} ")
    return [f"{HEADER} {part}" for part in parts[1:]]


def forget(reference: str) -> bool:
    """Drop the block of a destroyed deployment (by name, id or ref); our file only."""
    blocks = _read_blocks()
    kept = []
    for block in blocks:
        ref, _, rest = (
            block.splitlines()[0].removeprefix(HEADER + " ").partition(" id ")
        )
        if reference not in (ref, rest, ref.partition(":")[2]):
            kept.append(block)
    if len(kept) == len(blocks):
        return False
    intro = config_file().read_text(encoding="utf-8").split(f"\n{HEADER} ")[0]
    _write_private(config_file(), intro + "\n" + "".join(kept))
    return True
