"""The export task (issue 18, item 9) on a real worker loop, real SecantusDB, real MediaPipe and the image's ffmpeg:
the MP4 opens with ffprobe with the clip's frame count and duration, the skeleton is painted where the pose frames
say (in the web overlay's confidence styling), progress is written on the export record, and deleting the video
stops the render within a second and leaves no file."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from bson import ObjectId
from conftest import person_photos, running_worker, write_pan_zoom_video
from mongo_server import MongoServer, one, submit_video, wait_for
from pymongo.database import Database

from pose_service.probe import probe_video
from pose_service.runtime import PoseRuntime
from pose_service.worker import export as export_module
from pose_service.worker.export import JOINT_COLOR, PoseCursor, draw_skeleton, joint_confidence, mean_fps
from pose_service.worker.queue import queued_task, utcnow
from pose_service.worker.store import MediaStore

FRAMES = 90


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 640×480 clip, 3 s at 30 fps: the astronaut photo (480×480) on a grey field, panning and zooming."""
    photo = cv2.resize(person_photos()["astronaut"], (480, 480))
    canvas = np.full((480, 640, 3), 90, dtype=np.uint8)
    canvas[:, 80:560] = photo
    return write_pan_zoom_video(tmp_path_factory.mktemp("clips") / "export-640x480.mp4", canvas, FRAMES)


def analysed_video(db: Database, clip: Path) -> ObjectId:
    video_id, job_id = submit_video(db, clip)
    wait_for(lambda: one(db.jobs.find_one({"_id": job_id}))["state"] in ("done", "failed"), 300, "the analysis")
    job = one(db.jobs.find_one({"_id": job_id}))
    assert job["state"] == "done", job.get("errorDetail")
    return video_id


def submit_export(db: Database, video_id: ObjectId) -> ObjectId:
    """What POST /api/videos/:id/exports does (docs/contracts.md): an exports record, then one export task."""
    now = utcnow()
    export_id = ObjectId()
    db.exports.insert_one(
        {
            "_id": export_id,
            "videoId": video_id,
            "kind": "mp4",
            "state": "queued",
            "framesDone": 0,
            "framesTotal": None,
            "progress": 0.0,
            "fileId": None,
            "size": None,
            "errorKind": None,
            "errorDetail": None,
            "createdAt": now,
            "updatedAt": now,
            "startedAt": None,
            "finishedAt": None,
        }
    )
    db.tasks.insert_one(queued_task({"jobId": export_id, "videoId": video_id, "priority": now}, "export", 0, now))
    return export_id


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_confidence_styling_paints_seen_joints_solid_unsure_faded_and_hidden_not_at_all() -> None:
    assert [joint_confidence(s, 0.5) for s in (0.9, 0.5, 0.3, 0.25, 0.2, float("nan"))] == [
        "seen", "seen", "unsure", "unsure", "hidden", "hidden",
    ]  # fmt: skip
    frame = np.zeros((200, 320, 3), dtype=np.uint8)
    kps = [{"x": 10.0, "y": 10.0, "score": 0.0} for _ in range(17)]
    kps[5] = {"x": 60.0, "y": 100.0, "score": 0.9}  # left shoulder: seen
    kps[6] = {"x": 160.0, "y": 100.0, "score": 0.3}  # right shoulder: unsure
    kps[11] = {"x": 260.0, "y": 100.0, "score": 0.1}  # left hip: hidden
    counts = draw_skeleton(frame, kps, 1.0, 0.5)
    assert counts == {"seen": 1, "unsure": 1, "hidden": 15}
    assert tuple(frame[100, 60]) == JOINT_COLOR  # solid, opaque
    faded = frame[100, 160].astype(int)
    assert 0 < faded[0] < JOINT_COLOR[0] and abs(faded[0] - round(0.4 * JOINT_COLOR[0])) <= 2  # 40 % alpha
    assert frame[95:106, 255:266].max() == 0  # the hidden hip: nothing drawn
    # The shoulder line (seen–unsure) is faded and dashed: some of its pixels are untouched, none opaque.
    line = frame[100, 75:145].astype(int)
    assert (line.sum(axis=1) == 0).any() and line.max() < 200
    # Coordinates scale with the frame (keypoints are stored in display pixels of the original).
    small = np.zeros((100, 160, 3), dtype=np.uint8)
    draw_skeleton(small, kps, 0.5, 0.5)
    assert tuple(small[50, 30]) == JOINT_COLOR


def test_pose_cursor_reads_chunks_in_order_and_skips_frames_without_pose() -> None:
    chunks = [{"frames": [{"index": i} for i in range(c * 3, c * 3 + 3) if i != 4]} for c in range(3)]
    read: list[int] = []

    def source() -> Iterator[dict[str, Any]]:
        for n, c in enumerate(chunks):
            read.append(n)
            yield c

    cursor = PoseCursor(source())
    assert cursor.at(0) == {"index": 0} and read == [0]
    assert cursor.at(4) is None and read == [0, 1]  # frame 4 has no pose
    assert cursor.at(5) == {"index": 5} and cursor.at(8) == {"index": 8} and read == [0, 1, 2]
    assert cursor.at(20) is None


def test_mean_fps_gives_the_clip_its_duration() -> None:
    times = [i / 30 for i in range(90)]
    assert 90 / mean_fps(times, 90, 0) == pytest.approx(3.0, abs=1e-9)
    assert mean_fps([0.0], 1, 25.0) == 25.0


def test_export_renders_the_clip_with_the_skeleton_where_the_pose_frames_say(
    mongo: MongoServer, db: Database, runtime: PoseRuntime, clip: Path, tmp_path: Path
) -> None:
    with running_worker(mongo, db, runtime):
        video_id = analysed_video(db, clip)
        export_id = submit_export(db, video_id)
        seen: list[tuple[int, float]] = []

        def ended() -> bool:
            e = one(db.exports.find_one({"_id": export_id}))
            if not seen or seen[-1] != (e["framesDone"], e["progress"]):
                seen.append((e["framesDone"], e["progress"]))
            return e["state"] in ("done", "failed")

        started = time.perf_counter()
        wait_for(ended, 300, "the export", every=0.05)
        wall = time.perf_counter() - started
    export = one(db.exports.find_one({"_id": export_id}))
    assert export["state"] == "done", export.get("errorDetail")
    assert export["framesTotal"] == export["framesDone"] == FRAMES and export["progress"] == 1.0
    assert [p for _, p in seen] == sorted(p for _, p in seen), f"progress went back: {seen}"
    task = one(db.tasks.find_one({"jobId": export_id}))
    assert task["kind"] == "export" and task["state"] == "done", task
    # The analysis job is untouched by the export task (its jobId is the export's id).
    video = one(db.videos.find_one({"_id": video_id}))
    assert one(db.jobs.find_one({"_id": video["jobId"]}))["state"] == "done"

    stored = one(db["media.files"].find_one({"_id": export["fileId"]}))
    assert stored["metadata"]["kind"] == "export" and stored["metadata"]["exportId"] == export_id
    assert stored["length"] == export["size"] > 0
    mp4 = tmp_path / "export.mp4"
    MediaStore(db).download(export["fileId"], mp4)
    info = ffprobe(mp4)
    stream = info["streams"][0]
    assert (stream["codec_name"], stream["pix_fmt"], stream["width"], stream["height"]) == ("h264", "yuv420p", 640, 480)
    assert int(stream["nb_read_frames"]) == video["frameCount"] == FRAMES
    assert float(info["format"]["duration"]) == pytest.approx(video["durationS"], abs=1.5 / 30)

    # On sampled frames: a seen joint of the rider is painted in the joint colour where its keypoint is, and the
    # picture away from the body is the rendition's own.
    rendition = tmp_path / "rendition.mp4"
    MediaStore(db).download(video["rendition"]["fileId"], rendition)
    plain, painted = frames_of(rendition), frames_of(mp4)
    assert len(plain) == len(painted) == FRAMES
    frames = {f["index"]: f for c in db.pose_frames.find({"videoId": video_id}) for f in c["frames"]}
    checked = 0
    for index in (5, 45, 85):
        rider = next(p for p in frames[index]["persons"] if p["track_id"] == video["riderTrackId"])
        # Seen joints inside the picture (a joint the model placed past the edge is drawn off-canvas, as on the web).
        seen_joints = [k for k in rider["keypoints"] if k["score"] >= 0.5 and 2 <= k["x"] < 638 and 2 <= k["y"] < 478]
        assert seen_joints, f"frame {index}: no joint seen"
        for k in seen_joints:
            x, y = round(k["x"]), round(k["y"])
            patch = painted[index][max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].reshape(-1, 3).mean(axis=0)
            assert np.abs(patch - np.array(JOINT_COLOR)).max() < 60, f"frame {index} {k['name']}: {patch}"
            checked += 1
        xs = [k["x"] for k in rider["keypoints"]]
        left = int(min(xs)) - 40
        if left > 20:  # a strip left of the whole skeleton: untouched apart from compression noise
            diff = np.abs(painted[index][:, :left].astype(int) - plain[index][:, :left].astype(int)).mean()
            assert diff < 4, f"frame {index}: the picture away from the skeleton changed ({diff:.1f})"
    assert checked >= 15
    result = task["result"]
    load = os.getloadavg()[0]
    print(
        f"\nexport of {FRAMES} frames 640x480: {result['renderFps']} frames/s in the worker "
        f"({result['renderS']} s render, {wall:.2f} s request to done), load average {load:.1f}"
    )


def test_a_variable_frame_rate_clip_keeps_its_own_frame_times(
    mongo: MongoServer, db: Database, runtime: PoseRuntime, clip: Path, tmp_path: Path
) -> None:
    # The 640×480 clip's first 60 frames with a 0.3 s gap after frame 30 (a phone's dropped frames), timing kept.
    vfr = tmp_path / "vfr.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-frames:v", "60", "-vf", "setpts='(N/30+gte(N\\,30)*0.3)/TB'",
         "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(vfr)],
        check=True, timeout=120,
    )  # fmt: skip
    with running_worker(mongo, db, runtime):
        video_id = analysed_video(db, vfr)
        export_id = submit_export(db, video_id)
        wait_for(lambda: one(db.exports.find_one({"_id": export_id}))["state"] in ("done", "failed"), 300, "the export")
    export = one(db.exports.find_one({"_id": export_id}))
    assert export["state"] == "done", export.get("errorDetail")
    video = one(db.videos.find_one({"_id": video_id}))
    rendition, mp4 = tmp_path / "rendition.mp4", tmp_path / "export.mp4"
    MediaStore(db).download(video["rendition"]["fileId"], rendition)
    MediaStore(db).download(export["fileId"], mp4)
    want, got = probe_video(str(rendition)), probe_video(str(mp4))
    assert want.frame_rate_mode == got.frame_rate_mode == "vfr"
    assert got.frame_count == want.frame_count == 60
    assert np.allclose(got.frame_times, want.frame_times, atol=1e-4), "every frame at the clip's own time"
    assert got.duration_s == pytest.approx(want.duration_s, abs=1e-3)
    assert int(ffprobe(mp4)["streams"][0]["nb_read_frames"]) == 60


def test_deleting_the_video_stops_the_export_within_a_second_and_leaves_no_file(
    mongo: MongoServer, db: Database, runtime: PoseRuntime, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_draw = export_module.draw_skeleton

    def draw_slowly(*args: Any) -> dict[str, int]:
        time.sleep(0.05)  # 90 frames take ≥ 4.5 s: time to cancel mid-render
        return slow_draw(*args)

    with running_worker(mongo, db, runtime) as worker:
        video_id = analysed_video(db, clip)
        monkeypatch.setattr(export_module, "draw_skeleton", draw_slowly)
        monkeypatch.setattr(export_module, "PROGRESS_EVERY_S", 0.1)
        export_id = submit_export(db, video_id)
        wait_for(lambda: one(db.exports.find_one({"_id": export_id}))["framesDone"] > 0, 120, "the render to start")
        # What DELETE /api/videos/:id does: the video, its tasks, its files, its records.
        deleted = time.monotonic()
        db.videos.delete_one({"_id": video_id})
        db.tasks.delete_many({"videoId": video_id})
        db.exports.delete_many({"videoId": video_id})
        wait_for(lambda: worker.current is None, 5, "the worker to let go of the export", every=0.02)
        stopped_s = time.monotonic() - deleted
        time.sleep(0.5)
        files = list(db["media.files"].find({"metadata.videoId": video_id, "metadata.kind": "export"}))
    assert stopped_s < 1.5, f"the export ran on for {stopped_s:.2f} s after the delete"
    assert files == []
