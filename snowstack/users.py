"""`invoke user add|list|reset|remove`: the web app's accounts, managed over HTTP as the project's first admin.

The API owns the accounts (docs/contracts.md, "Accounts"); this module signs in with the ADMIN_USERNAME /
ADMIN_PASSWORD that `invoke up` keeps in the project's `.env`, checks names against the accounts that exist (an
unknown one is one line listing the valid ones) and prints a generated password once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from .apiclient import DEFAULT_ADMIN, ApiClient, ApiError, NoSignInError, sign_in_as_admin
from .compose import ComposeStack
from .errors import SnowstackError, require_known
from .project import invoke_command
from .project_files import write_private
from .report import console, print_json

ROLES = ("rider", "coach", "admin")
ACTIONS = ("add", "list", "reset", "remove")
NAMED_ACTIONS = ("add", "reset", "remove")  # the actions that take NAME


@dataclass(frozen=True)
class Account:
    """A user as the API shows it; `riders` are the usernames a coach follows."""

    id: str
    username: str
    role: str
    riders: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, user: Mapping[str, Any]) -> Account:
        return cls(str(user["id"]), str(user["username"]), str(user["role"]), tuple(r["username"] for r in user.get("riders") or ()))


@dataclass(frozen=True)
class NewAccount:
    username: str
    role: str
    riders: tuple[str, ...]


# --- deciding (no I/O) ----------------------------------------------------------------------------------------


def check_request(action: str, name: str, role: str, riders: str) -> None:
    """What can be refused before any Docker or HTTP work: the action, the role, and flags the action ignores."""
    require_known("action", [action], ACTIONS, "invoke user ACTION")
    if action in NAMED_ACTIONS and not name:
        raise SnowstackError(f"invoke user {action} needs a NAME: invoke user {action} NAME")
    if action == "add":
        if not role:
            raise SnowstackError(f"invoke user add needs --role: one of {', '.join(ROLES)}")
        require_known("role", [role], ROLES, "--role")
    elif role or riders:
        raise SnowstackError(f"--role and --riders belong to invoke user add, not {action}")
    if riders and role != "coach":
        raise SnowstackError("--riders is for --role coach: the riders a coach follows")


def plan_new_account(name: str, role: str, riders: str, accounts: Sequence[Account], invoke: str = "invoke") -> NewAccount:
    """The account to create, its riders checked against the rider accounts that exist."""
    if any(account.username == name for account in accounts):
        raise SnowstackError(f"user {name!r} exists already: `{invoke} user reset {name}` gives it a new password")
    wanted = [rider.strip() for rider in riders.split(",") if rider.strip()]
    known = [account.username for account in accounts if account.role == "rider"]
    if wanted and not known:
        raise SnowstackError(f"there are no rider accounts yet: add them first (`{invoke} user add NAME --role rider`)")
    return NewAccount(name, role, tuple(require_known("rider", wanted, known, "--riders")))


def find_account(name: str, accounts: Sequence[Account]) -> Account:
    """The account called `name`; else one line listing the usernames there are."""
    require_known("user", [name], [account.username for account in accounts], "NAME")
    return next(account for account in accounts if account.username == name)


def with_env_value(text: str, key: str, value: str) -> str:
    """A `.env` text with `key` set to `value` (its line replaced in place, or appended)."""
    line = re.compile(rf"^(?:export\s+)?{re.escape(key)}\s*=.*$", re.MULTILINE)
    if line.search(text):
        return line.sub(lambda _: f"{key}={value}", text, count=1)
    return text + ("" if text.endswith("\n") or not text else "\n") + f"{key}={value}\n"


def accounts_table(accounts: Sequence[Account]) -> Table:
    table = Table(title="users", title_justify="left")
    for column in ("username", "role", "riders", "id"):
        table.add_column(column)
    for account in sorted(accounts, key=lambda a: (ROLES.index(a.role) if a.role in ROLES else len(ROLES), a.username)):
        table.add_row(account.username, account.role, ", ".join(account.riders), account.id)
    table.caption = f"{len(accounts)} account(s)"
    return table


# --- talking to the API ---------------------------------------------------------------------------------------


def list_accounts(client: ApiClient) -> list[Account]:
    items = client.call("GET", "/api/users", what="listing the users").json()["items"]
    return [Account.from_json(user) for user in items]


def add_account(client: ApiClient, new: NewAccount) -> tuple[Account, str]:
    """Create the account; returns it and the password the API generated (shown once)."""
    body: dict[str, Any] = {"username": new.username, "role": new.role}
    if new.riders:
        body["riders"] = list(new.riders)
    created = client.call("POST", "/api/users", json=body, expect=201, what=f"adding {new.username}").json()
    return Account.from_json(created["user"]), str(created["password"])


def reset_password(client: ApiClient, account: Account) -> str:
    """A new generated password for the account; the API ends its sessions."""
    answer = client.call("POST", f"/api/users/{account.id}/password", json={}, what=f"resetting {account.username}'s password")
    return str(answer.json()["password"])


def remove_account(client: ApiClient, account: Account, transfer: bool, invoke: str = "invoke") -> None:
    """Delete the account; with `transfer` its videos go to the signed-in admin (without, the API refuses while it owns any)."""
    try:
        client.call(
            "DELETE",
            f"/api/users/{account.id}",
            params={"videos": "transfer"} if transfer else None,
            expect=204,
            what=f"removing {account.username}",
        )
    except ApiError as error:
        if error.code == "owns_videos":
            admin = (client.user or {}).get("username", DEFAULT_ADMIN)
            raise ApiError(
                f"{account.username} owns videos: `{invoke} user remove {account.username} --transfer` gives them to {admin} first",
                error.status,
                error.code,
            ) from None
        raise


# --- the verb -------------------------------------------------------------------------------------------------


def admin_session(project: ComposeStack) -> ApiClient:
    """Signed in as the project's first admin, on the API's published port."""
    invoke = invoke_command(project.project)
    api = project.stack.service_with_role("api")
    url = project.url(api)
    if not url:
        raise SnowstackError(f"{api} publishes no port: is the stack up? (`{invoke} ps`)")
    try:
        return sign_in_as_admin(url, project.env, shown_path(project), invoke)
    except NoSignInError as error:
        raise SnowstackError(f"{error}: rebuild it (`{invoke} up`)") from None


def shown_path(project: ComposeStack) -> Path:
    """The project's `.env` as a user finds it: relative to the checkout when it is inside it."""
    try:
        return project.env_file.resolve().relative_to(project.stack.root.resolve())
    except ValueError:
        return project.env_file


def sign_in_facts(project: ComposeStack, frontend_url: str | None) -> dict[str, Any]:
    """How to sign in to the web app (printed by `invoke up`): its URL, the admin's name, where the password is, and
    whether sign-in is turned off (AUTH_DISABLED, loopback only)."""
    env, env_file = project.env, shown_path(project)
    return {
        "url": frontend_url or "",
        "username": env.get("ADMIN_USERNAME") or DEFAULT_ADMIN,
        "password": f"ADMIN_PASSWORD in {env_file}",
        "authDisabled": env.get("AUTH_DISABLED", "").strip().lower() in ("true", "1", "yes"),  # what the API reads as true
        "envFile": str(env_file),
    }


def sign_in_line(facts: Mapping[str, Any]) -> str:
    """`invoke up`'s last line (rich markup)."""
    if facts["authDisabled"]:
        return f"[yellow]sign-in is off[/] (AUTH_DISABLED in {facts['envFile']}): {facts['url']} opens as a local admin"
    return f"[bold]sign in:[/] {facts['url']} as [bold]{facts['username']}[/], password: {facts['password']}"


def user(action: str, name: str = "", *, role: str = "", riders: str = "", transfer: bool = False, as_json: bool = False) -> Any:
    """The user task (ACTION, NAME): checks the request, signs in as the admin, acts and reports; returns what it printed."""
    from .workflows import compose_stack

    check_request(action, name, role, riders)
    project = compose_stack()
    invoke = invoke_command(project.project)
    client = admin_session(project)
    accounts = list_accounts(client)
    result: Any
    if action == "list":
        result = accounts
        print_json(accounts) if as_json else console.print(accounts_table(accounts))
        return result
    if action == "add":
        account, password = add_account(client, plan_new_account(name, role, riders, accounts, invoke))
        result = {"user": account, "password": password}
        _report(result, as_json, f"added [bold]{account.username}[/] ({account.role}); password (shown once):")
    elif action == "reset":
        account = find_account(name, accounts)
        password = reset_password(client, account)
        result = {"user": account, "password": password}
        note = ""
        if account.username == (client.user or {}).get("username"):
            # The tasks sign in with .env's ADMIN_PASSWORD: keep it the admin's real password.
            write_private(project.env_file, with_env_value(project.env_file.read_text(), "ADMIN_PASSWORD", password))
            note = f" (also written to ADMIN_PASSWORD in {shown_path(project)})"
        _report(result, as_json, f"new password for [bold]{account.username}[/]{note}; every session of theirs ended; shown once:")
    else:
        account = find_account(name, accounts)
        remove_account(client, account, transfer, invoke)
        result = {"removed": account, "videosTransferredTo": (client.user or {}).get("username") if transfer else None}
        print_json(result) if as_json else console.print(f"removed [bold]{account.username}[/] ({account.role})")
    return result


def _report(result: Mapping[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        print_json(result)
        return
    console.print(text)
    print(result["password"])  # plain, on its own line: easy to copy, no markup
