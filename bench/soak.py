"""Soak: deploy/stop/start/destroy cycles with injected faults, then count losses.

    python bench/soak.py --cycles 500 --fault-rate 0.2

Each cycle deploys a pod on the RunPod emulator, stops it, starts it and destroys
it, as a user would: every expected failure is reported to the user (it is a
``SindriError``), and at the end of each cycle the user looks at ``status`` and
destroys whatever it lists. Before each call, with probability ``--fault-rate``,
one fault from the emulator's catalogue is armed for that call.

It prints: cycles, faults injected, orphans (pods that exist at the end but the
user was never told about), keys leaked (any 6-character piece of the random
``rpa_`` key found in any message or log record), tracebacks (exceptions that were
not ``SindriError``), and the run time. The emulator runs on a fast clock and the
library on an injected clock, with sub-second request timeouts, so 500 cycles fit
in minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import random
import secrets
import string
import sys
import tempfile
import time
import traceback
from pathlib import Path

FAULTS = (
    ("server-error", {}),
    ("reset", {}),
    ("commit-then-reset", {}),
    ("html-502", {}),
    ("echo-auth", {}),
    ("empty-body", {}),
    ("truncated-json", {}),
    ("rate-limit", {"retry_after": 1}),
    ("slow", {"seconds": 0.6}),
    ("capacity", {}),
    ("delete-pod", {}),
)


def _fake_key() -> str:
    alphabet = string.ascii_letters + string.digits
    return "rpa_" + "".join(secrets.choice(alphabet) for _ in range(40))


class Soak:
    def __init__(self, cycles: int, rate: float, seed: int) -> None:
        os.environ["SINDRI_JUPYTER_DATA_DIR"] = tempfile.mkdtemp(prefix="sindri-soak-")
        os.environ["SINDRI_JUPYTER_LOOPBACK_ONLY"] = "1"
        from sindri_jupyter import _api
        from sindri_jupyter._config import Endpoint
        from sindri_jupyter._engine import Session
        from sindri_jupyter.emulators import EmulatorControl, serve
        from tests._clock import SteppedClock

        self.cycles, self.rate = cycles, rate
        self.random = random.Random(seed)
        self.key = _fake_key()
        self.server = serve(
            "runpod",
            seed=seed,
            api_keys=[self.key],
            clock={"mode": "realtime", "speed": 200.0},
        )
        self.control = EmulatorControl(self.server.base_url)
        endpoint = Endpoint("runpod", self.server.base_url, self.key, sandbox=True)
        # The library's waits take no wall time; its deadlines still hold.
        fast = SteppedClock(pause=0.002)
        self.session = Session(endpoints={"runpod": endpoint}, clock=fast)
        self.session.settings.request_timeout_seconds = 0.4
        self.session.settings.timeout_seconds = 120.0
        _api._session = self.session
        self.api = _api
        self.faults = 0
        self.tracebacks: list[str] = []
        self.told: set[str] = set()
        self.said: list[str] = []
        self.log = io.StringIO()
        handler = logging.StreamHandler(self.log)
        handler.setLevel(logging.DEBUG)
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)

    def _arm(self, method: str, path: str, pod_id: str | None) -> None:
        if self.random.random() >= self.rate:
            return
        name, params = self.random.choice(FAULTS)
        self.faults += 1
        if name == "delete-pod":
            from sindri_jupyter.emulators import EmulatorControlError

            try:
                if pod_id:
                    self.control.delete_pod(pod_id)  # deleted outside the library
            except EmulatorControlError:
                pass  # already gone
            return
        self.control.enable_fault(
            name, count=1, method=method, path=path, params=params
        )

    def _call(self, what, *args, **kwargs):
        from sindri_jupyter._errors import SindriError

        try:
            result = what(*args, **kwargs)
        except SindriError as error:
            text = str(error)
            self.said.append(text)
            self._remember(getattr(error, "deployment", None))
            return None
        except Exception:  # noqa: BLE001 - counting these is the point
            self.tracebacks.append(traceback.format_exc())
            return None
        finally:
            self.control.clear_faults()
        self.said.append(str(result))
        self._remember(getattr(result, "deployment", result))
        return result

    def _remember(self, shown) -> None:
        for deployment in shown if isinstance(shown, list) else [shown]:
            identifier = getattr(deployment, "id", None)
            if identifier:
                self.told.add(identifier)

    def cycle(self, number: int) -> None:
        name = f"soak-{number}"
        self._arm("POST", "/v2/pods", None)
        pod = self._call(self.api.deploy, "runpod", gpu="L40", name=name, volume=0)
        pod_id = getattr(pod, "id", None)
        for action in (self.api.stop, self.api.start):
            self._arm("*", "/v2/pods*", pod_id)
            self._call(action, pod_id or name)
        self._arm("*", "/v2/pods*", pod_id)
        self._call(self.api.destroy, pod_id or name, yes=True)
        self._tidy()

    def _tidy(self) -> None:
        listed = self._call(self.api.status) or []
        for deployment in listed:
            if deployment.state.value != "gone":
                self._call(self.api.destroy, deployment.id, yes=True)

    def orphans(self) -> list[str]:
        self.control.clear_faults()
        return [pod for pod in self._remote_pods() if pod not in self.told]

    def _remote_pods(self) -> list[str]:
        import httpx

        reply = httpx.get(
            f"{self.server.base_url}/v2/pods",
            headers={"Authorization": f"Bearer {self.key}"},
        )
        return [pod["id"] for pod in reply.json()["pods"]]

    def leaked(self) -> int:
        pieces = {self.key[i : i + 6] for i in range(len(self.key) - 5)}
        text = "\n".join(self.said) + self.log.getvalue() + "".join(self.tracebacks)
        return sum(1 for piece in pieces if piece in text)

    def close(self) -> None:
        self.control.close()
        self.server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.monotonic()
    soak = Soak(args.cycles, args.fault_rate, args.seed)
    try:
        for number in range(args.cycles):
            soak.cycle(number)
        orphans = soak.orphans()
        soak.left = len(soak._remote_pods())
        leaked = soak.leaked()
    finally:
        soak.close()
    elapsed = time.monotonic() - started
    print(f"cycles            {args.cycles}")
    print(f"faults injected   {soak.faults}")
    print(f"orphans           {len(orphans)}")
    print(f"pods left         {soak.left}")
    print(f"keys leaked       {leaked}")
    print(f"tracebacks        {len(soak.tracebacks)}")
    print(f"run time          {elapsed:.1f} s")
    for text in soak.tracebacks[:3]:
        print(text, file=sys.stderr)
    if orphans:
        print("orphaned pods:", ", ".join(orphans), file=sys.stderr)
    return 0 if not (orphans or leaked or soak.tracebacks) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
