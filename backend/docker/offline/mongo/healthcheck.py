"""Healthy when the server answers an authenticated ping (or an unauthenticated one when auth is off)."""

import os
import sys
from pathlib import Path

from pymongo import MongoClient

user = os.environ.get("MONGO_INITDB_ROOT_USERNAME")
password_file = os.environ.get("MONGO_INITDB_ROOT_PASSWORD_FILE")
password = Path(password_file).read_text().strip() if password_file else os.environ.get("MONGO_INITDB_ROOT_PASSWORD")
port = os.environ.get("MONGO_PORT", "27017")
client: MongoClient[dict[str, object]] = MongoClient(
    f"mongodb://127.0.0.1:{port}", username=user or None, password=password or None, serverSelectionTimeoutMS=2000
)
try:
    client.admin.command("ping")
except Exception as error:  # any failure means unhealthy
    print(f"unhealthy: {error}", file=sys.stderr)
    sys.exit(1)
