"""The Northflank API v1 emulator; see docs/emulators-northflank.md."""

from .app import NorthflankApp
from .client import NorthflankControl

__all__ = ["NorthflankApp", "NorthflankControl"]
