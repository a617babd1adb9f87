"""Northflank API v1: deployment services in projects (contract: northflank-*.json)."""

from __future__ import annotations

from .provider import Northflank, map_error

__all__ = ["Northflank", "map_error"]
