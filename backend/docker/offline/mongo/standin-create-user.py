#!/opt/venv/bin/python3
"""`standin-create-user DATABASE USER PASSWORD_FILE ROLE`: what mongosh's db.createUser does in the official
image's init scripts, for the SecantusDB stand-in (which has no mongosh). Runs as root during first init only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pymongo import MongoClient


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print("usage: standin-create-user DATABASE USER PASSWORD_FILE ROLE", file=sys.stderr)
        return 2
    database, user, password_file, role = argv
    root = os.environ.get("MONGO_INITDB_ROOT_USERNAME") or None
    client: MongoClient[dict[str, object]] = MongoClient(
        f"mongodb://127.0.0.1:{os.environ.get('MONGO_PORT', '27017')}",
        username=root,
        password=os.environ.get("MONGO_INITDB_ROOT_PASSWORD") if root else None,
        authSource="admin",
        serverSelectionTimeoutMS=5000,
    )
    with client:
        client[database].command("createUser", user, pwd=Path(password_file).read_text().strip(), roles=[{"role": role, "db": database}])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
