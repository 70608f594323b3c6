"""The whole stack, for real: `invoke up` from nothing, `invoke verify`, a browser upload, faults, `invoke down`.

CPU profile and offline stand-ins on machines like CI's. The tests run in file order and share one stack.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from snowstack.apiclient import ApiClient, sign_in_as_admin
from snowstack.compose import ComposeStack
from snowstack.workflows import compose_stack

pytestmark = [pytest.mark.engine, pytest.mark.stack]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "test-results"


def invoke(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def invoke_json(*args: str, expect_rc: int = 0, timeout: int = 1800) -> Any:
    result = invoke(*args, "--json", timeout=timeout)
    assert result.returncode == expect_rc, (
        f"invoke {' '.join(args)} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    # bootstrap prints its own JSON first when up runs it: the last document is the command's.
    decoder, text, documents = json.JSONDecoder(), result.stdout.strip(), []
    index = 0
    while index < len(text):
        document, index = decoder.raw_decode(text, index)
        documents.append(document)
        while index < len(text) and text[index].isspace():
            index += 1
    return documents[-1]


@pytest.fixture(scope="module")
def stack(engine: object) -> Iterator[Any]:
    invoke("down", "--volumes")
    yield None
    project = compose_stack()
    images = [project.image(name) for name, service in project.stack.services.items() if service.built]
    invoke("down", "--volumes")
    for image in images:  # this checkout's test tag only: the user's images and the shared build cache stay
        project.engine.images.remove(image)


def test_up_from_nothing_brings_every_service_healthy(stack: None) -> None:
    result = invoke_json("up", "--timeout", "600")
    states = {s["name"]: s for s in result["services"]}
    workers = {f"pose-worker #{n}" for n in range(1, result["workers"] + 1)}  # one row per replica
    assert result["workers"] >= 1 and set(states) == {"pose-service", "backend-api", "frontend", "mongodb", "mongo-express", *workers}
    assert all(s["state"] == "running" and s["health"] == "healthy" for s in states.values()), states
    assert result["profile"]["gpu"] is False or shutil.which("nvidia-smi")
    env_file = compose_stack().env_file.relative_to(ROOT)
    assert result["signIn"] == {
        "url": states["frontend"]["url"],
        "username": "admin",
        "password": f"ADMIN_PASSWORD in {env_file}",
        "authDisabled": False,
        "envFile": str(env_file),
    }
    (RESULTS / "up.json").parent.mkdir(exist_ok=True)
    (RESULTS / "up.json").write_text(json.dumps(result, indent=2))


def test_a_second_up_rebuilds_nothing(stack: None) -> None:
    project = compose_stack()
    images = {name: project.image(name) for name in ("pose-service", "backend-api", "frontend")}
    assert all(image.endswith(f":{project.project.name}") for image in images.values()), images
    before = {name: project.engine.images.id(image) for name, image in images.items()}
    result = invoke_json("up", "--skip-lint")
    after = {name: project.engine.images.id(image) for name, image in images.items()}
    assert after == before
    assert all(s["health"] == "healthy" for s in result["services"])


def admin(project: ComposeStack) -> ApiClient:
    """The API signed in as the project's first admin (what every whole-stack test talks to it as)."""
    return sign_in_as_admin(project.urls()["backend-api"], project.env, project.env_file)


def browser_env(project: ComposeStack) -> dict[str, str]:
    """What the browser scripts sign in with (tests/e2e/*.mjs read ADMIN_USERNAME / ADMIN_PASSWORD)."""
    return {**os.environ, "ADMIN_USERNAME": project.env.get("ADMIN_USERNAME") or "admin", "ADMIN_PASSWORD": project.env["ADMIN_PASSWORD"]}


def test_verify_passes_every_functional_check(stack: None) -> None:
    result = invoke_json("verify")
    assert result["failed"] == 0, result["checks"]
    names = ["pose-service", "pose-worker", "backend-api", "frontend", "mongodb", "mongo-express"]
    assert [c["name"] for c in result["checks"]] == names
    checks = {c["name"]: c["detail"] for c in result["checks"]}
    # Signed in as the admin; an anonymous request and a state change without the CSRF token were refused.
    assert "signed in as admin; anonymous → 401, no CSRF token → 403" in checks["backend-api"]
    assert "sign-in and /api reach the API" in checks["frontend"]
    (RESULTS / "verify.json").write_text(json.dumps(result, indent=2))


def test_a_browser_uploads_through_the_ui_and_sees_the_skeleton(stack: None) -> None:
    if not shutil.which("node") or not Path("/usr/bin/chromium").exists():
        pytest.fail("the browser test needs node and /usr/bin/chromium (scripts/setup.sh --test installs them)")
    project = compose_stack()
    urls = project.urls()
    video = str(ROOT / "snowstack/data/rider.webm")
    env = {**browser_env(project), "FRONTEND_URL": urls["frontend"], "VIDEO": video, "SHOTS_DIR": str(RESULTS)}
    result = subprocess.run(["node", str(ROOT / "tests/e2e/upload_ui.mjs")], env=env, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (RESULTS / "stack-analysis.png").stat().st_size > 10_000


def test_a_portrait_phone_clip_plays_upright_with_the_skeleton_on_the_body_in_chromium_and_firefox(stack: None) -> None:
    """Issue 13 end to end: a rotate=90 clip made by ffmpeg, uploaded resumably through the UI, analysed by the real
    pose service; poster in the library, H.264 rendition at the display size, overlay inside the person's box."""
    missing = [tool for tool in ("node", "ffmpeg", "chromium", "firefox-esr") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"the phone-footage browser check needs {', '.join(missing)} (scripts/setup.sh --test installs them)")
    project = compose_stack()
    urls = project.urls()
    env = {**browser_env(project), "FRONTEND_URL": urls["frontend"], "POSE_URL": urls["pose-service"], "SHOTS_DIR": str(RESULTS)}
    result = subprocess.run(["node", str(ROOT / "tests/e2e/phone_footage_ui.mjs")], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def long_video(path: Path, frames: int = 400) -> Path:
    import cv2

    photo = cv2.imread(str(ROOT / "snowstack/data/person.jpg"))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), 25, (320, 320))
    for i in range(frames):
        matrix = cv2.getRotationMatrix2D((160, 160), (i % 40) - 20, 1.0)
        writer.write(cv2.warpAffine(photo, matrix, (320, 320), borderMode=cv2.BORDER_REFLECT))
    writer.release()
    return path


def test_restarting_the_api_mid_job_loses_nothing(stack: None, tmp_path: Path) -> None:
    project = compose_stack()
    api = admin(project)  # its session lives in MongoDB: it outlasts the API's restart
    with long_video(tmp_path / "long.webm").open("rb") as video:
        created = api.post("/api/videos", files={"video": ("long.webm", video, "video/webm")}, data={"role": "rider"}, timeout=60)
    assert created.status_code == 202, created.text
    job_id, video_id = created.json()["jobId"], created.json()["videoId"]
    deadline = time.monotonic() + 60
    while api.get(f"/api/jobs/{job_id}", timeout=5).json()["state"] != "running":
        assert time.monotonic() < deadline, "the job never started running"
        time.sleep(0.2)
    restarted_at = datetime.now(UTC)
    project.compose.restart(["backend-api"])
    project.up(timeout_s=120)
    deadline = time.monotonic() + 300
    while (job := api.get(f"/api/jobs/{job_id}", timeout=5).json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, f"the job is still {job['state']} after the restart"
        time.sleep(1)
    assert job["state"] == "done", f"{job['state']}: {job.get('error')} ({job.get('errorDetail')})"
    # The pose workers run jobs, not the API: its restart neither restarted nor cost the job anything.
    assert datetime.fromisoformat(job["startedAt"].replace("Z", "+00:00")) < restarted_at, job
    assert job["attempts"] == 0 and job["framesDone"] == job["framesTotal"], job
    frames = api.get(f"/api/videos/{video_id}/pose", timeout=30).json()["frames"]
    assert any(frame["persons"] for frame in frames)
    assert api.delete(f"/api/videos/{video_id}", timeout=10).status_code == 204


def test_verify_names_a_stopped_service(stack: None) -> None:
    project = compose_stack()
    project.compose.stop(["mongo-express"])
    try:
        result = invoke_json("verify", "--deadline", "3", expect_rc=1)
        failed = [c["name"] for c in result["checks"] if c["status"] == "fail"]
        assert failed == ["mongo-express"]
    finally:
        project.up(timeout_s=120)


def test_down_with_volumes_leaves_no_container_network_or_volume(stack: None) -> None:
    result = invoke("down", "--volumes")
    assert result.returncode == 0, result.stderr
    project = compose_stack()
    label = f"com.docker.compose.project={project.project.name}"
    client = project.engine.client
    assert client.container.list(all=True, filters=[("label", label)]) == []
    assert not [name for name in project.networks().values() if client.network.exists(name)]  # web, data and pose
    assert client.volume.list(filters=[("label", label)]) == []
