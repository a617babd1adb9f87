"""The RunPod REST v2 emulator (`serve("runpod")`)."""

from .app import RunPodApp

__all__ = ["RunPodApp"]
