"""HMR2.0 (4D-Humans) + PHALP tracking + ViTDet person detector, on CUDA.

UNTESTED ON GPU: written against the upstream sources (shubham-goel/4D-Humans track.py and hmr2/models,
brjathu/PHALP phalp/trackers/PHALP.py and phalp/configs/base.py) on a machine with neither a GPU nor the
weights. This module's top level imports only the standard library and numpy, so the service and its tests
never import torch; everything heavy happens in Hmr2Backend.load().

Files: 4D-Humans and PHALP compute their cache directories from $HOME at import time
(``$HOME/.cache/4DHumans``, ``$HOME/.cache/phalp``) and detectron2 fetches ViTDet through iopath
(``$FVCORE_CACHE``). load() points HOME, FVCORE_CACHE and TORCH_HOME into the model volume (POSE_MODEL_DIR,
default /data/models) *before* importing them, so every download lands on the persistent volume.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..keypoints import PersonPose, bbox_from_keypoints, hip_centred_y_up
from .base import BackendUnavailable, FramePoses, PoseBackend, SampledFrame

SMPL_HOWTO = (
    "register at https://smpl.is.tue.mpg.de, download the neutral model "
    "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl (SMPL 1.0 for Python) and copy it to {dest} "
    "(its licence forbids shipping it in the image)"
)
WEIGHTS_HOWTO = (
    "run once on a GPU host with internet: docker compose run --rm -e POSE_BACKEND=hmr2 pose-service "
    "python -m pose_service.backends.hmr2_backend --download (fills the pose_service_data volume)"
)
VITDET_URL = (
    "https://dl.fbaipublicfiles.com/detectron2/ViTDet/COCO/cascade_mask_rcnn_vitdet_h/f328730692/model_final_f05665.pkl"
)

# BODY_25 (OpenPose) index of each COCO-17 keypoint: HMR2/PHALP joints start with the 25 OpenPose joints.
OPENPOSE25_TO_COCO17 = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)


def cache_paths(model_dir: str) -> dict[str, Path]:
    home = Path(model_dir)
    hmr = home / ".cache" / "4DHumans"
    phalp = home / ".cache" / "phalp"
    return {
        "home": home,
        "hmr2_checkpoint": hmr / "logs/train/multiruns/hmr2/0/checkpoints/epoch=35-step=1000000.ckpt",
        "hmr2_model_config": hmr / "logs/train/multiruns/hmr2/0/model_config.yaml",
        "smpl_hmr2": hmr / "data/smpl/SMPL_NEUTRAL.pkl",
        "smpl_phalp": phalp / "3D/models/smpl/SMPL_NEUTRAL.pkl",
        "hmar_weights": phalp / "weights/hmar_v2_weights.pth",
        "pose_predictor": phalp / "weights/pose_predictor.pth",
        "pose_predictor_cfg": phalp / "weights/pose_predictor.yaml",
        "mean_std": phalp / "3D/mean_std.npy",
        "smpl_mean_params": phalp / "3D/smpl_mean_params.npz",
        "smpl_to_j19": phalp / "3D/SMPL_to_J19.pkl",
        "bmap": phalp / "3D/bmap_256.npy",
        "fmap": phalp / "3D/fmap_256.npy",
        "vitdet": home
        / ".torch/iopath_cache/detectron2/ViTDet/COCO/cascade_mask_rcnn_vitdet_h/f328730692"
        / "model_final_f05665.pkl",
    }


def missing_files(model_dir: str) -> list[str]:
    """Each missing file as '<path>: <how to supply it>' (pure filesystem check, no imports)."""
    p = cache_paths(model_dir)
    out = []
    for key in ("smpl_hmr2", "smpl_phalp"):
        if not p[key].is_file():
            out.append(f"{p[key]}: {SMPL_HOWTO.format(dest=p[key])}")
    for key, path in p.items():
        if key in ("home", "smpl_hmr2", "smpl_phalp"):
            continue
        if not path.is_file():
            out.append(f"{path}: {WEIGHTS_HOWTO}")
    return out


def point_caches_at(model_dir: str) -> None:
    """Redirect every upstream cache into the model volume; must run before hmr2/phalp/detectron2 import."""
    os.environ["HOME"] = model_dir
    os.environ["FVCORE_CACHE"] = str(Path(model_dir) / ".torch/iopath_cache")
    os.environ["TORCH_HOME"] = str(Path(model_dir) / ".cache/torch")


class Hmr2Backend(PoseBackend):
    name = "hmr2"
    device = "cuda"

    def __init__(self, model_dir: str):
        self.model_dir = model_dir
        self._tracker: Any = None
        self._cfg: Any = None
        # PHALP keeps per-video tracker state and one GPU is shared: one clip at a time.
        self._lock = threading.Lock()

    def load(self) -> None:
        missing = missing_files(self.model_dir)
        if missing:
            raise BackendUnavailable(f"HMR2 needs {len(missing)} missing file(s); first: {missing[0]}")
        point_caches_at(self.model_dir)
        try:
            import torch
        except ImportError as exc:
            raise BackendUnavailable(
                "torch is not installed: build the image on snowboarding/base-python-pose:local for POSE_BACKEND=hmr2"
            ) from exc
        if not torch.cuda.is_available():
            raise BackendUnavailable("POSE_BACKEND=hmr2 needs a CUDA GPU; none is visible (check --gpus / deploy)")
        try:
            tracker_cls, config_cls = _upstream_classes()
        except ImportError as exc:
            raise BackendUnavailable(f"4D-Humans/PHALP not importable ({exc}); use base-python-pose") from exc
        from omegaconf import OmegaConf

        cfg = OmegaConf.structured(config_cls)
        cfg.video.source = "unset"  # replaced per request
        cfg.render.enable = False
        cfg.overwrite = True
        cfg.device = "cuda"
        self._cfg = cfg
        self._tracker = tracker_cls(cfg)

    def warmup(self) -> None:
        blank = np.zeros((256, 256, 3), dtype=np.uint8)
        self.track_video([SampledFrame(0, 0.0, blank)])

    def estimate_image(self, rgb: np.ndarray) -> list[PersonPose]:
        # PHALP on a one-frame clip = ViTDet detections + HMR2 per person; ids mean nothing for one image.
        persons = self.track_video([SampledFrame(0, 0.0, rgb)])[0].persons
        for p in persons:
            p.track_id = None
        return persons

    def track_video(self, frames: Iterable[SampledFrame]) -> list[FramePoses]:
        if self._tracker is None:
            raise BackendUnavailable("HMR2 backend used before load()")
        import cv2

        with tempfile.TemporaryDirectory(prefix="hmr2-") as tmp, self._lock:
            src = Path(tmp) / "frames"
            src.mkdir()
            sampled: list[SampledFrame] = []
            for k, f in enumerate(frames):
                # PHALP reads a folder of images in name order; keep the pixels out of memory meanwhile.
                cv2.imwrite(str(src / f"{k:06d}.jpg"), cv2.cvtColor(f.rgb, cv2.COLOR_RGB2BGR))
                sampled.append(SampledFrame(f.index, f.t, np.empty((f.rgb.shape[0], f.rgb.shape[1], 0), np.uint8)))
            self._cfg.video.source = str(src)
            self._cfg.video.output_dir = str(Path(tmp) / "out")
            self._tracker.cfg = self._cfg
            self._tracker.io_manager.cfg = self._cfg
            self._tracker.setup_deepsort()  # fresh tracks for every clip
            results, _ = self._tracker.track()
        by_name = {Path(str(k)).name: v for k, v in results.items()}
        out: list[FramePoses] = []
        for k, f in enumerate(sampled):
            h, w = f.rgb.shape[:2]
            out.append(FramePoses(f.index, f.t, _persons_from_phalp(by_name.get(f"{k:06d}.jpg", {}), w, h)))
        return out

    def describe(self) -> dict[str, Any]:
        return {"model": "HMR2.0 + PHALP + ViTDet-H", "model_dir": self.model_dir, "tested_on_gpu": False}


def _upstream_classes() -> tuple[type, type]:
    """The HMR2_4dhuman tracker and Human4DConfig of 4D-Humans' track.py, rebuilt here because track.py
    is a script (hydra main), not part of the installed hmr2 package."""
    from dataclasses import dataclass

    from hmr2.datasets.utils import expand_bbox_to_aspect_ratio
    from phalp.configs.base import FullConfig
    from phalp.models.hmar.hmr import HMR2018Predictor
    from phalp.trackers.PHALP import PHALP

    class HMR2Predictor(HMR2018Predictor):
        def __init__(self, cfg: Any) -> None:
            super().__init__(cfg)
            from hmr2.models import load_hmr2

            # No download_models(): the files are checked up front and must already be on the volume.
            model, _ = load_hmr2()
            self.model = model
            self.model.eval()

        def forward(self, x: Any) -> Any:
            hmar_out = self.hmar_old(x)
            batch = {"img": x[:, :3, :, :], "mask": (x[:, 3, :, :]).clip(0, 1)}
            model_out = self.model(batch)
            return hmar_out | {"pose_smpl": model_out["pred_smpl_params"], "pred_cam": model_out["pred_cam"]}

    class HMR2Tracker(PHALP):
        def setup_hmr(self) -> None:
            self.HMAR = HMR2Predictor(self.cfg)

        def cached_download_from_drive(self, additional_urls: Any = None) -> None:
            pass  # offline: missing_files() already verified everything PHALP would download

        def get_detections(self, image: Any, frame_name: Any, t_: Any, additional_data: Any = None,
                           measurments: Any = None) -> Any:  # fmt: skip
            (pred_bbox, _, pred_masks, pred_scores, pred_classes, gt_tid, gt_annots) = super().get_detections(
                image, frame_name, t_, additional_data, measurments
            )
            padded = expand_bbox_to_aspect_ratio(pred_bbox, self.cfg.expand_bbox_shape)
            return pred_bbox, padded, pred_masks, pred_scores, pred_classes, gt_tid, gt_annots

    @dataclass
    class Human4DConfig(FullConfig):
        expand_bbox_shape: Any = (192, 256)

    return HMR2Tracker, Human4DConfig


def _persons_from_phalp(frame: dict[str, Any], width: int, height: int) -> list[PersonPose]:
    """PHALP's per-frame record → PersonPose list (2D joints are normalised to the padded square image)."""
    persons: list[PersonPose] = []
    side = max(width, height)
    left, top = (side - width) // 2, (side - height) // 2
    tids = frame.get("tid", [])
    for i, tid in enumerate(tids):
        j2d = np.asarray(frame["2d_joints"][i], dtype=np.float64).reshape(-1, 2)[list(OPENPOSE25_TO_COCO17)]
        xy = j2d * side - np.array([left, top])
        conf = float(np.asarray(frame.get("conf", [1.0] * len(tids))[i]).reshape(-1)[0])
        kp2d = np.column_stack([xy, np.full(17, conf)])
        j3d = np.asarray(frame["3d_joints"][i], dtype=np.float64).reshape(-1, 3)[list(OPENPOSE25_TO_COCO17)]
        bbox_raw = frame.get("bbox", [None] * len(tids))[i]
        if bbox_raw is not None:
            x, y, w, h = (float(v) for v in bbox_raw)  # PHALP stores top-left + size
            bbox = (x, y, x + w, y + h)
        else:
            bbox = bbox_from_keypoints(kp2d, width, height)
        persons.append(PersonPose(kp2d=kp2d, kp3d=hip_centred_y_up(j3d), bbox=bbox, score=conf, track_id=int(tid)))
    return persons


def download(model_dir: str) -> None:  # pragma: no cover - needs internet and the upstream packages
    """Fetch HMR2/PHALP/ViTDet weights into model_dir (SMPL must still be supplied by the user)."""
    point_caches_at(model_dir)
    from detectron2.checkpoint import DetectionCheckpointer  # noqa: F401 - registers the iopath handlers
    from hmr2.models import download_models
    from iopath.common.file_io import HTTPURLHandler, PathManager

    download_models()
    pm = PathManager()
    pm.register_handler(HTTPURLHandler())
    pm.get_local_path(VITDET_URL)
    from phalp.trackers.PHALP import PHALP

    PHALP.cached_download_from_drive(None)  # the method reads no instance state


if __name__ == "__main__":  # pragma: no cover
    import sys

    target = os.environ.get("POSE_MODEL_DIR", "/data/models")
    if "--download" in sys.argv:
        download(target)
    for line in missing_files(target):
        print("missing:", line)
