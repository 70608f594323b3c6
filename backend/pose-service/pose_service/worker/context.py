"""What every task runs with: the database, the media store, the loaded backend, and a local copy of the
video being worked on (kept for the next task of the same video: segments of one video often follow each other)."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from ..backends.base import PoseBackend
from ..errors import ApiError
from ..media import Sampling, sample_indices
from ..probe import VideoProbe, probe_video
from ..validation import parse_sampling
from .queue import TaskQueue
from .settings import WorkerSettings
from .store import DERIVED_KINDS, MediaStore

log = logging.getLogger(__name__)

Doc = dict[str, Any]


class InputError(Exception):
    """The video itself cannot be processed: spends an attempt (permanent: fails at once, retrying cannot help)."""

    def __init__(self, kind: str, detail: str, permanent: bool = False):
        super().__init__(detail)
        self.kind, self.detail, self.permanent = kind, detail, permanent


class VideoGone(Exception):
    """The task's video or job was deleted (the API cancels by deleting): stop, and clean up what was written."""


def probe_error(err: ApiError) -> InputError:
    """The probe's ApiError as the job's errorKind: a codec or file without video we cannot read is
    'unsupported' (permanent), no frames is 'no_frames', anything else unreadable is 'undecodable'."""
    if err.code == "empty_video":
        return InputError("no_frames", err.detail, permanent=True)
    if "cannot be decoded here" in err.detail or "no video stream" in err.detail:
        return InputError("unsupported", err.detail, permanent=True)
    return InputError("undecodable", err.detail)


def job_sampling(settings: WorkerSettings) -> Sampling:
    """The frames a job analyses: what /v1/pose/video samples with no options (every frame, up to the limit)."""
    return parse_sampling({}, settings.pose.max_frames_limit)


@dataclass
class WorkerContext:
    db: Database
    queue: TaskQueue
    store: MediaStore
    backend: PoseBackend
    settings: WorkerSettings
    workdir: Path
    _local: tuple[ObjectId, Path, VideoProbe | None] | None = field(default=None, repr=False)

    def video(self, task: Doc) -> Doc:
        video = self.db["videos"].find_one({"_id": task["videoId"]})
        if video is None or self.db["jobs"].count_documents({"_id": task["jobId"]}, limit=1) == 0:
            raise VideoGone(f"video {task['videoId']} or job {task['jobId']} was deleted")
        return video

    def original(self, video: Doc) -> Path:
        """The upload as a local file of this worker's own (workers never share a path)."""
        file_id = video.get("originalFileId")
        if file_id is None:
            raise InputError("undecodable", "the video has no stored original (originalFileId missing)", permanent=True)
        if self._local is not None and self._local[0] == file_id and self._local[1].exists():
            return self._local[1]
        self.drop_local()
        path = self.workdir / f"{file_id}.original"
        self.store.download(file_id, path)
        self._local = (file_id, path, None)
        return path

    def probe(self, video: Doc) -> tuple[Path, VideoProbe]:
        path = self.original(video)
        assert self._local is not None
        if self._local[2] is None:
            try:
                self._local = (self._local[0], path, probe_video(str(path)))
            except ApiError as err:
                raise probe_error(err) from None
        probe = self._local[2]
        assert probe is not None
        return path, probe

    def sampled(self, probe: VideoProbe) -> list[int]:
        return sample_indices(probe.frame_times, probe.duration_s, job_sampling(self.settings))

    def drop_local(self) -> None:
        if self._local is not None:
            self._local[1].unlink(missing_ok=True)
            self._local = None

    def close(self) -> None:
        self.drop_local()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def remove_results(self, video_id: ObjectId) -> None:
        """Everything the workers write for a video, for a video that no longer exists."""
        if self.db["videos"].count_documents({"_id": video_id}, limit=1):
            return
        self.db["pose_frames"].delete_many({"videoId": video_id})
        self.db["metric_series"].delete_many({"videoId": video_id})
        self.db["metrics"].delete_one({"_id": video_id})
        self.store.remove(video_id, DERIVED_KINDS)
        if self._local is not None:
            self.drop_local()
