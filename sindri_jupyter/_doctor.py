"""``doctor``: what would make a deploy fail, found first, each with its fix.

Per provider it makes exactly one cheap request to learn whether the key works
(a wrong key costs one request and one line); RunPod then reads its list of
registered SSH keys. Nothing else is sent, and nothing is changed.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import _api, _config, _sandbox, _sync
from ._errors import AuthenticationError, SindriError

EXTENSION = "sindri-jupyter"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RUNPOD_WINDOW = re.compile(r'"(?P<window>\w+)";r=(?P<left>\d+)')
#: the one cheap call per provider that proves a key
PROBES = {
    "runpod": ("/v2/pods", None),
    "northflank": ("/v1/projects", {"per_page": 1}),
}


@dataclasses.dataclass(frozen=True)
class Finding:
    """One line: ``ok`` True (fine), False (needs the fix it names), None (info)."""

    topic: str
    ok: bool | None
    text: str

    def line(self) -> str:
        mark = {True: "ok  ", False: "FIX ", None: "info"}[self.ok]
        return f"{mark} {self.topic}: {self.text}"

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def report_text(findings: list[Finding]) -> str:
    problems = sum(1 for f in findings if f.ok is False)
    tail = "Nothing to fix." if not problems else f"{problems} to fix."
    return "\n".join([*(f.line() for f in findings), tail])


def run(
    provider: str | None = None,
    *,
    labextensions: Callable[[], str | None] | None = None,
) -> list[Finding]:
    """Every check, in a fixed order; ``labextensions`` stands in for the command."""
    from .providers import available

    session = _api.session()
    findings: list[Finding] = []
    public_key = _ssh_key_pair(session.settings.ssh_key_path, findings)
    for name in [provider] if provider else available():
        findings += _provider(session, name, public_key)
    findings.append(_extension(labextensions or _list_labextensions))
    return findings


# -- providers ---------------------------------------------------------------------
def _provider(session: Any, name: str, public_key: str | None) -> list[Finding]:
    topic = f"{name} key"
    if name not in session.endpoints:
        if session.settings.sandbox_on:
            endpoint = _sandbox.running(name)
            if endpoint is None:
                return [
                    Finding(
                        f"{name} emulator",
                        False,
                        "the sandbox is on but its emulator is not running: "
                        "`sindri-jupyter emulator start` (or `%sindri sandbox on`).",
                    )
                ]
            found = [
                Finding(f"{name} emulator", True, f"answers at {endpoint.base_url}.")
            ]
        else:
            variable = _config.PROVIDER_KEY_ENV[name]
            if not _config.os.environ.get(variable, "").strip():
                return [
                    Finding(
                        topic,
                        False,
                        f"{variable} is not set: export it, or use the sandbox "
                        "(--sandbox, or SINDRI_JUPYTER_SANDBOX=1).",
                    )
                ]
            found = []
    else:
        found = []
    try:
        reply, registered = _sync.run(lambda emit: _probe(session, name, public_key))
    except AuthenticationError as error:
        return [*found, Finding(topic, False, str(error))]
    except SindriError as error:
        return [*found, Finding(topic, False, f"the check failed: {error}")]
    path = PROBES[name][0]
    found.append(Finding(topic, True, f"works (GET {path} answered {reply.status})."))
    if name == "northflank":
        found.append(
            Finding(
                "northflank team",
                None,
                "cannot be known here: the one call made (a page of projects) does "
                "not name it, and GET /v1/auth's answer is not in our contract.",
            )
        )
    found.append(_room(name, reply.headers))
    if registered is not None:
        found.append(registered)
    return found


async def _probe(session: Any, name: str, public_key: str | None) -> tuple[Any, Any]:
    path, params = PROBES[name]
    async with session.provider(name) as api:
        reply = await api.api.call("GET", path, params=params, safe_to_repeat=False)
        registered = None
        if name == "runpod" and public_key:
            keys = await api.api.call(
                "GET", "/v2/account/ssh-keys", safe_to_repeat=False
            )
            registered = _registered(public_key, (keys.data or {}).get("keys") or [])
    return reply, registered


def _registered(public_key: str, keys: list[str]) -> Finding:
    blob = _blob(public_key)
    if any(_blob(key) == blob for key in keys):
        return Finding("runpod ssh key", True, "your public key is registered.")
    return Finding(
        "runpod ssh key",
        None,
        "your public key is not registered at RunPod; pods deployed here get it as "
        "PUBLIC_KEY, so only pods made elsewhere need it (RunPod console, Settings, "
        "SSH Public Keys).",
    )


def _blob(key: str) -> str:
    parts = key.split()
    return parts[1] if len(parts) > 1 else key


def _room(name: str, headers: Any) -> Finding:
    topic = f"{name} rate limit"
    if name == "northflank":
        left = headers.get("x-ratelimit-remaining")
        limit = headers.get("x-ratelimit-limit")
        reset = headers.get("x-ratelimit-reset")
        if left is None:
            return Finding(topic, None, "the answer carried no rate-limit headers.")
        ok = int(left) > 0
        text = f"{left} of {limit} requests left; the window resets in {reset} s."
        return Finding(topic, ok, text if ok else text + " Wait for the reset.")
    windows = _RUNPOD_WINDOW.findall(headers.get("ratelimit") or "")
    if not windows:
        return Finding(topic, None, "the answer carried no RateLimit header.")
    ok = all(int(left) > 0 for _, left in windows)
    text = ", ".join(f"{left} left this {window}" for window, left in windows) + "."
    return Finding(topic, ok, text if ok else text + " Wait for the window to reset.")


# -- the local machine -------------------------------------------------------------
def _ssh_key_pair(public_path: str, findings: list[Finding]) -> str | None:
    public = Path(public_path).expanduser()
    private = public.with_suffix("") if public.suffix == ".pub" else None
    key = _config.read_public_key(public_path)
    shown = str(private or public).replace(str(Path.home()), "~")
    fix = f"`ssh-keygen -t ed25519 -f {shown}`"
    if key is None:
        findings.append(
            Finding(
                "ssh key",
                False,
                f"no public key at {public_path}: create one with {fix}.",
            )
        )
        return None
    if private is None or not private.exists():
        findings.append(
            Finding(
                "ssh key",
                False,
                f"{public_path} has no private half beside it: ssh cannot log in; "
                f"create a pair with {fix}.",
            )
        )
        return key
    findings.append(Finding("ssh key", True, f"key pair at {public_path}."))
    return key


def _list_labextensions() -> str | None:
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent))
    jupyter = jupyter or shutil.which("jupyter")
    if jupyter is None:
        return None
    try:
        done = subprocess.run(
            [jupyter, "labextension", "list"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout + done.stderr


def _extension(list_them: Callable[[], str | None]) -> Finding:
    topic = "jupyterlab extension"
    listing = list_them()
    if listing is None:
        return Finding(
            topic,
            None,
            "JupyterLab is not installed here, so there is no panel in its sidebar "
            "(`pip install jupyterlab` to have one).",
        )
    for raw in listing.splitlines():
        words = _ANSI.sub("", raw).split()
        if words and words[0] == EXTENSION:
            if "disabled" in words:
                return Finding(
                    topic,
                    False,
                    "installed but disabled: "
                    f"`jupyter labextension enable {EXTENSION}`.",
                )
            if "OK" not in words:
                return Finding(
                    topic, False, "installed but not OK: reinstall sindri-jupyter."
                )
            return Finding(topic, True, "installed and enabled.")
    return Finding(
        topic,
        False,
        "not installed: reinstall sindri-jupyter (`pip install -e .`), then restart "
        "JupyterLab.",
    )
