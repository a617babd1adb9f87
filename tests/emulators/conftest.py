"""Fixtures: an in-thread RunPod emulator on a frozen clock, and an API client."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # pytest run as a plain script does not add it
    sys.path.insert(0, str(ROOT))

from sindri_jupyter.emulators import serve

KEY = "test-key"
EPOCH = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SPEC = ROOT / "sindri_jupyter" / "emulators" / "specs" / "runpod-rest-v2.openapi.json"
GPU = "NVIDIA GeForce RTX 4090"


class Contract:
    """Judges bodies by the contract, independently of the emulator's validator."""

    def __init__(self) -> None:
        document = json.loads(SPEC.read_text())
        resource = Resource(contents=document, specification=DRAFT202012)
        self.registry = Registry().with_resource("urn:test", resource)

    def errors(self, schema: str, instance: object) -> list[str]:
        validator = Draft202012Validator(
            {"$ref": f"urn:test#/components/schemas/{schema}"}, registry=self.registry
        )
        return [error.message for error in validator.iter_errors(instance)]


@pytest.fixture(scope="session")
def contract() -> Contract:
    return Contract()


@pytest.fixture
def runpod():
    clock = {"mode": "manual", "epoch": EPOCH}
    with serve("runpod", seed=11, api_keys=[KEY], clock=clock,
               log_follow_seconds=0.3) as server:  # fmt: skip
        yield server


@pytest.fixture
def api(runpod):
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=runpod.base_url, headers=headers, timeout=10) as client:
        yield client


def pod_body(**changes: object) -> dict:
    body = {
        "name": "sindri-test",
        "image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404",
        "gpu": {"id": GPU, "count": 1},
        "ports": ["8888/http", "22/tcp"],
    }
    body.update(changes)
    return body
