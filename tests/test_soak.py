"""The soak bench at a small size: no orphans, no leaked key, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parent.parent / "bench" / "soak.py"


def test_a_short_soak_under_faults_loses_nothing():
    result = subprocess.run(
        [
            sys.executable,
            str(SOAK),
            "--cycles",
            "12",
            "--fault-rate",
            "0.4",
            "--seed",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    figures = dict(
        line.rsplit(None, 1) for line in result.stdout.splitlines() if line.strip()
    )
    assert int(figures["faults injected"]) > 0, result.stdout
    assert figures["orphans"] == "0", result.stdout + result.stderr
    assert figures["keys leaked"] == "0", result.stdout
    assert figures["tracebacks"] == "0", result.stderr
    assert result.returncode == 0
