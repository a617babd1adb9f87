"""Seeded identifiers, so two runs with one seed and one script agree byte for byte."""

from __future__ import annotations

import random
import string

LOWER_ALPHANUMERIC = string.ascii_lowercase + string.digits

# Documentation address blocks (RFC 5737): they look like public IPs but route
# nowhere, so an emulated pod can never point a client at someone's machine.
DOCUMENTATION_NETWORKS = ("192.0.2", "198.51.100", "203.0.113")


class IdSource:
    """Every random-looking value an emulator hands out, drawn from one RNG."""

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self.random = random.Random(seed)

    def token(self, length: int, alphabet: str = LOWER_ALPHANUMERIC) -> str:
        return "".join(self.random.choice(alphabet) for _ in range(length))

    def hex(self, length: int) -> str:
        return self.token(length, "0123456789abcdef")

    def public_ip(self, network: str | None = None) -> str:
        network = network or self.random.choice(DOCUMENTATION_NETWORKS)
        return f"{network}.{self.random.randint(1, 254)}"

    def port(self, low: int = 10000, high: int = 49999) -> int:
        return self.random.randint(low, high)

    def secret(self, length: int = 24) -> str:
        return self.token(length, string.ascii_letters + string.digits)
