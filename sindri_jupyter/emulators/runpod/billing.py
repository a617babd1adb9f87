"""`GET /v2/billing/pods`: per-pod, per-bucket amounts computed from the clock.

A pod's history is a list of segments at constant rates (see `Pod.rates`):
compute is the pod's `cost` per hour while it holds its GPU (every status but
EXITED and TERMINATED), disk is the container disk while it holds compute plus
the persistent mount at the running or stopped rate. An amount is the rate
integrated over the part of the segment inside the bucket, up to now.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from .._clock import format_instant
from .pods import Pod

DEFAULT_WINDOW = timedelta(days=30)
AMOUNT_KEYS = ("totalAmount", "gpuAmount", "cpuAmount", "diskAmount")


def floor(instant: datetime, bucket: str) -> datetime:
    """Start of the bucket holding `instant` (weeks start on Monday, UTC)."""
    instant = instant.astimezone(UTC)
    day = instant.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "hour":
        return instant.replace(minute=0, second=0, microsecond=0)
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def next_start(start: datetime, bucket: str) -> datetime:
    """Start of the bucket after the one starting at `start`."""
    if bucket == "hour":
        return start + timedelta(hours=1)
    if bucket == "day":
        return start + timedelta(days=1)
    if bucket == "week":
        return start + timedelta(weeks=1)
    if bucket == "month":
        year, month = divmod(start.month, 12)
        return start.replace(year=start.year + year, month=month + 1)
    return start.replace(year=start.year + 1)


def previous_start(start: datetime, bucket: str) -> datetime:
    return floor(start - timedelta(microseconds=1), bucket)


def window(
    now: datetime,
    bucket: str,
    *,
    start: datetime | None,
    end: datetime | None,
    last: int | None,
) -> tuple[datetime, datetime]:
    """The query window snapped to bucket boundaries, as the contract describes."""
    if last is not None:
        first = floor(now, bucket)
        stop = next_start(first, bucket)
        for _ in range(last - 1):
            first = previous_start(first, bucket)
        return first, stop
    first = floor(start or now - DEFAULT_WINDOW, bucket)
    stop = end or now
    if floor(stop, bucket) != stop:
        stop = next_start(floor(stop, bucket), bucket)
    return first, stop


def amounts(pod: Pod, begin: datetime, end: datetime, now: datetime) -> dict | None:
    """The pod's amounts in [begin, end), or None when it did not exist then."""
    compute = disk = 0.0
    overlapped = False
    for segment in pod.segments:
        segment_end = segment.end or now
        low, high = max(segment.start, begin), min(segment_end, end, now)
        if low >= high:
            continue
        overlapped = True
        hours = (high - low).total_seconds() / 3600
        compute += segment.compute_rate * hours
        disk += segment.disk_rate * hours
    if not overlapped:
        return None
    return {
        "totalAmount": compute + disk,
        "gpuAmount": compute if pod.gpu else 0.0,
        "cpuAmount": 0.0 if pod.gpu else compute,
        "diskAmount": disk,
    }


def report(
    pods: Iterable[Pod],
    now: datetime,
    *,
    bucket: str,
    start: datetime | None,
    end: datetime | None,
    last: int | None,
    pod_id: str | None,
) -> dict:
    first, stop = window(now, bucket, start=start, end=end, last=last)
    chosen = [pod for pod in pods if pod_id in (None, pod.id)]
    records = []
    totals = dict.fromkeys(AMOUNT_KEYS, 0.0)
    begin = first
    while begin < stop:
        finish = next_start(begin, bucket)
        for pod in chosen:
            found = amounts(pod, begin, finish, now)
            if found is None:
                continue
            for key in AMOUNT_KEYS:
                totals[key] += found[key]
            rounded = {key: round(value, 6) for key, value in found.items()}
            records.append(
                {
                    "startTime": format_instant(begin),
                    "endTime": format_instant(finish),
                    "podId": pod.id,
                    **rounded,
                }
            )
        begin = finish
    return {
        "records": records,
        "metadata": {
            "query": {
                "startTime": format_instant(first),
                "endTime": format_instant(stop),
                "bucketSize": bucket,
                "podId": pod_id,
            },
            "recordCount": len(records),
            "uniquePodCount": len({record["podId"] for record in records}),
            "totals": {key: round(value, 6) for key, value in totals.items()},
        },
    }
