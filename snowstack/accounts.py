"""The MongoDB accounts the services connect with, each limited to the app's database.

MongoDB's image creates them once, at first init (backend/docker/mongodb-init/create-users.sh). `invoke up`
makes sure they exist on a volume initialised before they did, and that their passwords are the project's
`.env` ones, so upgrading never means `down --volumes`. The root account does this and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SnowstackError

DATABASE = "snowboarding"


@dataclass(frozen=True)
class Account:
    """A service's MongoDB account: where its name and password live in `.env`, and its one role."""

    user_variable: str
    password_variable: str
    role: str = "readWrite"
    database: str = DATABASE


ACCOUNTS = (
    Account("MONGO_API_USERNAME", "MONGO_API_PASSWORD"),
    Account("MONGO_EXPRESS_DB_USERNAME", "MONGO_EXPRESS_DB_PASSWORD"),
    Account("MONGO_POSE_USERNAME", "MONGO_POSE_PASSWORD"),  # the pose workers (they own the jobs' transitions)
)


@dataclass(frozen=True)
class AccountChange:
    command: str  # createUser or updateUser
    user: str
    database: str
    password: str
    roles: tuple[tuple[str, str], ...]  # (role, database)


def plan_accounts(env: Mapping[str, str], existing: Iterable[str], accounts: Iterable[Account] = ACCOUNTS) -> list[AccountChange]:
    """Create the accounts that are missing; set the others' password and role to what `.env` says."""
    present = set(existing)
    changes = []
    for account in accounts:
        user, password = env.get(account.user_variable, ""), env.get(account.password_variable, "")
        if not user or not password:
            raise SnowstackError(f"{account.user_variable} or {account.password_variable} is empty in the project's .env: set both")
        command = "updateUser" if user in present else "createUser"
        changes.append(AccountChange(command, user, account.database, password, ((account.role, account.database),)))
    return changes


def ensure_accounts(host: str, port: int, env: Mapping[str, str], patience_s: float = 120.0) -> list[str]:
    """Apply the plan as the root user; returns the accounts it created.

    A server that resets connections is retried for `patience_s`: on a fresh volume the stand-in finishes its first
    init (a server without auth) and restarts with auth right after compose first sees it healthy.
    """
    from pymongo.errors import AutoReconnect
    from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

    try:
        for attempt in Retrying(
            stop=stop_after_delay(patience_s), wait=wait_fixed(2), retry=retry_if_exception_type(AutoReconnect), reraise=True
        ):
            with attempt:
                return _ensure_accounts(host, port, env)
    except AutoReconnect as error:
        raise SnowstackError(f"cannot reach MongoDB on {host}:{port} to check the service accounts: {error}") from None
    raise AssertionError("unreachable: tenacity returns or reraises")


def _ensure_accounts(host: str, port: int, env: Mapping[str, str]) -> list[str]:
    from pymongo import MongoClient
    from pymongo.errors import AutoReconnect, OperationFailure, PyMongoError

    client: MongoClient[dict[str, Any]] = MongoClient(
        f"mongodb://{host}:{port}/",
        username=env.get("MONGO_ROOT_USERNAME"),
        password=env.get("MONGO_ROOT_PASSWORD"),
        authSource="admin",
        serverSelectionTimeoutMS=10000,
    )
    created = []
    try:
        with client:
            databases = {account.database for account in ACCOUNTS}
            existing = [user["user"] for name in databases for user in client[name].command("usersInfo")["users"]]
            for change in plan_accounts(env, existing):
                roles = [{"role": role, "db": database} for role, database in change.roles]
                client[change.database].command(change.command, change.user, pwd=change.password, roles=roles)
                if change.command == "createUser":
                    created.append(change.user)
    except OperationFailure as error:
        raise SnowstackError(
            f"MongoDB refused the root account from the project's .env ({error.details.get('errmsg') if error.details else error}): "
            "the volume was initialised with other credentials; put those back into .env"
        ) from None
    except AutoReconnect:
        raise  # the caller retries: the server is restarting
    except PyMongoError as error:
        raise SnowstackError(f"cannot reach MongoDB on {host}:{port} to check the service accounts: {error}") from None
    return created
