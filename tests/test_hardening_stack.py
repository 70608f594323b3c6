"""The running stack's isolation, for real: networks by need, least privilege, file secrets, memory limits.

Everything is read from the running containers (docker inspect and commands run inside them through the
engine), never from the compose file. Runs on the suite's isolated project (conftest), before test_stack_e2e.py,
and leaves no stack behind.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from snowstack.apiclient import ApiClient, sign_in_as_admin
from snowstack.compose import ComposeStack
from snowstack.container_memory import memory_usage, reset_memory_peak
from snowstack.engine import ContainerFacts
from snowstack.lint import may_share_a_network
from snowstack.project_files import SECRET_FILES
from snowstack.stack import Stack
from snowstack.stack_toml import load_stack
from snowstack.workflows import compose_stack

pytestmark = [pytest.mark.engine, pytest.mark.stack]

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def project(engine: object) -> Iterator[ComposeStack]:
    result = invoke("up", "--timeout", "600")
    assert result.returncode == 0, f"invoke up failed\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    yield compose_stack()
    invoke("down", "--volumes")


def containers(project: ComposeStack) -> dict[str, ContainerFacts]:
    facts = [project.engine.container_facts(container.id) for container in project.compose.ps()]
    return {str(f.service): f for f in facts}


# --- networks by need ---------------------------------------------------------------------------------------


def expected_reachability(stack: Stack) -> dict[tuple[str, str], bool]:
    """(from, to) -> reachable, from stack.toml's `talks_to`: a service reaches those it talks to, those that talk
    to it, and the other clients of a server it talks to (they share that server's network); nothing else."""
    talks_to = {name: service.talks_to for name, service in stack.services.items()}
    return {(a, b): may_share_a_network(a, b, talks_to) for a in stack.services for b in stack.services if a != b}


def test_the_description_keeps_the_web_server_and_the_pose_service_away_from_the_database() -> None:
    reachable = expected_reachability(load_stack())
    assert reachable["frontend", "backend-api"] and reachable["backend-api", "mongodb"] and reachable["backend-api", "pose-service"]
    assert not any(reachable["frontend", other] for other in ("mongodb", "mongo-express", "pose-service"))
    assert not reachable["pose-service", "mongodb"] and not reachable["pose-service", "mongo-express"]


def connects(project: ComposeStack, service: str, host: str, port: int) -> bool:
    """A TCP connection from inside `service`'s container (bash's /dev/tcp: every image here has bash)."""
    probe = ["timeout", "3", "bash", "-c", 'exec 3<>"/dev/tcp/$0/$1"', host, str(port)]
    return project.engine.project.execute(service, probe).exit_code == 0


def test_each_service_reaches_only_the_services_it_needs(project: ComposeStack) -> None:
    facts = containers(project)
    ports = {name: service.port for name, service in project.stack.services.items()}
    probes: list[tuple[str, str, str, int, bool]] = []  # from, to, host, port, expected
    for (source, target), expected in expected_reachability(project.stack).items():
        port = ports[target]
        if port is None:  # a pose worker listens on nothing: there is nothing of it to reach
            continue
        probes.append((source, target, target, port, expected))
        if not expected:  # not just a missing DNS name: no address of the target answers either
            probes += [(source, target, address, port, False) for address in facts[target].addresses.values()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(lambda p: connects(project, p[0], p[2], p[3]), probes))
    wrong = [
        f"{s} -> {t} ({h}:{p}): {'connected' if got else 'unreachable'}, expected {'reachable' if e else 'unreachable'}"
        for (s, t, h, p, e), got in zip(probes, seen, strict=True)
        if got != e
    ]
    assert not wrong, wrong
    # Nor through the host: the published ports are bound to 127.0.0.1, which a container cannot reach.
    web_gateway = project.engine.network_gateway(project.network)
    assert web_gateway
    for target in ("mongodb", "pose-service", "mongo-express"):
        published = project.published_port(target)
        assert published and not connects(project, "frontend", web_gateway, published), f"frontend reaches {target} via the host"
    web, data, pose = project.network, project.networks()["data"], project.networks()["pose"]
    assert set(facts["frontend"].addresses) == {web}
    assert set(facts["backend-api"].addresses) == {web, data, pose}
    assert set(facts["pose-service"].addresses) == {pose}
    assert set(facts["mongodb"].addresses) == set(facts["mongo-express"].addresses) == {data}
    assert set(facts["pose-worker"].addresses) == {data}


# --- least privilege ----------------------------------------------------------------------------------------


def proc_status(project: ComposeStack, service: str) -> dict[str, str]:
    result = project.engine.project.execute(service, ["cat", "/proc/1/status"])
    assert result.exit_code == 0, result.output
    return dict(line.split(":\t", 1) for line in result.output.splitlines() if ":\t" in line)


def test_every_container_runs_unprivileged_on_a_read_only_root_with_limits(project: ComposeStack) -> None:
    facts = containers(project)
    assert set(facts) == set(project.stack.services)
    for name, container in facts.items():
        assert container.cap_drop == ("ALL",) and container.cap_add == (), (name, container.cap_drop, container.cap_add)
        assert "no-new-privileges:true" in container.security_opt, (name, container.security_opt)
        assert container.read_only, name
        assert container.memory_limit > 0 and container.memory_swap_limit == container.memory_limit, name
        assert container.pids_limit and container.pids_limit > 0, name
        # What the kernel says about the service's own process: no capability at all, no privilege gain, not root.
        status = proc_status(project, name)
        assert int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0, (name, status["CapEff"])
        assert status["NoNewPrivs"].strip() == "1", name
        assert status["Uid"].split()[0] != "0", (name, status["Uid"])
        refused = project.engine.project.execute(name, ["touch", "/hardening-probe"])
        assert refused.exit_code != 0 and "Read-only file system" in refused.output, (name, refused)
        scratch = project.engine.project.execute(name, ["sh", "-c", "touch /tmp/hardening-probe && rm /tmp/hardening-probe"])
        assert scratch.exit_code == 0, (name, scratch.output)


def test_the_api_the_workers_and_mongo_express_use_accounts_limited_to_the_app_database(project: ComposeStack) -> None:
    env = project.env
    port = project.published_port("mongodb")
    for user, password in (
        (env["MONGO_API_USERNAME"], env["MONGO_API_PASSWORD"]),
        (env["MONGO_EXPRESS_DB_USERNAME"], env["MONGO_EXPRESS_DB_PASSWORD"]),
        (env["MONGO_POSE_USERNAME"], env["MONGO_POSE_PASSWORD"]),
    ):
        client: MongoClient[dict[str, Any]] = MongoClient(
            f"mongodb://127.0.0.1:{port}/", username=user, password=password, authSource="snowboarding", serverSelectionTimeoutMS=5000
        )
        with client:
            client.snowboarding.list_collection_names()
            with pytest.raises(OperationFailure, match="not authorized"):
                client.admin.command("listDatabases")
            with pytest.raises(OperationFailure, match="not authorized"):
                client.admin.list_collection_names()
    api_env = dict(item.split("=", 1) for item in containers(project)["backend-api"].env)
    assert api_env["MONGODB_USERNAME"] == env["MONGO_API_USERNAME"] and "@" not in api_env["MONGODB_URI"]


# --- file secrets ---------------------------------------------------------------------------------------------


def test_no_secret_is_in_any_container_environment_label_or_image(project: ComposeStack) -> None:
    env = project.env
    secrets = {variable: env[variable] for variable in SECRET_FILES.values()}
    assert all(len(value) >= 16 for value in secrets.values())
    for name, container in containers(project).items():
        exposed = [*container.env, *(f"{k}={v}" for k, v in container.labels.items()), *project.engine.images.history(container.image)]
        leaks = [variable for variable, value in secrets.items() if any(value in item for item in exposed)]
        assert not leaks, f"{name} shows {leaks} in its environment, labels or image history"
    # The services read them as files, each only the ones it needs.
    mounted = {
        name: sorted(project.engine.project.execute(name, ["sh", "-c", "ls /run/secrets 2>/dev/null || true"]).output.split())
        for name in project.stack.services
    }
    assert mounted == {
        "pose-service": [],
        "pose-worker": ["mongodb_pose_password"],
        "backend-api": ["admin_password", "mongo_api_password"],
        "frontend": [],
        "mongodb": ["mongo_api_password", "mongo_express_db_password", "mongo_root_password", "mongodb_pose_password"],
        "mongo-express": ["mongo_express_db_password", "mongo_express_password"],
    }
    read = project.engine.project.execute("backend-api", ["cat", "/run/secrets/mongo_api_password"])
    assert read.exit_code == 0 and read.output == secrets["MONGO_API_PASSWORD"]


# --- memory limits under oversized input ---------------------------------------------------------------------


def png_bomb(side: int = 30000) -> bytes:
    """A valid 2.6 MB PNG of side x side black RGB pixels (2.7 GB decoded), made in a fraction of a second.

    Its zlib stream repeats one sync-flushed deflate block of zeros (the window is all zeros either way), and the
    Adler-32 of n zero bytes is (n mod 65521) << 16 | 1.
    """
    row, rows_per_block = side * 3 + 1, 100
    block = b"\0" * (row * rows_per_block)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(block) + deflate.flush(zlib.Z_SYNC_FLUSH)
    middle = deflate.compress(block) + deflate.flush(zlib.Z_SYNC_FLUSH)
    blocks = side // rows_per_block
    last = deflate.compress(b"\0" * (row * side - row * rows_per_block * blocks)) + deflate.flush()
    total = row * side
    stream = b"\x78\xda" + first + middle * (blocks - 1) + last + struct.pack(">I", ((total % 65521) << 16) | 1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", stream) + chunk(b"IEND", b"")


def test_the_png_bomb_is_what_it_claims() -> None:
    bomb = png_bomb(3000)  # same construction, small enough to inflate here
    inflated = zlib.decompress(bomb[41 : 41 + struct.unpack(">I", bomb[33:37])[0]])
    assert len(inflated) == (3000 * 3 + 1) * 3000 and not inflated.strip(b"\0")
    assert len(png_bomb()) < 3_000_000


def huge_json(megabytes: int) -> Iterator[bytes]:
    """A streamed JSON body of `megabytes` MB: {"path": "aaaa…"}."""
    yield b'{"path": "'
    for _ in range(megabytes):
        yield b"a" * (1 << 20)
    yield b'"}'


def wait_ready(project: ComposeStack, service: str, seconds: float = 120) -> bool:
    """The service's own readiness probe (stack.toml) answers 200: a restarted worker shows here before Docker's health."""
    url = project.urls()[service] + str(project.stack.services[service].health)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(1)
    return False


def signed_in(base: str) -> ApiClient:
    project = compose_stack()
    return sign_in_as_admin(base, project.env, project.env_file)


OVERSIZED: dict[str, tuple[str, Callable[[str], requests.Response]]] = {
    "a PNG whose header says 30000x30000": (
        "pose-service",
        lambda base: requests.post(f"{base}/v1/pose/image", files={"image": ("bomb.png", png_bomb(), "image/png")}, timeout=120),
    ),
    "a 64 MB JSON path to the pose service": (
        "pose-service",
        lambda base: requests.post(f"{base}/v1/pose/video", data=huge_json(64), headers={"Content-Type": "application/json"}, timeout=120),
    ),
    "a 64 MB JSON body to the API": (
        "backend-api",
        # Signed in (with the CSRF token): the body reaches the API's parser, not just its sign-in check.
        lambda base: signed_in(base).post("/api/videos", data=huge_json(64), headers={"Content-Type": "application/json"}, timeout=120),
    ),
}


@pytest.mark.parametrize("what", list(OVERSIZED))
def test_oversized_input_is_refused_within_the_memory_limit_and_the_service_stays_healthy(project: ComposeStack, what: str) -> None:
    service, send = OVERSIZED[what]
    container = containers(project)[service]
    assert wait_ready(project, service), f"{service} is not ready before the test"
    if not reset_memory_peak(container.id) or memory_usage(container.id) is None:
        pytest.skip("this host's cgroup layout gives no resettable memory peak (cgroup v1 memory controller)")
    before = memory_usage(container.id)
    assert before is not None
    try:
        response = send(project.urls()[service])
        status, body = response.status_code, response.text[:300]
    except requests.ConnectionError as error:  # a server may close the connection on a body it refuses to read
        status, body = 0, str(error)
    after = memory_usage(container.id)
    assert after is not None
    limit = container.memory_limit
    print(f"{what}: HTTP {status}; {service} peak {after.peak / 2**20:.0f} MiB of {limit / 2**20:.0f} MiB")
    assert after.oom_kills == before.oom_kills, f"{service} had a process killed for memory ({what})"
    assert after.peak < limit, f"{service} reached its memory limit ({what})"
    assert 400 <= status < 500 or status == 0, f"{what}: HTTP {status} {body}"
    if status:
        assert response.json().get("error"), body
    assert wait_ready(project, service), f"{service} did not answer its readiness probe after {what}"
    assert next(s for s in project.states() if s.name == service).health == "healthy"
    assert not containers(project)[service].oom_killed
