"""Command line: run one provider emulator until SIGTERM or Ctrl-C.

    python -m sindri_jupyter.emulators runpod --port 0 --seed 7 --port-file PATH

Accepted API keys come from `--api-key` (repeatable) or the comma-separated
environment variable SINDRI_EMULATOR_API_KEYS; with neither, DEFAULT_API_KEY.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

from ._base import DEFAULT_API_KEY
from ._clock import MODES, VirtualClock, parse_instant
from ._serve import PROVIDERS, provider_app_class
from ._server import EmulatorServer

KEYS_VARIABLE = "SINDRI_EMULATOR_API_KEYS"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sindri_jupyter.emulators",
        description="Run a provider emulator on loopback.",
    )
    parser.add_argument("provider", choices=sorted(PROVIDERS))
    parser.add_argument("--host", default="127.0.0.1", help="loopback address")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, help="seed for ids, stock and prices")
    parser.add_argument("--clock", choices=MODES, default="realtime", help="mode")
    parser.add_argument("--speed", type=float, default=1.0, help="realtime factor")
    parser.add_argument("--step", type=float, default=1.0, help="seconds per request")
    parser.add_argument("--epoch", help="virtual start time, RFC 3339")
    parser.add_argument("--api-key", action="append", dest="api_keys", default=[])
    parser.add_argument("--port-file", type=Path, help="write the bound port here")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def accepted_keys(given: list[str]) -> list[str]:
    from_environment = os.environ.get(KEYS_VARIABLE, "")
    keys = given or [key.strip() for key in from_environment.split(",") if key.strip()]
    return keys or [DEFAULT_API_KEY]


def write_port_file(path: Path, port: int) -> None:
    """Write atomically, so a launcher polling for the file never reads half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w") as stream:
        stream.write(f"{port}\n")
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    epoch = parse_instant(args.epoch) if args.epoch else None
    clock = VirtualClock(mode=args.clock, speed=args.speed, step=args.step, epoch=epoch)
    app_class = provider_app_class(args.provider)
    app = app_class(clock=clock, seed=args.seed, api_keys=accepted_keys(args.api_keys))
    server = EmulatorServer(app, host=args.host, port=args.port)

    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.start()
    if args.port_file:
        write_port_file(args.port_file, server.port)
    message = f"{args.provider} emulator on {server.base_url} (pid {os.getpid()})"
    print(message, file=sys.stderr, flush=True)
    try:
        stopping.wait()
    finally:
        server.close()
        if args.port_file:
            args.port_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
