"""Running a pod's start command for real, so what runs inside a pod can be tested.

Each boot of a pod runs its container's command once the boot reaches RUNNING on
the virtual clock: the pod's `args` split like a Docker command (or the image's
default command when `args` is empty), run in a scratch directory with stand-ins
first on `PATH`:

- the image's start script (`/start.sh` on RunPod images), which records that it
  ran and then holds the container open like sshd and Jupyter would;
- `runpodctl` and `curl`, which call this emulator's own API with the pod's key
  (`https://api.runpod.io` means this emulator);
- `nvidia-smi`, which reports the utilisation a test set through the control
  surface (`POST /_emulator/pods/{id}/gpu`);
- `sleep` and `date`, which follow the emulator's virtual clock, so an hour of
  `sleep` passes when a test advances the clock by an hour.

A container has no root filesystem of its own, so absolute paths of the image's
own files that a command names (`/start.sh`) are mapped to their stand-ins in the
scratch directory. Stopping, restarting or terminating the pod ends its processes,
and every stand-in exits once the emulator stops answering, so nothing outlives it.

Every pod gets a pod-scoped key in `RUNPOD_API_KEY`, as on RunPod; the key is
accepted only for that pod's own `/v2/pods/{id}...` paths and is never shown.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._clock import VirtualClock
    from .pods import Boot, Pod

#: the default command of images whose start script the emulator knows
RUNPOD_START_SCRIPT = "/start.sh"
STANDINS = ("sleep", "date", "nvidia-smi", "runpodctl", "curl", "image-default")
_POLL_SECONDS = 0.02
_HALT_GRACE_SECONDS = 2.0


def default_command(image: str) -> list[str]:
    """What the image runs when `args` is empty."""
    if image.startswith("runpod/"):
        return [RUNPOD_START_SCRIPT]
    return ["image-default"]


@dataclass
class Run:
    """One boot's container: its process and what happened inside it."""

    pod_id: str
    boot: Boot
    folder: Path
    command: list[str]
    process: subprocess.Popen | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)

    @property
    def events_file(self) -> Path:
        return self.folder / "events.log"

    def events(self) -> list[str]:
        try:
            text = self.events_file.read_text("utf-8")
        except OSError:
            return []
        return [line for line in text.splitlines() if line]

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Containers:
    """Every container of one emulator app, and the stand-ins they share."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.root = Path(tempfile.mkdtemp(prefix="sindri-runpod-containers-"))
        self.bin = self.root / "bin"
        self.runs: dict[str, list[Run]] = {}
        #: pod-scoped keys: key -> pod id
        self.keys: dict[str, str] = {}
        self.gpu_util: dict[str, list[int]] = {}
        self.runpodctl_works: dict[str, bool] = {}
        #: where the pods reach this emulator (from the Host of its requests)
        self.base_url = ""
        self._lock = threading.Lock()
        self._install_standins()
        atexit.register(self.close)

    def _install_standins(self) -> None:
        self.bin.mkdir()
        shebang = f"#!{sys.executable} -SE\n"
        folder = resources.files(__package__) / "standins"
        common = (folder / "standin_common.py").read_text("utf-8")
        (self.bin / "standin_common.py").write_text(common, "utf-8")
        for name in (*STANDINS, "start.sh"):
            target = self.root / name if name == "start.sh" else self.bin / name
            target.write_text(shebang + (folder / name).read_text("utf-8"), "utf-8")
            target.chmod(0o755)

    # -- keys and knobs -----------------------------------------------------------

    def key_for(self, pod_id: str) -> str:
        with self._lock:
            for key, owner in self.keys.items():
                if owner == pod_id:
                    return key
            key = "pod-" + secrets.token_urlsafe(24)
            self.keys[key] = pod_id
            return key

    def pod_of_key(self, key: str) -> str | None:
        return self.keys.get(key)

    # -- lifecycle ----------------------------------------------------------------

    def boot(self, pod: Pod, boot: Boot) -> None:
        """Run the pod's command once this boot reaches RUNNING."""
        self.halt(pod.id)
        number = len(self.runs.get(pod.id, [])) + 1
        folder = self.root / pod.id / f"boot-{number}"
        (folder / "tmp").mkdir(parents=True)
        command = shlex.split(pod.args) if pod.args.strip() else []
        command = command or default_command(pod.image)
        mapped = str(self.root / "start.sh")
        command = [part.replace(RUNPOD_START_SCRIPT, mapped) for part in command]
        run = Run(pod.id, boot, folder, command)
        run.events_file.touch()
        environment = self._environment(pod, run, self.base_url)
        with self._lock:
            self.runs.setdefault(pod.id, []).append(run)
        threading.Thread(
            target=self._start_when_running,
            args=(run, environment),
            name=f"container-{pod.id}",
            daemon=True,
        ).start()

    def _environment(self, pod: Pod, run: Run, base_url: str) -> dict[str, str]:
        system = os.environ.get("PATH", "/usr/bin:/bin")
        return {
            **pod.env,
            "PATH": f"{self.bin}:{system}",
            "HOME": str(run.folder),
            "TMPDIR": str(run.folder / "tmp"),
            "RUNPOD_POD_ID": pod.id,
            "RUNPOD_API_KEY": self.key_for(pod.id),
            "RUNPOD_GPU_COUNT": str(pod.gpu.get("count", 1)),
            "RUNPOD_DC_ID": pod.data_center,
            "SINDRI_EMULATOR_URL": base_url,
            "SINDRI_CONTAINER_EVENTS": str(run.events_file),
            "SINDRI_REAL_PATH": system,
        }

    def _start_when_running(self, run: Run, environment: dict[str, str]) -> None:
        while not run.cancelled.is_set():
            if self.clock.now() >= run.boot.running_at:
                break
            time.sleep(_POLL_SECONDS)
        with self._lock:
            if run.cancelled.is_set():
                return
            try:
                run.process = subprocess.Popen(
                    run.command,
                    cwd=run.folder,
                    env=environment,
                    stdin=subprocess.DEVNULL,
                    stdout=open(run.folder / "output.log", "ab"),  # noqa: SIM115
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as error:
                with open(run.events_file, "a", encoding="utf-8") as events:
                    events.write(f"- container failed to start: {error}\n")

    def halt(self, pod_id: str) -> None:
        """End the pod's running container, as a stop or restart does."""
        with self._lock:
            runs = list(self.runs.get(pod_id, []))
        for run in runs:
            run.cancelled.set()
            if run.running():
                threading.Thread(target=_end, args=(run.process,), daemon=True).start()

    def forget(self, pod_id: str) -> None:
        self.halt(pod_id)
        with self._lock:
            self.keys = {k: p for k, p in self.keys.items() if p != pod_id}

    def close(self) -> None:
        with self._lock:
            pods = list(self.runs)
        for pod_id in pods:
            for run in self.runs.get(pod_id, []):
                run.cancelled.set()
                if run.running():
                    _end(run.process, grace=0.2)
        shutil.rmtree(self.root, ignore_errors=True)
        atexit.unregister(self.close)

    # -- what the control surface shows ------------------------------------------

    def describe(self, pod_id: str) -> dict[str, Any]:
        runs = self.runs.get(pod_id, [])
        return {
            "podId": pod_id,
            "runpodctl": self.runpodctl_works.get(pod_id, True),
            "gpuUtil": self.gpu_util.get(pod_id),
            "boots": [
                {
                    "command": [_shown(part, self.root) for part in run.command],
                    "running": run.running(),
                    "exitCode": run.process.poll() if run.process else None,
                    "events": run.events(),
                }
                for run in runs
            ],
        }


def _shown(part: str, root: Path) -> str:
    return part.replace(str(root / "start.sh"), RUNPOD_START_SCRIPT)


def _end(process: subprocess.Popen | None, grace: float = _HALT_GRACE_SECONDS) -> None:
    if process is None:
        return
    for sent in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sent)
        except (ProcessLookupError, PermissionError):
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
