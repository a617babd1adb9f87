"""The local store under 8 writing processes, one killed mid-write."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from sindri_jupyter._store import Store

WRITER = """
import sys
from pathlib import Path
from sindri_jupyter._store import Store

store = Store(Path(sys.argv[1]))
writer, count = sys.argv[2], int(sys.argv[3])
for index in range(count):
    launch = f"{writer}-{index:04d}"
    store.record_launch("runpod", launch, f"name-{launch}")
    store.set_remote("runpod", launch, f"pod-{launch}")
    print(launch, flush=True)
print("done", flush=True)
"""


def test_eight_writers_and_a_kill_lose_nothing(tmp_path):
    path = tmp_path / "deployments.sqlite3"
    Store(path)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), f"w{n}", "60" if n else "100000"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    victim = writers[0]
    # Let the victim get well into its writes, then kill it without warning.
    for _ in range(20):
        victim.stdout.readline()
    time.sleep(0.2)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    finished = {}
    for number, writer in enumerate(writers[1:], start=1):
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0
        assert out.strip().endswith("done")
        finished[f"w{number}"] = [line for line in out.split() if line != "done"]
    store = Store(path)
    records = {r.launch_id: r for r in store.records("runpod")}
    for launches in finished.values():
        assert len(launches) == 60
        for launch in launches:
            assert records[launch].remote_id == f"pod-{launch}"
    killed = [r for r in records.values() if r.launch_id.startswith("w0-")]
    assert len(killed) >= 20  # what it wrote before the kill survived too
    store.record_launch("runpod", "after-the-kill", "fine")
    assert store.by_remote("runpod", "pod-w1-0000") is not None


MERGER = """
import sys
from pathlib import Path
from sindri_jupyter._store import Store

store = Store(Path(sys.argv[1]))
writer, count = sys.argv[2], int(sys.argv[3])


def add(details):
    runs = dict(details.get("runs") or {})
    runs[writer] = runs.get(writer, 0) + 1
    return {**details, "runs": runs, "changes": details.get("changes", 0) + 1}


for _ in range(count):
    store.update_details("runpod", "shared", add)
print("done", flush=True)
"""


def test_details_changed_by_six_writers_at_once_lose_no_change(tmp_path):
    path = tmp_path / "deployments.sqlite3"
    Store(path).record_launch(
        "runpod", "shared", "shared", {"guards": {"max_hours": 1}}
    )
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", MERGER, str(path), f"w{n}", "40"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(6)
    ]
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0 and out.strip() == "done"
    [record] = Store(path).records("runpod")
    assert record.details["changes"] == 240
    assert record.details["runs"] == {f"w{n}": 40 for n in range(6)}
    assert record.details["guards"] == {"max_hours": 1}
    missing = Store(path).update_details("runpod", "no-such-launch", dict)
    assert missing is None
