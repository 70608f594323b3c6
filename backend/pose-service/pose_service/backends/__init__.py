"""Backend selection: POSE_BACKEND=auto|mediapipe|hmr2."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from ..config import Config
from .base import BackendUnavailable, FramePoses, PoseBackend, SampledFrame

__all__ = [
    "BackendChoice", "BackendUnavailable", "FramePoses", "PoseBackend", "SampledFrame",
    "choose_backend", "create_backend", "cuda_device",
]  # fmt: skip


@dataclass(frozen=True)
class BackendChoice:
    """What to run and why (the reason is shown in /v1/info so operators see why auto picked it)."""

    name: str
    device: str
    reason: str


def cuda_device() -> tuple[bool, str | None, int | None]:
    """(available, GPU name, total memory bytes); torch is optional, so its absence means no CUDA."""
    if importlib.util.find_spec("torch") is None:
        return False, None, None
    try:
        import torch

        if not torch.cuda.is_available():
            return False, None, None
        props = torch.cuda.get_device_properties(0)
        return True, str(props.name), int(props.total_memory)
    except Exception:  # a broken driver must degrade to CPU, not stop the service
        return False, None, None


def choose_backend(config: Config, cuda_available: bool, hmr2_missing: list[str]) -> BackendChoice:
    """Decide the backend from the setting, CUDA availability and the HMR2 files present (pure)."""
    if config.backend == "mediapipe":
        return BackendChoice("mediapipe", "cpu", "POSE_BACKEND=mediapipe")
    if config.backend == "hmr2":
        return BackendChoice("hmr2", "cuda", "POSE_BACKEND=hmr2")
    if not cuda_available:
        return BackendChoice("mediapipe", "cpu", "auto: no CUDA device (or torch not installed)")
    if hmr2_missing:
        return BackendChoice("mediapipe", "cpu", f"auto: CUDA present but HMR2 files missing: {hmr2_missing[0]}")
    return BackendChoice("hmr2", "cuda", "auto: CUDA present and HMR2 files found")


def create_backend(config: Config) -> tuple[PoseBackend, BackendChoice]:
    """Pick and construct (not load) the backend; HMR2 code is imported only when it is chosen."""
    from .hmr2_backend import Hmr2Backend, missing_files  # light module: heavy imports happen in its load()

    cuda, _, _ = cuda_device() if config.backend != "mediapipe" else (False, None, None)
    missing = missing_files(config.model_dir) if cuda or config.backend == "hmr2" else []
    choice = choose_backend(config, cuda, missing)
    if choice.name == "hmr2":
        return Hmr2Backend(config.model_dir), choice
    from .mediapipe_backend import MediaPipeBackend

    return MediaPipeBackend(model_complexity=config.model_complexity), choice
