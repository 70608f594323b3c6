"""`invoke verify`: deep functional checks of every service, not just "the port is open".

Each check is a function of the endpoints and credentials, retried until a deadline (tenacity), run in
parallel where independent; the table names the failing service, and the exit code is min(failures, 1).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_fixed

from .apiclient import UNREACHABLE, ApiClient, ApiError, sign_in_as_admin
from .probe import ProbeTimeout, wait_for_answer
from .report import Check, Status

DATA = Path(__file__).parent / "data"
TEST_PHOTO = DATA / "person.jpg"
TEST_VIDEO = DATA / "rider.webm"
HTTP_TIMEOUT = 10
WORKER_LIVE_S = 10  # a pose worker is live while its heartbeat is younger than this (docs/contracts.md)


class VerifyFailure(Exception):
    """A check's finding: the message is the table's detail."""


class FinalFailure(VerifyFailure):
    """A finding that retrying cannot change and would make worse (a refused password counts towards the API's
    sign-in rate limit): the check fails at once."""


@dataclass(frozen=True)
class VerifyTarget:
    """What the checks talk to: a base URL per service, the .env credentials, the expected pose device."""

    urls: Mapping[str, str]
    env: Mapping[str, str]
    expect_gpu: bool
    mongo_host: str = "127.0.0.1"
    mongo_port: int = 27017
    job_deadline_s: float = 180.0
    invoke: str = "invoke"  # how a fix line starts: with SNOWSTACK_PROJECT=… for an isolated project
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # every service, in the stack's order -> its roles
    workers: int = 0  # the pose worker replicas the project runs (POSE_WORKERS); 0: any number ≥ 1
    env_file: str = "backend/.env"  # where ADMIN_USERNAME / ADMIN_PASSWORD are kept, for the sign-in error


def _get(url: str, session: requests.Session | None = None, **kwargs: Any) -> requests.Response:
    """GET, anonymous or in a signed-in `session`; a transport error is the check's finding."""
    try:
        return (session or requests).get(url, timeout=HTTP_TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise VerifyFailure(f"GET {url}: {type(error).__name__}") from None


def _expect(response: requests.Response, status: int, what: str) -> requests.Response:
    if response.status_code != status:
        raise VerifyFailure(f"{what}: HTTP {response.status_code} (expected {status}): {response.text[:160]}")
    return response


def _sign_in(target: VerifyTarget, base: str) -> ApiClient:
    """Signed in at `base` as the project's first admin; a refused password or a missing account fails at once."""
    try:
        return sign_in_as_admin(base, target.env, target.env_file, target.invoke)
    except ApiError as error:
        if error.code == UNREACHABLE or error.status in (502, 503, 504):  # not up yet, or the web server's proxy is not: retry
            raise VerifyFailure(str(error)) from None
        raise FinalFailure(str(error)) from None


def _check_access(base: str, client: ApiClient) -> str:
    """Without a session the API answers 401; signed in but without the CSRF token, a state change answers 403."""
    if client.auth_disabled:
        return "sign-in off (AUTH_DISABLED=true, loopback only)"
    anonymous = _expect(_get(f"{base}/api/videos"), 401, "an anonymous GET /api/videos")
    if anonymous.json().get("error") != "unauthenticated":
        raise VerifyFailure(f"an anonymous GET /api/videos: {anonymous.text[:160]} (expected error unauthenticated)")
    try:  # an empty upload: refused for its missing token first, and harmless if it were not
        forged = requests.post(f"{base}/api/videos", cookies=client.cookies, timeout=HTTP_TIMEOUT)
    except requests.RequestException as error:
        raise VerifyFailure(f"POST /api/videos without a CSRF token: {type(error).__name__}") from None
    if forged.status_code != 403 or forged.json().get("error") != "csrf_failed":
        raise VerifyFailure(f"POST /api/videos signed in without a CSRF token: HTTP {forged.status_code} (expected 403 csrf_failed)")
    return f"signed in as {(client.user or {}).get('username')}; anonymous → 401, no CSRF token → 403"


def _url(target: VerifyTarget, service: str) -> str:
    try:
        return target.urls[service]
    except KeyError:
        raise VerifyFailure(f"{service} publishes no port: is it running? (`invoke ps`)") from None


# --- the checks ---------------------------------------------------------------------------------------


def check_pose_service(target: VerifyTarget, service: str) -> str:
    base = _url(target, service)
    _expect(_get(f"{base}/ready"), 200, "/ready")
    info = _expect(_get(f"{base}/v1/info"), 200, "/v1/info").json()
    want = ("hmr2", "cuda") if target.expect_gpu else ("mediapipe", "cpu")
    if (info.get("backend"), info.get("device")) != want:
        raise VerifyFailure(f"backend/device {info.get('backend')}/{info.get('device')}, expected {want[0]}/{want[1]} for this profile")
    with TEST_PHOTO.open("rb") as photo:
        try:
            response = requests.post(f"{base}/v1/pose/image", files={"image": ("person.jpg", photo, "image/jpeg")}, timeout=60)
        except requests.RequestException as error:
            raise VerifyFailure(f"POST /v1/pose/image: {type(error).__name__}") from None
    persons = _expect(response, 200, "/v1/pose/image").json().get("persons", [])
    if not persons:
        raise VerifyFailure("inference on the bundled test photo found no person")
    visible = sum(1 for k in persons[0]["keypoints"] if k["score"] > 0.5)
    return f"{info['backend']}/{info['device']} ready; test photo: {len(persons)} person, {visible}/17 keypoints visible"


def check_backend_api(target: VerifyTarget, service: str) -> str:
    base = _url(target, service)
    ready = _get(f"{base}/health/ready")
    if ready.status_code != 200:
        raise VerifyFailure(f"/health/ready {ready.status_code}: {ready.text[:200]}")
    client = _sign_in(target, base)
    access = _check_access(base, client)
    with TEST_VIDEO.open("rb") as video:
        try:
            response = client.post(
                f"{base}/api/videos",
                files={"video": ("verify.webm", video, "video/webm")},
                data={"role": "rider", "title": "invoke verify"},
                timeout=60,
            )
        except requests.RequestException as error:
            raise VerifyFailure(f"upload: {type(error).__name__}") from None
    created = _expect(response, 202, "upload").json()
    video_id, job_id = created["videoId"], created["jobId"]
    try:
        seen: list[dict[str, Any]] = []
        job = _wait_for_job(base, job_id, target.job_deadline_s, session=client, seen=seen)
        if job["state"] != "done":
            raise VerifyFailure(f"job {job_id} ended {job['state']}: {job.get('error')}")
        worked = _check_worked_by_workers(job, seen)
        pose = _expect(_get(f"{base}/api/videos/{video_id}/pose", client), 200, "pose").json()
        frames_with_person = sum(1 for frame in pose["frames"] if frame["persons"])
        if not frames_with_person:
            raise VerifyFailure("the analysed test video has no frame with keypoints")
        metrics = _expect(_get(f"{base}/api/videos/{video_id}/metrics", client), 200, "metrics").json()
        if not metrics.get("series", {}).get("t"):
            raise VerifyFailure("metrics have no time series")
        ingest = _check_ingest(base, video_id, hashlib.sha256(TEST_VIDEO.read_bytes()).hexdigest(), client)
    finally:
        deleted = client.delete(f"{base}/api/videos/{video_id}", timeout=HTTP_TIMEOUT)
    if deleted.status_code != 204:
        raise VerifyFailure(f"delete answered {deleted.status_code}")
    _expect(_get(f"{base}/api/videos/{video_id}", client), 404, "the deleted video")
    analysed = f"{frames_with_person}/{len(pose['frames'])} frames with keypoints"
    return f"ready; {access}; upload → {worked} → job done → {analysed}, metrics, {ingest} → deleted"


def _check_ingest(base: str, video_id: str, uploaded_sha256: str, client: ApiClient) -> str:
    """The ingest stage's products: probe on the video, the H.264 rendition streamed with ranges, the poster, and
    the original downloadable byte for byte."""
    video = _expect(_get(f"{base}/api/videos/{video_id}", client), 200, "the video").json()
    probe = video.get("probe") or {}
    if not probe.get("codec") or (video.get("width"), video.get("height")) != (probe.get("width"), probe.get("height")):
        raise VerifyFailure(f"the video's probe is missing or disagrees with its size: {probe}")
    if not video.get("renditionReady") or not video.get("posterUrl"):
        raise VerifyFailure("the job is done but the rendition or the poster is not made")
    stream = _get(f"{base}/api/videos/{video_id}/stream", client, headers={"Range": "bytes=0-1023"})
    _expect(stream, 206, "a range of the rendition")
    if stream.headers.get("Content-Type") != "video/mp4" or b"ftyp" not in stream.content[:16]:
        raise VerifyFailure(f"/stream does not serve the MP4 rendition ({stream.headers.get('Content-Type')})")
    poster = _expect(_get(f"{base}{video['posterUrl']}", client), 200, "the poster")
    if not poster.content.startswith(b"\xff\xd8"):
        raise VerifyFailure("the poster is not a JPEG")
    original = _expect(_get(f"{base}/api/videos/{video_id}/original", client), 200, "the original")
    if hashlib.sha256(original.content).hexdigest() != uploaded_sha256:
        raise VerifyFailure("the original download differs from the uploaded file")
    return f"{probe['codec']} {probe['width']}×{probe['height']} → H.264 rendition + poster, original intact"


def _wait_for_job(
    base: str, job_id: str, deadline_s: float, session: requests.Session | None = None, seen: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Poll the job every 0.5 s until it is done or failed; one still running after `deadline_s` is a failure.
    Every answer is appended to `seen` (the progress a user watches)."""
    answers = seen if seen is not None else []

    def finished(response: requests.Response) -> bool:
        job: dict[str, Any] = _expect(response, 200, "job").json()
        answers.append(job)
        return job["state"] in ("done", "failed")

    try:
        url = f"{base}/api/jobs/{job_id}"
        answer = wait_for_answer(url, finished, deadline_s, interval_s=0.5, session=session, request_timeout_s=HTTP_TIMEOUT)
    except ProbeTimeout as timeout:
        raise VerifyFailure(f"job {job_id} still {answers[-1]['state']} after {deadline_s:.0f}s" if answers else str(timeout)) from None
    return answers[-1] if answers else dict(answer.response.json())


def _check_worked_by_workers(job: dict[str, Any], seen: list[dict[str, Any]]) -> str:
    """A done job went through the pose workers: every segment done, all frames counted, progress never went back."""
    progress = [float(answer.get("progress") or 0) for answer in seen]
    backwards = [(a, b) for a, b in itertools.pairwise(progress) if b < a]
    if backwards:
        raise VerifyFailure(f"the job's progress went backwards ({backwards[0][0]:.2f} → {backwards[0][1]:.2f})")
    segments = job.get("segments") or {}
    if not segments.get("total") or segments.get("done") != segments.get("total") or job.get("framesDone") != job.get("framesTotal"):
        raise VerifyFailure(
            f"the job is done but its segments are not ({segments}, frames {job.get('framesDone')}/{job.get('framesTotal')})"
        )
    steps = sorted(set(progress))
    return f"{segments['total']} segment(s) by the pose workers, progress {' → '.join(f'{p:.2f}' for p in steps)}"


def check_frontend(target: VerifyTarget, service: str) -> str:
    base = _url(target, service)
    page = _expect(_get(f"{base}/"), 200, "/")
    if 'id="root"' not in page.text:
        raise VerifyFailure("/ does not serve the app's index.html")
    assets = _script_paths(page.text)
    if not assets:
        raise VerifyFailure("index.html references no script")
    for asset in assets:
        _expect(_get(f"{base}{asset}"), 200, asset)
    # Signed in through the web server, as the browser does: its proxy passes the cookie both ways.
    client = _sign_in(target, base)
    if not client.auth_disabled:
        _expect(_get(f"{base}/api/videos"), 401, "an anonymous /api/videos through the frontend")
    listing = _expect(_get(f"{base}/api/videos", client), 200, "/api through the frontend, signed in").json()
    if "items" not in listing:
        raise VerifyFailure("/api/videos through the frontend is not the API's answer")
    return f"app and {len(assets)} script(s) served; sign-in and /api reach the API"


def _script_paths(html: str) -> list[str]:
    """Same-origin scripts of the page: /assets/*.js when built (with the prebuilt vendor modules it modulepreloads,
    which the entry imports), /src/main.tsx under Vite's dev server."""
    import re

    scripts = re.findall(r'<script[^>]*\ssrc="(/[^"]+)"', html)
    return scripts + re.findall(r'<link[^>]*\srel="modulepreload"[^>]*\shref="(/[^"]+)"', html)


def check_mongodb(target: VerifyTarget, service: str) -> str:
    user, password = target.env.get("MONGO_ROOT_USERNAME"), target.env.get("MONGO_ROOT_PASSWORD")
    uri = f"mongodb://{target.mongo_host}:{target.mongo_port}/"
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(
            uri, username=user, password=password, authSource="admin", serverSelectionTimeoutMS=3000
        )
        with client:
            client.admin.command("ping")
    except PyMongoError as error:
        raise VerifyFailure(f"authenticated ping failed: {error}") from None
    try:
        anonymous: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=3000)
        with anonymous:
            anonymous.admin.command("listDatabases")
    except OperationFailure:
        pass
    except PyMongoError as error:
        raise VerifyFailure(f"unauthenticated probe failed oddly: {error}") from None
    else:
        raise VerifyFailure("unauthenticated listDatabases succeeded: auth is off")
    return f"authenticated ping ok; unauthenticated access refused; {_check_service_accounts(target, uri)}"


def _check_service_accounts(target: VerifyTarget, uri: str) -> str:
    """Every service's account (API, pose workers, mongo-express) works on its database and is refused everything
    else: the server enforces roles."""
    from .accounts import ACCOUNTS

    users = []
    for account in ACCOUNTS:
        user, password = target.env.get(account.user_variable), target.env.get(account.password_variable)
        if not user or not password:
            missing = f"{account.user_variable}/{account.password_variable}"
            raise VerifyFailure(f"{missing} missing from the project's .env: run {target.invoke} up")
        _check_account(uri, user, password, account.database)
        users.append(user)
    return f"accounts {', '.join(users)} limited to their database (roles enforced)"


def _check_account(uri: str, user: str, password: str, database: str) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri, username=user, password=password, authSource=database, serverSelectionTimeoutMS=3000
    )
    with client:
        try:
            client[database].list_collection_names()
        except PyMongoError as error:
            raise VerifyFailure(f"the account {user} cannot use {database}: {error}") from None
        allowed = []
        for what, attempt in (
            ("listDatabases", lambda: client.admin.command("listDatabases")),
            ("reading admin", lambda: client.admin.list_collection_names()),
            ("createUser", lambda: client[database].command("createUser", "verify-probe", pwd="x", roles=[])),
        ):
            try:
                attempt()
                allowed.append(what)
            except OperationFailure:
                continue
    if allowed:
        raise VerifyFailure(f"the account {user} is allowed {', '.join(allowed)}: this server does not enforce roles")


def check_mongo_express(target: VerifyTarget, service: str) -> str:
    base = _url(target, service)
    _expect(_get(f"{base}/"), 401, "without credentials")
    auth = (target.env.get("MONGO_EXPRESS_USERNAME", ""), target.env.get("MONGO_EXPRESS_PASSWORD", ""))
    _expect(_get(f"{base}/", auth=auth), 200, "with credentials")
    return "401 without credentials, 200 with"


def check_workers(target: VerifyTarget, service: str) -> str:
    """The pose workers are live (a heartbeat in `workers` younger than 10 s, read with their own account), as many
    as the project runs, each on this profile's backend and device."""
    user, password = target.env.get("MONGO_POSE_USERNAME"), target.env.get("MONGO_POSE_PASSWORD")
    if not user or not password:
        raise VerifyFailure(f"MONGO_POSE_USERNAME/MONGO_POSE_PASSWORD missing from the project's .env: run {target.invoke} up")
    since = datetime.now(UTC) - timedelta(seconds=WORKER_LIVE_S)
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(
            f"mongodb://{target.mongo_host}:{target.mongo_port}/",
            username=user,
            password=password,
            authSource="snowboarding",
            serverSelectionTimeoutMS=3000,
            tz_aware=True,
        )
        with client:
            live = list(client.snowboarding.workers.find({"heartbeatAt": {"$gt": since}}))
    except PyMongoError as error:
        raise VerifyFailure(f"reading the workers collection: {error}") from None
    want = ("hmr2", "cuda") if target.expect_gpu else ("mediapipe", "cpu")
    expected = target.workers or 1
    if len(live) < expected:
        raise VerifyFailure(f"{len(live)} live pose worker(s), the project runs {expected}: jobs wait for analysis workers")
    wrong = sorted({f"{w.get('backend')}/{w.get('device')}" for w in live} - {f"{want[0]}/{want[1]}"})
    if wrong:
        raise VerifyFailure(f"workers on {', '.join(wrong)}, expected {want[0]}/{want[1]} for this profile")
    busy = sum(1 for w in live if w.get("taskId"))
    return f"{len(live)} live ({want[0]}/{want[1]}), {busy} busy"


Checker = Callable[[VerifyTarget, str], str]  # (target, the service's name) -> the row's detail

# A service's check follows its stack.toml role (snowstack/stack.py ROLES), never its name.
CHECKS: dict[str, Checker] = {
    "pose": check_pose_service,
    "api": check_backend_api,
    "web": check_frontend,
    "database": check_mongodb,
    "database-ui": check_mongo_express,
    "worker": check_workers,
}


def check_for(roles: tuple[str, ...]) -> Checker | None:
    """The check of the first of a service's roles that has one; None: nothing to verify about it."""
    return next((CHECKS[role] for role in roles if role in CHECKS), None)


def verified_services(roles: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The services (service -> roles, in the stack's order) that verify checks."""
    return [name for name, held in roles.items() if check_for(held) is not None]


def run_check(name: str, check: Checker, target: VerifyTarget, deadline_s: float) -> Check:
    """Retry a check until it passes or its deadline passes; the last failure is the row's detail."""
    started = time.perf_counter()
    try:
        for attempt in Retrying(
            stop=stop_after_delay(deadline_s),
            wait=wait_fixed(1),
            retry=retry_if_exception(lambda error: isinstance(error, VerifyFailure) and not isinstance(error, FinalFailure)),
            reraise=True,
        ):
            with attempt:
                detail = check(target, name)
    except VerifyFailure as failure:
        seconds = round(time.perf_counter() - started, 2)
        return Check(name, Status.FAIL, str(failure), fix=f"{target.invoke} logs -s {name}", seconds=seconds)
    return Check(name, Status.OK, detail, seconds=round(time.perf_counter() - started, 2))


def checks_for(target: VerifyTarget) -> dict[str, Checker]:
    """Each service's check by its role, in the stack's order."""
    return {name: check for name, roles in target.roles.items() if (check := check_for(roles)) is not None}


def verify(target: VerifyTarget, deadline_s: float = 30.0, only: list[str] | None = None) -> list[Check]:
    """All checks in parallel (they are independent); results in the stack's service order."""
    table = checks_for(target)
    names = [n for n in table if not only or n in only]
    with ThreadPoolExecutor(max_workers=len(names) or 1) as pool:
        futures = {name: pool.submit(run_check, name, table[name], target, deadline_s) for name in names}
        return [futures[name].result() for name in names]
