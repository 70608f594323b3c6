"""The worker's settings, read once from the environment (the pose service's own Config rides along)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import uri_parser

from ..config import Config


def _float(env: Mapping[str, str], key: str, default: float, minimum: float) -> float:
    raw = env.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key} must be a number, got {raw!r}") from None
    if not value >= minimum:
        raise ValueError(f"{key} must be ≥ {minimum}, got {raw!r}")
    return value


@dataclass(frozen=True)
class WorkerSettings:
    """MongoDB access, queue timings and the pose Config; see from_env for the variable names."""

    mongodb_uri: str
    database: str = "snowboarding"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    # A lease outlives 20 missed heartbeats: only a dead worker (or one cut off from MongoDB) loses its task.
    lease_s: float = 10.0
    heartbeat_s: float = 0.5
    # An idle worker asks for work this often: two hops (ingest, then the first segment) stand between an upload
    # and its first skeleton, so this is paid twice; one indexed findOneAndUpdate per worker per poll is cheap.
    poll_s: float = 0.2
    max_attempts: int = 3
    backoff_s: float = 2.0
    max_lost: int = 5
    # A worker whose heartbeat is older than this is not live (the API's `waiting: "workers"` uses the same).
    live_s: float = 10.0
    # Segment length bounds in seconds of footage (plan.py); tests shorten them to cut short clips in several.
    segment_min_s: float = 2.0
    segment_max_s: float = 10.0
    pose: Config = field(default_factory=Config)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerSettings:
        """MONGODB_URI (no password in it), MONGODB_USERNAME + MONGODB_PASSWORD_FILE, MONGODB_DB, POSE_TASK_*."""
        e = os.environ if env is None else env
        uri = (e.get("MONGODB_URI") or "").strip()
        if not uri:
            raise ValueError("MONGODB_URI is not set; set it to the MongoDB URL, e.g. mongodb://mongodb:27017")
        username = (e.get("MONGODB_USERNAME") or "").strip() or None
        password = None
        password_file = (e.get("MONGODB_PASSWORD_FILE") or "").strip()
        if password_file:
            if username is None:
                raise ValueError("MONGODB_PASSWORD_FILE is set but MONGODB_USERNAME is not; set the account's name")
            try:
                password = Path(password_file).read_text().strip()
            except OSError as exc:
                raise ValueError(f"MONGODB_PASSWORD_FILE={password_file} cannot be read: {exc.strerror}") from None
        return cls(
            mongodb_uri=uri,
            database=(e.get("MONGODB_DB") or "snowboarding").strip(),
            username=username,
            password=password,
            lease_s=_float(e, "POSE_TASK_LEASE_S", 10.0, 1.0),
            heartbeat_s=_float(e, "POSE_TASK_HEARTBEAT_S", 0.5, 0.05),
            poll_s=_float(e, "POSE_WORKER_POLL_S", 0.2, 0.05),
            max_attempts=int(_float(e, "JOB_MAX_ATTEMPTS", 3, 1)),
            backoff_s=_float(e, "POSE_TASK_BACKOFF_S", 2.0, 0.0),
            segment_min_s=_float(e, "POSE_SEGMENT_MIN_S", 2.0, 0.0),
            segment_max_s=_float(e, "POSE_SEGMENT_MAX_S", 10.0, 0.1),
            pose=Config.from_env(e),
        )

    def client_options(self) -> dict[str, Any]:
        """pymongo options: credentials apart from the URL; the account lives in the app's database."""
        opts: dict[str, Any] = {
            "tz_aware": True,
            "appname": "snowboarding-pose-worker",
            "serverSelectionTimeoutMS": 2_000,
            "connectTimeoutMS": 2_000,
            "socketTimeoutMS": 30_000,
        }
        if self.username is not None:
            opts["username"] = self.username
            if self.password is not None:
                opts["password"] = self.password
            parsed = uri_parser.parse_uri(self.mongodb_uri)
            if "authsource" not in {k.lower() for k in parsed["options"]}:
                opts["authSource"] = parsed.get("database") or self.database
        return opts
