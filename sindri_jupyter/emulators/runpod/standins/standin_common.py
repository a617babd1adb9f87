"""What every stand-in shares: the emulator's address, its clock, the event log.

Stand-ins run inside an emulated container with only the standard library. When
the emulator stops answering they exit, so no container outlives its emulator.
"""

import json
import os
import sys
import urllib.error
import urllib.request
from datetime import datetime

URL = os.environ.get("SINDRI_EMULATOR_URL", "")
POD = os.environ.get("RUNPOD_POD_ID", "")
EVENTS = os.environ.get("SINDRI_CONTAINER_EVENTS", "")
RUNPOD_API = "https://api.runpod.io"


class EmulatorGone(Exception):
    """The emulator no longer answers: the container ends with it."""


def control(path, body=None):
    """A call to the emulator's control surface (no key, no clock tick)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{URL}/_emulator/{path}",
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.loads(answer.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise EmulatorGone(str(error)) from None


def virtual_now():
    """The emulator's clock, in seconds since the epoch."""
    text = control("clock")["now"].replace("Z", "+00:00")
    return datetime.fromisoformat(text).timestamp()


def record(text):
    """Append one line to the container's event log, stamped with virtual time."""
    try:
        stamp = control("clock")["now"]
    except EmulatorGone:
        stamp = "?"
    with open(EVENTS, "a", encoding="utf-8") as events:
        events.write(f"{stamp} {text}\n")


def api(method, path, body=None, key=None):
    """A provider-API call to the emulator, as the pod would make it."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        f"{URL}{path}", data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        raise EmulatorGone(str(error)) from None


def hold():
    """Stay up, as a server would, until the emulator is gone."""
    import time

    while True:
        try:
            control("health")
        except EmulatorGone:
            sys.exit(0)
        time.sleep(0.5)
