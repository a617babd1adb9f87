"""What loading the extension and the first command cost, against `import httpx`.

Each measurement runs in a fresh interpreter (so imports are cold), several
times; the median is printed in milliseconds and as a ratio to the baseline,
`import httpx`, measured in the same run. Usage: ``python bench/load_cost.py``.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys

RUNS = 5

PROBES = {
    "import httpx (baseline)": """
import time
start = time.perf_counter()
import httpx
elapsed = time.perf_counter() - start
""",
    "%load_ext sindri_jupyter": """
import time
from IPython.testing.globalipapp import get_ipython
ip = get_ipython()
start = time.perf_counter()
ip.run_line_magic("load_ext", "sindri_jupyter")
elapsed = time.perf_counter() - start
""",
    "first %sindri status (emulator)": """
import os, subprocess, sys, tempfile, time
folder = tempfile.mkdtemp()
os.environ["SINDRI_JUPYTER_DATA_DIR"] = folder
port_file = os.path.join(folder, "port")
# The emulator runs in its own process, so its imports do not warm this one.
emulator = subprocess.Popen(
    [sys.executable, "-m", "sindri_jupyter.emulators", "runpod", "--seed", "1",
     "--api-key", "bench-key-0123456789", "--port-file", port_file])
while not (os.path.exists(port_file) and open(port_file).read().strip()):
    time.sleep(0.02)
port = open(port_file).read().strip()
from IPython.testing.globalipapp import get_ipython
ip = get_ipython()
ip.run_line_magic("load_ext", "sindri_jupyter")
ip.run_line_magic("config", "Sindri.sandbox = False")
os.environ["SINDRI_BENCH_URL"] = f"http://127.0.0.1:{port}"
import contextlib, io
start = time.perf_counter()
import sindri_jupyter._api as api, sindri_jupyter._engine as engine
from sindri_jupyter._config import Endpoint
api._session = engine.Session(endpoints={"runpod": Endpoint(
    "runpod", os.environ["SINDRI_BENCH_URL"], "bench-key-0123456789", sandbox=True)})
with contextlib.redirect_stdout(io.StringIO()):
    ip.run_line_magic("sindri", "status")
elapsed = time.perf_counter() - start
emulator.terminate()
""",
}
if importlib.util.find_spec("runpod") is not None:
    PROBES["import runpod (official SDK)"] = """
import time
start = time.perf_counter()
import runpod
elapsed = time.perf_counter() - start
"""


def measure(code: str) -> float:
    wrapped = code + "\nimport json; print(json.dumps(elapsed))\n"
    result = subprocess.run(
        [sys.executable, "-c", wrapped], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    medians = {
        name: statistics.median(measure(code) for _ in range(RUNS))
        for name, code in PROBES.items()
    }
    baseline = medians["import httpx (baseline)"]
    print(f"{'measurement':<36} {'median ms':>10} {'× import httpx':>15}")
    for name, seconds in medians.items():
        print(f"{name:<36} {seconds * 1000:>10.1f} {seconds / baseline:>15.2f}")
    print(f"({RUNS} cold runs each, median)")


if __name__ == "__main__":
    main()
