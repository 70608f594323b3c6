"""Start SecantusDB like the official mongo image starts mongod: root user from the environment, auth on.

Like the official image without --replSet, it is a standalone server (no replica-set advertisement).
On first start (no marker in /data/db) a loopback-only server is started without auth; the root user is
created (MONGO_INITDB_ROOT_USERNAME, and MONGO_INITDB_ROOT_PASSWORD or MONGO_INITDB_ROOT_PASSWORD_FILE, as the
official image reads them) and the /docker-entrypoint-initdb.d/*.sh scripts are sourced in order, as the official
image does; that server is then stopped and restarted with --auth on all interfaces. Later starts go straight
to --auth. *.js init scripts need mongosh, which the stand-in lacks: they are refused, loudly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

DATA = Path(os.environ.get("MONGO_DATA_DIR", "/data/db"))
PORT = os.environ.get("MONGO_PORT", "27017")
MARKER = DATA / ".root-user-created"
INIT_DIR = Path(os.environ.get("MONGO_INITDB_DIR", "/docker-entrypoint-initdb.d"))


class InitError(Exception):
    """A first-init step failed: the message is the one line the container log shows."""


def file_env(name: str, environ: dict[str, str] | None = None) -> str:
    """NAME, or the contents of the file NAME_FILE names (the official image's `file_env`); both set is an error."""
    env = os.environ if environ is None else environ
    value, path = env.get(name, ""), env.get(f"{name}_FILE", "")
    if value and path:
        raise InitError(f"both {name} and {name}_FILE are set (but are exclusive)")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as error:
            raise InitError(f"{name}_FILE={path}: {error.strerror}") from None
    return value


def server_args(host: str, auth: bool) -> list[str]:
    args = [sys.executable, "-m", "secantus", "--host", host, "--port", PORT, "--storage-path", str(DATA)]
    args += ["--log-level", "WARNING", "--standalone"]
    return [*args, "--auth"] if auth else args


def wait_until_up(client: MongoClient[dict[str, object]], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.admin.command("ping")
            return
        except PyMongoError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def init_scripts(folder: Path = INIT_DIR) -> list[Path]:
    return sorted(path for path in folder.glob("*") if path.is_file()) if folder.is_dir() else []


def first_init(user: str, password: str) -> None:
    """Root user, then the init scripts, on a loopback-only server without auth (what the official image does)."""
    process = subprocess.Popen(server_args("127.0.0.1", auth=False))
    # `docker stop` during first init: stop that server too (the default SIGTERM action would orphan it).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        client: MongoClient[dict[str, object]] = MongoClient(f"mongodb://127.0.0.1:{PORT}", serverSelectionTimeoutMS=2000)
        wait_until_up(client)
        if user and not client.admin.command("usersInfo", user).get("users"):
            client.admin.command("createUser", user, pwd=password, roles=[{"role": "root", "db": "admin"}])
        client.close()
        for script in init_scripts():
            if script.suffix != ".sh":
                raise InitError(f"{script}: the SecantusDB stand-in runs *.sh init scripts only (it has no mongosh for {script.suffix})")
            print(f"mongo stand-in: running {script}", flush=True)
            env = {**os.environ, "MONGO_PORT": PORT, "MONGO_INITDB_ROOT_PASSWORD": password}
            env.pop("MONGO_INITDB_ROOT_PASSWORD_FILE", None)
            # Sourced under `set -e`, like the official entrypoint does; no `mongo` array: there is no mongosh.
            result = subprocess.run(["bash", "-c", 'set -Eeuo pipefail; . "$1"', "init", str(script)], env=env)
            if result.returncode != 0:
                raise InitError(f"{script} failed (exit {result.returncode})")
        MARKER.write_text(user + "\n")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    try:
        user = file_env("MONGO_INITDB_ROOT_USERNAME")
        password = file_env("MONGO_INITDB_ROOT_PASSWORD")
        if bool(user) != bool(password):
            raise InitError("set both MONGO_INITDB_ROOT_USERNAME and MONGO_INITDB_ROOT_PASSWORD (or its _FILE), or neither")
        DATA.mkdir(parents=True, exist_ok=True)
        if not MARKER.exists():
            first_init(user, password)
    except InitError as error:
        print(f"mongo stand-in: {error}", file=sys.stderr)
        return 2
    os.execv(sys.executable, server_args("0.0.0.0", auth=bool(user)))


if __name__ == "__main__":
    sys.exit(main())
