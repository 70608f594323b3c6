"""Proof that running the tests leaves the user's own stack alone (scripts/test.sh runs it around the suite).

    python tests/user_stack_guard.py snapshot FILE [--seed]   before the suite
    python tests/user_stack_guard.py check FILE               after it: exit 1 naming every difference
    python tests/user_stack_guard.py release FILE             on any exit: takes a seeded stack down (idempotent)

The user's stack is the compose project named in stack.toml (what `invoke up` runs with SNOWSTACK_PROJECT
unset). The snapshot holds its containers (id, start time, restarts), volumes, network, and through its API
every video with the SHA-256 of its stored file, its pose frames and metrics. It reads the API signed in as the
user's first admin (ADMIN_USERNAME / ADMIN_PASSWORD of backend/.env); an API from before accounts existed is read
as it was, without signing in. With --seed (CI, where no user
stack exists) it first brings that stack up and analyses a clip in it, as a developer's machine would have,
and `check` (or, when the suite stopped early, `release`) takes it down again afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from snowstack.apiclient import ApiClient, ApiError, NoSignInError, sign_in_as_admin  # noqa: E402
from snowstack.engine import Engine  # noqa: E402
from snowstack.project import PROJECT_VARIABLE  # noqa: E402
from snowstack.project_files import read_env_file  # noqa: E402
from snowstack.stack_toml import load_stack  # noqa: E402

CLIP = ROOT / "snowstack/data/rider.webm"
USER_ENV = {key: value for key, value in os.environ.items() if key != PROJECT_VARIABLE}


def snapshot(engine: Engine, project: str, network: str) -> dict[str, Any]:
    """Everything of the user's project that a test could damage, as plain JSON."""
    label = ("label", f"com.docker.compose.project={project}")
    containers = {}
    api_port = None
    for container in engine.client.container.list(all=True, filters=[label]):
        service = container.config.labels.get("com.docker.compose.service", container.name)
        containers[service] = {
            "id": container.id,
            "started_at": str(container.state.started_at),
            "status": str(container.state.status),
            "restarts": container.restart_count,
        }
        if service == "backend-api":
            bindings = (container.network_settings.ports or {}).get("3001/tcp") or []
            api_port = next((int(b["HostPort"] if isinstance(b, dict) else b.host_port) for b in bindings), None)
    volumes = {volume.name: str(volume.created_at) for volume in engine.client.volume.list(filters=[label])}
    return {
        "project": project,
        "containers": containers,
        "volumes": volumes,
        "network": bool(engine.client.network.exists(network)),
        "videos": videos(user_api(f"http://127.0.0.1:{api_port}"))
        if api_port and containers["backend-api"]["status"] == "running"
        else None,
    }


def user_api(api: str, env_file: Path | None = None) -> ApiClient:
    """The user's API, signed in as their first admin (credentials from `env_file`, default the user's backend/.env);
    a stack from before accounts existed needs (and has) no sign-in.

    The guard only reads `.env`: it never adds the variables `invoke up` would.
    """
    path = (env_file or load_stack().compose_file.parent / ".env").resolve()
    env = read_env_file(path) if path.is_file() else {}
    env_file = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    if env.get("ADMIN_PASSWORD"):
        try:
            return sign_in_as_admin(api, env, env_file)
        except NoSignInError:
            return ApiClient(api)
        except ApiError as error:
            sys.exit(f"user-stack guard: cannot read the user's stack: {error}")
    client = ApiClient(api)
    if client.get("/api/videos", params={"limit": 1}, timeout=30).status_code == 401:
        sys.exit(f"user-stack guard: the user's API asks for a sign-in but {env_file} has no ADMIN_PASSWORD: run `invoke up`")
    return client


def digest(response: requests.Response) -> str:
    return f"{response.status_code}:{hashlib.sha256(response.content).hexdigest()}"


def videos(api: ApiClient) -> dict[str, Any]:
    """Each video's record, and hashes of what the API serves for it (file, pose frames, metrics)."""
    found: dict[str, Any] = {}
    page = 1
    while True:
        listing = api.get("/api/videos", params={"page": page, "limit": 50}, timeout=30).json()
        for video in listing["items"]:
            base = f"/api/videos/{video['id']}"
            original = api.get(f"{base}/original", timeout=120)
            found[video["id"]] = {
                "title": video.get("title"),
                "sha256": video.get("sha256"),
                "status": video.get("status"),
                "file": digest(original if original.status_code == 200 else api.get(f"{base}/stream", timeout=120)),
                "pose": digest(api.get(f"{base}/pose", timeout=120)),
                "metrics": digest(api.get(f"{base}/metrics", timeout=60)),
            }
        if page * listing["limit"] >= listing["total"]:
            return found
        page += 1


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What changed in the user's stack, one line each (empty: untouched)."""
    problems = []
    for kind in ("containers", "volumes"):
        for name in sorted(set(before[kind]) | set(after[kind])):
            old, new = before[kind].get(name), after[kind].get(name)
            if old != new:
                problems.append(f"{kind[:-1]} {name}: {json.dumps(old)} -> {json.dumps(new)}")
    if before["network"] != after["network"]:
        problems.append(f"network: {'removed' if before['network'] else 'created'}")
    old_videos, new_videos = before["videos"] or {}, after["videos"] or {}
    if before["videos"] is not None and after["videos"] is None:
        problems.append("the API no longer answers")
    for video_id in sorted(set(old_videos) | set(new_videos)):
        if old_videos.get(video_id) != new_videos.get(video_id):
            problems.append(f"video {video_id}: {json.dumps(old_videos.get(video_id))} -> {json.dumps(new_videos.get(video_id))}")
    return problems


def invoke(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, env=USER_ENV, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"user-stack guard: invoke {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def seed(engine: Engine, project: str, network: str) -> None:
    """A user's stack holding one analysed clip (CI has none of its own)."""
    invoke("up", "--skip-lint", "--timeout", "600")
    api = user_api(f"http://127.0.0.1:{snapshot_port(engine, project)}")
    with CLIP.open("rb") as clip:
        created = api.post("/api/videos", files={"video": (CLIP.name, clip, "video/webm")}, data={"role": "rider"}, timeout=60)
    created.raise_for_status()
    deadline = time.monotonic() + 300
    while (job := api.get(f"/api/jobs/{created.json()['jobId']}", timeout=10).json())["state"] not in ("done", "failed"):
        if time.monotonic() > deadline:
            sys.exit(f"user-stack guard: the seeded clip is still {job['state']} after 300 s")
        time.sleep(1)
    if job["state"] != "done":
        sys.exit(f"user-stack guard: the seeded clip failed: {job.get('error')}")


def release(path: Path, recorded: dict[str, Any]) -> None:
    """Take down the stack the guard seeded (CI's stand-in for a user's), once."""
    invoke("down", "--volumes")
    path.write_text(json.dumps({**recorded, "seeded": False}, indent=2))
    print("user-stack guard: the seeded user stack is down")


def snapshot_port(engine: Engine, project: str) -> int:
    for container in engine.client.container.list(filters=[("label", f"com.docker.compose.project={project}")]):
        if container.config.labels.get("com.docker.compose.service") == "backend-api":
            bindings = (container.network_settings.ports or {}).get("3001/tcp") or []
            return int(bindings[0]["HostPort"] if isinstance(bindings[0], dict) else bindings[0].host_port)
    sys.exit("user-stack guard: the user's backend-api is not running")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["snapshot", "check", "release"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--seed", action="store_true", help="bring a user stack up with one analysed clip if none runs")
    args = parser.parse_args()
    stack, engine = load_stack(), Engine()
    project, network = stack.name, stack.network
    if args.action == "snapshot":
        seeded = False
        if args.seed and not engine.client.container.list(filters=[("label", f"com.docker.compose.project={project}")]):
            seed(engine, project, network)
            seeded = True
        state = snapshot(engine, project, network)
        args.file.write_text(json.dumps({"seeded": seeded, "state": state}, indent=2))
        print(f"user-stack guard: {len(state['containers'])} containers, {len(state['volumes'])} volumes, "
              f"{len(state['videos'] or {})} videos of project {project!r} recorded{' (seeded)' if seeded else ''}")
        return
    text = args.file.read_text() if args.file.is_file() else ""
    if args.action == "release":
        if text and json.loads(text)["seeded"]:
            release(args.file, json.loads(text))
        return
    recorded = json.loads(text)
    problems = differences(recorded["state"], snapshot(engine, project, network))
    if recorded["seeded"]:
        release(args.file, recorded)
    if problems:
        sys.exit("user-stack guard: the tests touched the user's stack:\n  " + "\n  ".join(problems))
    print(f"user-stack guard: project {project!r} untouched ({len(recorded['state']['videos'] or {})} videos, same hashes)")


if __name__ == "__main__":
    main()
