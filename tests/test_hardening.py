"""Secrets as files and the MongoDB stand-in's first init, without Docker (the running stack: test_hardening_stack.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

from snowstack.accounts import ensure_accounts, plan_accounts
from snowstack.compose import stale_networks
from snowstack.container_memory import MemoryUsage, read_memory_cgroup
from snowstack.errors import SnowstackError
from snowstack.project import ComposeProject
from snowstack.project_files import SECRET_FILES, ensure_env_file, missing_env_lines, read_env_file, write_secret_files
from snowstack.stack_toml import load_stack

ROOT = Path(__file__).resolve().parent.parent
STAND_IN = ROOT / "backend/docker/offline/mongo"
INIT_SCRIPTS = ROOT / "backend/docker/mongodb-init"


def test_an_existing_env_file_gains_the_new_accounts_and_keeps_every_value(tmp_path: Path) -> None:
    stack = load_stack()
    project = ComposeProject("h-test", isolated=True, state_dir=tmp_path)
    old = "# mine\nMONGO_ROOT_USERNAME=me\nMONGO_ROOT_PASSWORD=kept-secret\nMONGO_EXPRESS_PASSWORD=also-kept"  # no final newline
    (tmp_path / ".env").write_text(old)
    path, created = ensure_env_file(stack, project)
    values = read_env_file(path)
    assert not created and path.read_text().startswith(old + "\n")
    assert (values["MONGO_ROOT_USERNAME"], values["MONGO_ROOT_PASSWORD"], values["MONGO_EXPRESS_PASSWORD"]) == (
        "me",
        "kept-secret",
        "also-kept",
    )
    assert len(values["MONGO_API_PASSWORD"]) >= 24 and values["MONGO_API_PASSWORD"] != values["MONGO_EXPRESS_DB_PASSWORD"]
    assert values["MONGO_API_USERNAME"] == "snowboarding-api"
    assert ensure_env_file(stack, project) == (path, False) and read_env_file(path) == values  # nothing more to add
    assert missing_env_lines("A=1\n# B=2\nC=__GENERATE__\n", {"A": "x"}, token=lambda: "t") == "C=t\n"


def test_every_secret_becomes_a_file_in_a_private_folder_that_compose_mounts(tmp_path: Path) -> None:
    project = ComposeProject("h-test", isolated=True, state_dir=tmp_path)
    env = {variable: f"value-of-{variable}" for variable in SECRET_FILES.values()}
    folder = write_secret_files(project, env)
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert {path.name: path.read_text() for path in folder.iterdir()} == {name: env[variable] for name, variable in SECRET_FILES.items()}
    write_secret_files(project, {**env, "MONGO_API_PASSWORD": "rotated"})  # rewritten every run, atomically
    assert (folder / "mongo_api_password").read_text() == "rotated"
    with pytest.raises(SnowstackError, match="MONGO_API_PASSWORD missing or empty"):
        write_secret_files(project, {**env, "MONGO_API_PASSWORD": ""})
    compose = load_stack().compose_file.read_text()
    for name in SECRET_FILES:
        assert f"{name}:\n    file: ${{SECRETS_DIR:-../.snowstack/projects/snowboarding/secrets}}/{name}\n" in compose, name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def stand_in(tmp_path: Path) -> dict[str, str]:
    """The stand-in's entrypoint as its image runs it (real SecantusDB, the real init script), on a free port."""
    pytest.importorskip("secantus")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    passwords = {"root": "root-secret-1234", "api": "api-secret-1234", "express": "express-secret-1234", "pose": "pose-secret-1234"}
    for name, value in passwords.items():
        (secrets / name).write_text(value)
    bin_dir = tmp_path / "bin"  # `standin-create-user` on PATH, as the image installs it
    bin_dir.mkdir()
    (bin_dir / "standin-create-user").write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STAND_IN / "standin-create-user.py"}" "$@"\n')
    (bin_dir / "standin-create-user").chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "MONGO_DATA_DIR": str(tmp_path / "db"),
        "MONGO_INITDB_DIR": str(INIT_SCRIPTS),
        "MONGO_PORT": str(free_port()),
        "MONGO_INITDB_ROOT_USERNAME": "root",
        "MONGO_INITDB_ROOT_PASSWORD_FILE": str(secrets / "root"),
        "MONGO_APP_DATABASE": "snowboarding",
        "MONGO_API_USERNAME": "snowboarding-api",
        "MONGO_API_PASSWORD_FILE": str(secrets / "api"),
        "MONGO_EXPRESS_DB_USERNAME": "mongo-express",
        "MONGO_EXPRESS_DB_PASSWORD_FILE": str(secrets / "express"),
        "MONGO_POSE_USERNAME": "snowboarding-pose",
        "MONGO_POSE_PASSWORD_FILE": str(secrets / "pose"),
    }


def wait_for_auth(uri: str, seconds: float = 60) -> None:
    """Until the final server answers: the first-init one (loopback, no auth) lets anyone list databases."""
    deadline = time.monotonic() + seconds
    while True:
        anonymous: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=1000)
        try:
            with anonymous:
                anonymous.admin.command("listDatabases")
        except OperationFailure:
            return
        except PyMongoError:
            pass
        assert time.monotonic() < deadline, "the stand-in never came up with auth on"
        time.sleep(0.3)


def test_the_stand_in_reads_file_secrets_runs_the_init_script_and_enforces_roles(stand_in: dict[str, str], tmp_path: Path) -> None:
    log = (tmp_path / "stand-in.log").open("w")  # a file, not a pipe nobody reads while the server runs
    server = subprocess.Popen([sys.executable, str(STAND_IN / "entrypoint.py")], env=stand_in, stdout=log, stderr=subprocess.STDOUT)
    try:
        uri = f"mongodb://127.0.0.1:{stand_in['MONGO_PORT']}/"
        wait_for_auth(uri)
        root: MongoClient[dict[str, object]] = MongoClient(uri, username="root", password="root-secret-1234", serverSelectionTimeoutMS=5000)
        with root:
            users = root.snowboarding.command("usersInfo")["users"]
            assert sorted((u["user"], json.dumps(u["roles"])) for u in users) == [
                ("mongo-express", json.dumps([{"role": "readWrite", "db": "snowboarding"}])),
                ("snowboarding-api", json.dumps([{"role": "readWrite", "db": "snowboarding"}])),
                ("snowboarding-pose", json.dumps([{"role": "readWrite", "db": "snowboarding"}])),
            ]
        api: MongoClient[dict[str, object]] = MongoClient(
            uri, username="snowboarding-api", password="api-secret-1234", authSource="snowboarding", serverSelectionTimeoutMS=5000
        )
        with api:
            api.snowboarding.videos.insert_one({"ok": True})
            with pytest.raises(OperationFailure, match="not authorized"):
                api.other.things.insert_one({"ok": False})
            with pytest.raises(OperationFailure, match="not authorized"):
                api.admin.command("listDatabases")
        pose: MongoClient[dict[str, object]] = MongoClient(
            uri, username="snowboarding-pose", password="pose-secret-1234", authSource="snowboarding", serverSelectionTimeoutMS=5000
        )
        with pose:  # the workers claim tasks with findOneAndUpdate; nothing outside the app's database
            pose.snowboarding.tasks.insert_one({"state": "queued", "seq": 0})
            claimed = pose.snowboarding.tasks.find_one_and_update({"state": "queued"}, {"$set": {"state": "running"}})
            assert claimed is not None and claimed["seq"] == 0
            with pytest.raises(OperationFailure, match="not authorized"):
                pose.other.things.insert_one({"ok": False})
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
        finally:
            log.close()
    output = (tmp_path / "stand-in.log").read_text()
    assert "create-users.sh: snowboarding-api has readWrite on snowboarding" in output, output
    assert "create-users.sh: snowboarding-pose has readWrite on snowboarding" in output, output


def test_the_stand_in_refuses_a_password_given_twice_like_the_official_image(stand_in: dict[str, str]) -> None:
    env = {**stand_in, "MONGO_INITDB_ROOT_PASSWORD": "also-set"}
    result = subprocess.run([sys.executable, str(STAND_IN / "entrypoint.py")], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "MONGO_INITDB_ROOT_PASSWORD and MONGO_INITDB_ROOT_PASSWORD_FILE" in result.stderr


def test_accounts_are_created_only_where_missing_and_take_the_env_passwords() -> None:
    env = {
        "MONGO_API_USERNAME": "api",
        "MONGO_API_PASSWORD": "p1",
        "MONGO_EXPRESS_DB_USERNAME": "me",
        "MONGO_EXPRESS_DB_PASSWORD": "p2",
        "MONGO_POSE_USERNAME": "pose",
        "MONGO_POSE_PASSWORD": "p3",
    }
    changes = plan_accounts(env, existing=["me", "someone-else"])
    assert [(c.command, c.user, c.database, c.password, c.roles) for c in changes] == [
        ("createUser", "api", "snowboarding", "p1", (("readWrite", "snowboarding"),)),
        ("updateUser", "me", "snowboarding", "p2", (("readWrite", "snowboarding"),)),
        ("createUser", "pose", "snowboarding", "p3", (("readWrite", "snowboarding"),)),
    ]
    with pytest.raises(SnowstackError, match="MONGO_API_PASSWORD is empty"):
        plan_accounts({**env, "MONGO_API_PASSWORD": ""}, existing=[])


def test_up_gives_a_volume_from_before_the_accounts_its_accounts(stand_in: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "no-init-scripts"  # the volume was initialised before create-users.sh existed
    empty.mkdir()
    log = (tmp_path / "stand-in.log").open("w")
    server = subprocess.Popen(
        [sys.executable, str(STAND_IN / "entrypoint.py")],
        env={**stand_in, "MONGO_INITDB_DIR": str(empty)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        port = int(stand_in["MONGO_PORT"])
        wait_for_auth(f"mongodb://127.0.0.1:{port}/")
        env = {
            "MONGO_ROOT_USERNAME": "root",
            "MONGO_ROOT_PASSWORD": "root-secret-1234",
            "MONGO_API_USERNAME": "snowboarding-api",
            "MONGO_API_PASSWORD": "api-secret-1234",
            "MONGO_EXPRESS_DB_USERNAME": "mongo-express",
            "MONGO_EXPRESS_DB_PASSWORD": "express-secret-1234",
            "MONGO_POSE_USERNAME": "snowboarding-pose",
            "MONGO_POSE_PASSWORD": "pose-secret-1234",
        }
        assert ensure_accounts("127.0.0.1", port, env) == ["snowboarding-api", "mongo-express", "snowboarding-pose"]
        assert ensure_accounts("127.0.0.1", port, {**env, "MONGO_API_PASSWORD": "rotated-1234"}) == []
        api: MongoClient[dict[str, object]] = MongoClient(
            f"mongodb://127.0.0.1:{port}/",
            username="snowboarding-api",
            password="rotated-1234",
            authSource="snowboarding",
            serverSelectionTimeoutMS=5000,
        )
        with api:
            api.snowboarding.videos.insert_one({"ok": True})
            with pytest.raises(OperationFailure, match="not authorized"):
                api.admin.command("listDatabases")
        with pytest.raises(SnowstackError, match="refused the root account"):
            ensure_accounts("127.0.0.1", port, {**env, "MONGO_ROOT_PASSWORD": "wrong"})
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_memory_peaks_are_read_from_cgroup_v1_and_v2_layouts(tmp_path: Path) -> None:
    v1 = tmp_path / "v1" / "memory" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "memory.usage_in_bytes").write_text("100\n")
    (v1 / "memory.max_usage_in_bytes").write_text("300\n")
    (v1 / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert read_memory_cgroup(tmp_path / "v1", "abc") == MemoryUsage(current=100, peak=300, oom_kills=2)
    v2 = tmp_path / "v2" / "system.slice" / "docker-abc.scope"
    v2.mkdir(parents=True)
    (v2 / "memory.current").write_text("10\n")
    (v2 / "memory.peak").write_text("30\n")
    (v2 / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    assert read_memory_cgroup(tmp_path / "v2", "abc") == MemoryUsage(current=10, peak=30, oom_kills=1)
    assert read_memory_cgroup(tmp_path / "v2", "other") is None


def test_a_network_an_older_compose_file_made_under_another_key_is_stale() -> None:
    networks = {"snowboarding-network": "p-network", "data": "p-network-data", "pose": "p-network-pose"}
    labels = {
        "p-network": {"com.docker.compose.project": "p", "com.docker.compose.network": "web"},  # the key it had before
        "p-network-data": {"com.docker.compose.project": "p", "com.docker.compose.network": "data"},
        "p-network-pose": None,  # not created yet
    }
    assert stale_networks(networks, labels, "p") == ["p-network"]
    assert stale_networks(networks, labels, "other-project") == []  # never another project's network
