"""The in-pod watchdog (RunPod): bash that stops its own pod at a limit.

It starts in the background before the image's own start script, and every
``WATCHDOG_SECONDS`` it checks the hours since its own start (so it restarts
with the pod), the dollars since that start at the pod's live ``cost`` (read
from the pod itself with its own key), and, for the idle guard, ``nvidia-smi``.
At a limit it runs ``runpodctl stop pod``, or the REST call where that fails.
It needs only bash and standard tools (``curl``, ``grep``, ``awk``): no ``jq``,
no Python in the image.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._guards import Limits

#: under this GPU utilisation (percent) a GPU counts as idle
IDLE_PERCENT = 5
#: how often the in-pod watchdog looks, in seconds
WATCHDOG_SECONDS = 60


def watchdog_script(limits: Limits, rate_per_hour: float | None) -> str:
    """Bash that stops this pod once a limit is reached; no single quotes in it.

    Every ``WATCHDOG_SECONDS`` it checks the hours since its own start (it
    restarts with the pod), adds the pod's live ``cost`` × the seconds since its
    last look to the dollars spent since that start, and looks at the GPUs.
    """
    hours = limits.max_hours
    lines = [
        "# sindri-jupyter watchdog: stops this pod when a limit is reached",
        "export LC_ALL=C",
        f"max_seconds={max(1, math.ceil(hours * 3600)) if hours is not None else ''}",
        f"max_dollars={_number(limits.max_cost)}",
        f"deploy_price={_number(rate_per_hour)}",
        f"idle_limit={int(limits.idle_seconds) if limits.idle_seconds else ''}",
        "started=$(date +%s); last=$started; dollars=0; idle_since=",
        "rate=$deploy_price",
        f"while sleep {WATCHDOG_SECONDS}; do",
        " now=$(date +%s); why=",
        ' if [ -n "$max_seconds" ] && [ $((now - started)) -ge "$max_seconds" ];',
        "  then why=max-hours; fi",
        ' if [ -n "$max_dollars" ]; then',
        # The pod's own record says its live $/h: "cost", the only number of
        # that name in a pod (env values are strings), ended by , or }.
        (
            '  price=$(curl -fsS -H "Authorization: Bearer $RUNPOD_API_KEY"'
            ' "https://api.runpod.io/v2/pods/$RUNPOD_POD_ID" | tr -d "[:space:]"'
            ' | grep -o "\\"cost\\":[0-9.eE+]*[,}]" | head -n 1 | cut -d: -f2'
            ' | tr -d ",}")'
        ),
        # Where the read failed, this look counts at the last price read (at
        # first, the price the deploy saw).
        '  if [ -n "$price" ]; then rate=$price; fi',
        (
            '  dollars=$(awk -v d="$dollars" -v p="$rate" -v s="$((now - last))"'
            ' "BEGIN { printf \\"%.10g\\", d + p * s / 3600 }")'
        ),
        '  if awk -v d="$dollars" -v m="$max_dollars" "BEGIN { exit !(d >= m + 0) }"',
        "  then why=max-cost; fi",
        " fi",
        " last=$now",
        ' if [ -n "$idle_limit" ]; then',
        (
            "  busiest=$(nvidia-smi --query-gpu=utilization.gpu"
            " --format=csv,noheader,nounits | sort -n | tail -n 1)"
        ),
        # Unknown utilisation counts as busy: never stop a pod on a broken probe.
        f'  if [ "${{busiest:-100}}" -lt {IDLE_PERCENT} ]; then',
        "   idle_since=${idle_since:-$now}; else idle_since=; fi",
        '  if [ -n "$idle_since" ] && [ $((now - idle_since)) -ge "$idle_limit" ];',
        "  then why=idle; fi",
        " fi",
        ' if [ -n "$why" ]; then echo "stopping the pod: $why";',
        (
            '  runpodctl stop pod "$RUNPOD_POD_ID" || curl -fsS -X POST'
            ' -H "Authorization: Bearer $RUNPOD_API_KEY"'
            ' -H "Content-Type: application/json" -d "{\\"action\\":\\"stop\\"}"'
            ' "https://api.runpod.io/v2/pods/$RUNPOD_POD_ID/action"; fi'
        ),
        "done",
    ]
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"


def start_command(script: str, image_start: str) -> str:
    """``args`` that start the watchdog in the background, then the image's own start."""
    assert "'" not in script
    return (
        f"bash -c '({script}\n) > ${{TMPDIR:-/tmp}}/sindri-watchdog.log 2>&1 & "
        f"exec {image_start}'"
    )
