"""Start SecantusDB like the official mongo image starts mongod: root user from the environment, auth on.

Like the official image without --replSet, it is a standalone server (no replica-set advertisement).
On first start (no marker in /data/db) the root user is created on a loopback-only server, which is then
stopped and restarted with --auth on all interfaces; later starts go straight to --auth.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

DATA = Path(os.environ.get("MONGO_DATA_DIR", "/data/db"))
PORT = os.environ.get("MONGO_PORT", "27017")
MARKER = DATA / ".root-user-created"


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


def create_root_user(user: str, password: str) -> None:
    process = subprocess.Popen(server_args("127.0.0.1", auth=False))
    try:
        client: MongoClient[dict[str, object]] = MongoClient(f"mongodb://127.0.0.1:{PORT}", serverSelectionTimeoutMS=2000)
        wait_until_up(client)
        if not client.admin.command("usersInfo", user).get("users"):
            client.admin.command("createUser", user, pwd=password, roles=[{"role": "root", "db": "admin"}])
        MARKER.write_text(user + "\n")
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    user = os.environ.get("MONGO_INITDB_ROOT_USERNAME", "")
    password = os.environ.get("MONGO_INITDB_ROOT_PASSWORD", "")
    if bool(user) != bool(password):
        print("mongo stand-in: set both MONGO_INITDB_ROOT_USERNAME and MONGO_INITDB_ROOT_PASSWORD, or neither", file=sys.stderr)
        return 2
    DATA.mkdir(parents=True, exist_ok=True)
    if user and not MARKER.exists():
        create_root_user(user, password)
    os.execv(sys.executable, server_args("0.0.0.0", auth=bool(user)))


if __name__ == "__main__":
    sys.exit(main())
