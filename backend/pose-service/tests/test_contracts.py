"""The executable contracts (docs/schemas, issue 17/5) held against what the pose side really produces: the HTTP
answers of the Flask app running real MediaPipe on the offline photos and clips, and the pose_frames, metrics and
metric_series documents a real worker writes into a real MongoDB-wire server. A field renamed or retyped on either
side fails here (and in the API's backend/test/contracts.test.ts, which validates the same documents as served)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import pytest
from bson import ObjectId
from conftest import person_photos, running_worker, write_pan_zoom_video
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from mongo_server import MongoServer, submit_video
from pymongo.database import Database
from referencing import Registry, Resource
from test_worker_jobs import wait_job_end

from pose_service.runtime import PoseRuntime

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"
BASE = "https://snowboarding.example/schemas/"


def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        assert schema["$id"] == BASE + path.name, f"{path.name}: $id must be {BASE + path.name}"
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validator(name: str) -> Draft202012Validator:
    schema = REGISTRY.contents(BASE + name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER)


def conforms(name: str, instance: Any) -> None:
    """Fails naming every field that breaks the schema (path and reason), not just the first."""
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    where = ["/".join(str(p) for p in e.absolute_path) or "(root)" for e in errors]
    assert not errors, f"{name}: " + "; ".join(f"{w}: {e.message}" for w, e in zip(where, errors, strict=True))[:2000]


def as_json(doc: Any) -> Any:
    """A stored document as the API serialises it: ObjectIds as hex strings, dates as ISO strings."""
    if isinstance(doc, dict):
        return {k: as_json(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [as_json(v) for v in doc]
    if isinstance(doc, ObjectId):
        return str(doc)
    if isinstance(doc, datetime):
        return doc.isoformat()
    return doc


def png(rgb: Any) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def test_every_schema_is_valid_draft_2020_12_and_every_ref_resolves() -> None:
    names = [p.name for p in SCHEMAS.glob("*.schema.json")]
    assert len(names) >= 10, names
    for name in names:
        v = validator(name)
        for ref in _refs(v.schema):
            # A $ref that names no file or no $defs entry raises here (a typo would otherwise surface only on data).
            assert REGISTRY.resolver(base_uri=BASE + name).lookup(ref).contents is not None, f"{name}: {ref}"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_health_and_ready_answers(client: FlaskClient) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    conforms("pose-health.schema.json", health.get_json())
    ready = client.get("/ready")
    assert ready.status_code == 200, ready.get_json()
    conforms("pose-ready.schema.json", ready.get_json())


@pytest.mark.parametrize("photo", ["astronaut", "camera"])
def test_pose_image_answer_of_a_real_photo(client: FlaskClient, photo: str) -> None:
    resp = client.post("/v1/pose/image", data={"image": (io.BytesIO(png(person_photos()[photo])), f"{photo}.png")})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    conforms("pose-image.schema.json", body)
    assert body["persons"], "MediaPipe finds the person in the photo (else the person schema went untested)"


def test_pose_video_answer_of_a_real_clip(client: FlaskClient, camera_video: Path) -> None:
    resp = client.post("/v1/pose/video", json={"path": str(camera_video), "max_frames": 20})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    conforms("pose-video.schema.json", body)
    assert any(f["persons"] for f in body["frames"]), "some frame has a person"
    assert body["metrics"]["summary"]["frames_analysed"] == len(body["frames"])


def test_error_answers(client: FlaskClient, upload_root: Path) -> None:
    for resp in (
        client.post("/v1/pose/image", data={}),
        client.post("/v1/pose/video", json={"path": str(upload_root / "nope.mp4")}),
        client.post("/v1/pose/video", json={"path": 5}),
        client.get("/v1/nothing-here"),
    ):
        assert resp.status_code >= 400
        conforms("error.schema.json", resp.get_json())


def test_the_schemas_reject_a_broken_answer(client: FlaskClient) -> None:
    """The checks can fail: a person with 16 keypoints, a misspelt joint, a summary without its rider counts."""
    resp = client.post("/v1/pose/image", data={"image": (io.BytesIO(png(person_photos()["camera"])), "c.png")})
    body = resp.get_json()
    person = body["persons"][0]
    for broken in (
        {**person, "keypoints": person["keypoints"][:16]},
        {**person, "keypoints": [{**person["keypoints"][0], "name": "noze"}, *person["keypoints"][1:]]},
        {**person, "track_id": "1"},
    ):
        with pytest.raises(AssertionError, match="persons/0"):
            conforms("pose-image.schema.json", {**body, "persons": [broken]})
    with pytest.raises(ValidationError):
        validator("summary.schema.json").validate({"max_rotation_deg": None})


def test_worker_written_documents(mongo: MongoServer, db: Database, runtime: PoseRuntime, tmp_path: Path) -> None:
    """A real worker analyses a 120-frame clip in two segments: every document the API reads conforms."""
    clip = write_pan_zoom_video(tmp_path / "astronaut.mp4", person_photos()["astronaut"], 120)
    with running_worker(mongo, db, runtime, segment_min_s=1.0, segment_max_s=3.4):
        video_id, job_id = submit_video(db, clip)
        job = wait_job_end(db, job_id)
    assert job["state"] == "done", job.get("errorDetail")
    chunks = list(db.pose_frames.find({"videoId": video_id}).sort("chunk", 1))
    assert [c["chunk"] for c in chunks] == [0, 1]
    for chunk in chunks:
        conforms("worker-pose-frames.schema.json", as_json(chunk))
    metrics = db.metrics.find_one({"_id": video_id})
    assert metrics is not None
    conforms("worker-metrics.schema.json", as_json(metrics))
    series = list(db.metric_series.find({"videoId": video_id}))
    assert len(series) == metrics["seriesChunks"] == 1
    conforms("worker-metric-series.schema.json", as_json(series[0]))
    # The reassembled Metrics (what GET /api/videos/:id/metrics answers) conforms too.
    whole = {
        "series": {"t": series[0]["t"], **series[0]["series"], "smoothed": series[0]["smoothed"]},
        "summary": metrics["summary"],
    }
    conforms("metrics.schema.json", whole)
