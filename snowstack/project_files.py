"""The files a compose project keeps on disk: its `.env` (secrets generated from .env.example), the secret files
compose mounts, the computed compose variables, the profile `up` recorded, and the host ports and worker count
an isolated project keeps between commands. Every file is written atomically and private (`write_private`).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from .errors import SnowstackError
from .project import ComposeProject, Profile, default_workers
from .stack import Stack

GENERATE = "__GENERATE__"


def reserved_ports(project: ComposeProject, services: Sequence[str]) -> dict[str, int]:
    """Host ports of an isolated project, chosen free once and then kept, so a restart does not move a service.

    (Left to the engine, `127.0.0.1::3001` gets a new port at every container start.)
    """
    path = project.state_dir / "ports.json"
    kept: dict[str, int] = json.loads(path.read_text()) if path.is_file() else {}
    chosen = {name: kept[name] for name in services if name in kept}
    for name in services:
        if name not in chosen:
            chosen[name] = free_port(exclude=set(chosen.values()))
    if chosen != kept:
        write_private(path, json.dumps(chosen, indent=2))
    return chosen


def chosen_workers(project: ComposeProject, profile: Profile, workers: int | None) -> int:
    """The pose worker count: `workers` when given (then kept in the project's state folder), else the kept one,
    else the profile's default; so `invoke ps` or `verify` after `up --workers 1` do not scale the workers back."""
    path = project.state_dir / "workers"
    if workers is not None:
        if workers < 1:
            raise SnowstackError(f"--workers {workers}: give at least 1 (the stack needs a pose worker to analyse videos)")
        if not path.is_file() or path.read_text().strip() != str(workers):
            write_private(path, str(workers))
        return workers
    kept = path.read_text().strip() if path.is_file() else ""
    return int(kept) if kept.isdigit() and int(kept) > 0 else default_workers(profile)


def free_port(exclude: set[int]) -> int:
    """A loopback TCP port nothing listens on now (the kernel's choice), not one of `exclude`."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in exclude:
            return port


def render_env_file(example: str, token: Any = None) -> str:
    """`.env.example` with every __GENERATE__ replaced by a fresh URL-safe secret."""
    make = token or (lambda: secrets.token_urlsafe(24))
    return re.sub(GENERATE, lambda _: make(), example)


def ensure_env_file(stack: Stack, project: ComposeProject | None = None) -> tuple[Path, bool]:
    """The project's `.env`, created from .env.example with generated secrets on first use. Returns (path, created).

    The user's stack keeps it in backend/.env; an isolated project in its own state folder, with its own secrets.
    A variable .env.example gained since (a new account's password) is appended with a fresh value; nothing the
    file already holds changes.
    """
    example = stack.compose_file.parent / ".env.example"
    env = project.state_dir / ".env" if project and project.isolated else stack.compose_file.parent / ".env"
    if not example.exists():
        if env.exists():
            return env, False
        raise SnowstackError(f"{example} is missing: it documents every variable the stack needs")
    if env.exists():
        text = env.read_text()
        added = missing_env_lines(example.read_text(), read_env_file(env))
        if added:
            write_private(env, text + ("" if text.endswith("\n") or not text else "\n") + added)
        return env, False
    env.parent.mkdir(parents=True, exist_ok=True)
    write_private(env, render_env_file(example.read_text()))
    return env, True


def missing_env_lines(example: str, existing: Mapping[str, str], token: Any = None) -> str:
    """The .env.example lines (secrets generated) whose variable `existing` lacks, as text to append; '' if none."""
    lines = []
    for line in example.splitlines():
        key, sep, _ = line.partition("=")
        if sep and not line.lstrip().startswith("#") and key.strip() not in existing:
            lines.append(render_env_file(line, token))
    return "".join(f"{line}\n" for line in lines)


# Credentials reach the containers as compose `secrets:` files (mounted at /run/secrets/NAME and named by the
# images' *_FILE variables), never as environment variables: file name -> the .env variable holding its value.
SECRET_FILES = {
    "mongo_root_password": "MONGO_ROOT_PASSWORD",
    "mongo_api_password": "MONGO_API_PASSWORD",
    "mongo_express_db_password": "MONGO_EXPRESS_DB_PASSWORD",
    "mongo_express_password": "MONGO_EXPRESS_PASSWORD",
    "mongodb_pose_password": "MONGO_POSE_PASSWORD",  # the pose workers' account
    "admin_password": "ADMIN_PASSWORD",  # the web app's first admin (the API reads ADMIN_PASSWORD_FILE)
}


def secrets_dir(project: ComposeProject) -> Path:
    return project.state_dir / "secrets"


def write_secret_files(project: ComposeProject, env: Mapping[str, str]) -> Path:
    """The project's secret files from its `.env`, rewritten on every run; returns their folder.

    Outside Swarm, compose bind-mounts a `file:` secret with the host file's owner and mode and ignores `uid`,
    `gid` and `mode` (it warns "not supported"), so a 0600 root-owned file would be unreadable to the services'
    non-root users. The folder is 0700 instead: on the host only its owner can reach the files; inside a container
    only that container's own user sees them.
    """
    missing = sorted(variable for variable in SECRET_FILES.values() if not env.get(variable))
    if missing:
        raise SnowstackError(f"{', '.join(missing)} missing or empty in the project's .env: add them (see backend/.env.example)")
    folder = secrets_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for name, variable in SECRET_FILES.items():
        write_private(folder / name, env[variable], mode=0o444)
    return folder


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Write a file (readable by its owner only by default) atomically: a concurrent reader sees the old or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.touch(mode=0o600)
    partial.write_text(text)
    partial.chmod(mode)
    partial.replace(path)


def write_compose_variables(project: ComposeProject, variables: Mapping[str, str]) -> Path:
    """The computed variables as a second env file for compose (later env files win over `.env`)."""
    path = project.state_dir / "compose.env"
    write_private(path, "".join(f"{key}={value}\n" for key, value in sorted(variables.items())))
    return path


def read_env_file(path: Path) -> dict[str, str]:
    """A `.env` file's variables, parsed by Compose's rules (quotes, `export `, comments); a line without `=` is skipped.

    `${VAR}` stays literal where Compose would substitute it: the values become secret files, not Compose input.
    """
    return {key: value for key, value in dotenv_values(path, interpolate=False).items() if value is not None}


PROFILE_FILE = "profile.json"


def record_profile(project: ComposeProject, profile: Profile, env: Mapping[str, str]) -> Path:
    """What `up` chose for this project (the profile without dev, and the compose environment it ran with)."""
    path = project.state_dir / PROFILE_FILE
    write_private(path, json.dumps({"gpu": profile.gpu, "offline": profile.offline, "env": dict(env)}, indent=2))
    return path


def recorded_profile(project: ComposeProject) -> tuple[Profile, dict[str, str]] | None:
    """The profile and environment the project's last `up` recorded, or None (never up, or an unreadable file)."""
    path = project.state_dir / PROFILE_FILE
    try:
        data = json.loads(path.read_text())
        profile = Profile(gpu=bool(data["gpu"]), offline=bool(data["offline"]))
        env = {str(key): str(value) for key, value in dict(data.get("env", {})).items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return profile, env
