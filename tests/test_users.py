"""`invoke user add|list|reset|remove` and `invoke up`'s sign-in line, for real: the tasks through the real CLI
against a real stack (the suite's isolated project), the accounts checked by signing in to the real API.

The checks of the command line itself (the VerbTask parser, names and roles refused before any Docker work, the
pure planning) run without a stack. The stack tests run in file order and share one stack and its accounts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from invoke.collection import Collection
from invoke.exceptions import ParseError
from invoke.parser import Parser

import tasks
from snowstack.apiclient import ApiClient, ApiError
from snowstack.compose import ComposeStack
from snowstack.errors import SnowstackError, UnknownNameError
from snowstack.project import ComposeProject, invoke_command
from snowstack.project_files import ensure_env_file, read_env_file, write_secret_files
from snowstack.stack_toml import load_stack
from snowstack.users import Account, check_request, find_account, plan_new_account, sign_in_line, with_env_value
from snowstack.workflows import compose_stack

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT / "snowstack/data/rider.webm"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fix_lines = load("test_fix_lines")  # its `parse`: a command line as invoke's own parser reads it
guard = load("user_stack_guard")


def invoke(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a refused command prints (exit 1, no traceback)."""
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stdout + result.stderr, result.stderr
    return lines[0].removeprefix("error: ")


# --- the command line, without a stack ------------------------------------------------------------------------


def parsed(command: str) -> dict[str, Any]:
    contexts = Parser(contexts=Collection.from_module(tasks).to_contexts()).parse_argv(command.split()[1:])
    return dict(contexts[0].as_kwargs)


def test_user_takes_a_name_only_where_the_action_needs_one() -> None:
    assert parsed("invoke user list") == {"action": "list", "name": "", "role": "", "riders": "", "transfer": False, "json": False}
    assert parsed("invoke user list --json")["json"] is True
    assert parsed("invoke user add alice --role rider") == {
        "action": "add",
        "name": "alice",
        "role": "rider",
        "riders": "",
        "transfer": False,
        "json": False,
    }
    assert parsed("invoke user add carol --role coach --riders alice,bob")["riders"] == "alice,bob"
    assert parsed("invoke user remove alice --transfer")["transfer"] is True
    assert parsed("invoke user reset alice")["name"] == "alice"
    with pytest.raises(ParseError, match="'user' did not receive required positional arguments: 'name'"):
        parsed("invoke user reset")
    with pytest.raises(ParseError, match="No idea what 'extra' is"):
        parsed("invoke user list extra")
    for command in ("invoke user add alice --role rider", "invoke user list --json", "invoke user remove alice --transfer"):
        fix_lines.parse(command)


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["user", "frob"], "unknown action 'frob' for invoke user ACTION: use one of add, list, reset, remove"),
        (["user", "add", "dave", "--role", "boss"], "unknown role 'boss' for --role: use one of rider, coach, admin"),
        (["user", "add", "dave"], "invoke user add needs --role: one of rider, coach, admin"),
        (["user", "add", "dave", "--role", "rider", "--riders", "a"], "--riders is for --role coach: the riders a coach follows"),
        (["user", "reset", "dave", "--role", "rider"], "--role and --riders belong to invoke user add, not reset"),
    ],
)
def test_a_bad_request_is_one_line_before_any_docker_work(argv: list[str], line: str) -> None:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent.sock"}  # proves no engine is asked
    result = subprocess.run([sys.executable, "-m", "invoke", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert one_error_line(result) == line


ACCOUNTS = [Account("1", "admin", "admin"), Account("2", "alice", "rider"), Account("3", "bob", "rider"), Account("4", "carol", "coach")]


def test_riders_and_names_are_checked_against_the_accounts_there_are() -> None:
    assert plan_new_account("dave", "coach", "alice, bob", ACCOUNTS).riders == ("alice", "bob")
    with pytest.raises(UnknownNameError, match=r"^unknown rider 'carol' for --riders: use one of alice, bob$"):
        plan_new_account("dave", "coach", "alice,carol", ACCOUNTS)  # a coach is not a rider
    with pytest.raises(SnowstackError, match=r"^there are no rider accounts yet: add them first \(`invoke user add NAME --role rider`\)$"):
        plan_new_account("dave", "coach", "alice", ACCOUNTS[:1])
    with pytest.raises(SnowstackError, match=r"^user 'alice' exists already: `X=y invoke user reset alice` gives it a new password$"):
        plan_new_account("alice", "rider", "", ACCOUNTS, "X=y invoke")
    with pytest.raises(UnknownNameError, match=r"^unknown user 'zed' for NAME: use one of admin, alice, bob, carol$"):
        find_account("zed", ACCOUNTS)
    assert find_account("bob", ACCOUNTS).id == "3"
    check_request("list", "", "", "")
    fix_lines.parse("invoke user add NAME --role rider")
    fix_lines.parse("X=y invoke user reset alice")


def test_the_env_admin_password_is_replaced_in_place() -> None:
    text = "# comment\nADMIN_USERNAME=admin\nADMIN_PASSWORD=old\nOTHER=1\n"
    assert with_env_value(text, "ADMIN_PASSWORD", "new") == "# comment\nADMIN_USERNAME=admin\nADMIN_PASSWORD=new\nOTHER=1\n"
    assert with_env_value("export ADMIN_PASSWORD = old", "ADMIN_PASSWORD", "n3w") == "ADMIN_PASSWORD=n3w"
    assert with_env_value("A=1", "ADMIN_PASSWORD", "x") == "A=1\nADMIN_PASSWORD=x\n"


def test_an_env_file_from_before_accounts_gains_the_first_admin_and_its_secret_file(tmp_path: Path) -> None:
    project = ComposeProject("h16-test", isolated=True, state_dir=tmp_path)
    old = "MONGO_ROOT_USERNAME=me\nMONGO_ROOT_PASSWORD=kept\n"
    (tmp_path / ".env").write_text(old)
    path, _ = ensure_env_file(load_stack(), project)
    env = read_env_file(path)
    assert path.read_text().startswith(old) and env["MONGO_ROOT_PASSWORD"] == "kept"
    assert env["ADMIN_USERNAME"] == "admin" and len(env["ADMIN_PASSWORD"]) >= 24 and "AUTH_DISABLED" not in env
    assert (write_secret_files(project, env) / "admin_password").read_text() == env["ADMIN_PASSWORD"]
    ensure_env_file(load_stack(), project)
    assert read_env_file(path)["ADMIN_PASSWORD"] == env["ADMIN_PASSWORD"]  # generated once, then kept


def test_up_says_how_to_sign_in_or_that_sign_in_is_off() -> None:
    facts = {"url": "http://127.0.0.1:5173", "username": "admin", "password": "ADMIN_PASSWORD in backend/.env", "envFile": "backend/.env"}
    assert sign_in_line({**facts, "authDisabled": False}) == (
        "[bold]sign in:[/] http://127.0.0.1:5173 as [bold]admin[/], password: ADMIN_PASSWORD in backend/.env"
    )
    assert sign_in_line({**facts, "authDisabled": True}) == (
        "[yellow]sign-in is off[/] (AUTH_DISABLED in backend/.env): http://127.0.0.1:5173 opens as a local admin"
    )


# --- against the real stack -----------------------------------------------------------------------------------

PASSWORDS: dict[str, str] = {}  # what `user add` / `user reset` showed, by username


@pytest.fixture(scope="module")
def stack(engine: object) -> Iterator[str]:
    """A fresh stack of the suite's project; yields what `invoke up` printed."""
    invoke("down", "--volumes")  # no accounts left from an earlier run
    result = invoke("up", "--timeout", "600", timeout=1800)
    assert result.returncode == 0, f"invoke up failed\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    yield result.stdout
    invoke("down", "--volumes")


def project() -> ComposeStack:
    return compose_stack()


def api() -> str:
    return project().urls()["backend-api"]


def user_json(*args: str) -> Any:
    result = invoke("user", *args, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.mark.engine
@pytest.mark.stack
def test_up_says_how_to_sign_in(stack: str) -> None:
    """On one line (the JSON form, `signIn`, is checked by test_stack_e2e.py)."""
    env_file = project().env_file.relative_to(ROOT)
    frontend = project().urls()["frontend"]
    assert f"sign in: {frontend} as admin, password: ADMIN_PASSWORD in {env_file}\n" in stack


@pytest.mark.engine
@pytest.mark.stack
def test_the_first_admin_is_the_only_account_and_signs_in_with_the_env_password(stack: str) -> None:
    accounts = user_json("list")
    assert [(a["username"], a["role"], a["riders"]) for a in accounts] == [("admin", "admin", [])]
    table = invoke("user", "list")
    assert table.returncode == 0 and "admin" in table.stdout and "1 account(s)" in table.stdout, table.stdout
    client = ApiClient.sign_in(api(), "admin", project().env["ADMIN_PASSWORD"])
    assert client.user and client.user["role"] == "admin"


@pytest.mark.engine
@pytest.mark.stack
def test_added_accounts_sign_in_with_the_password_shown_once(stack: str) -> None:
    for name in ("alice", "bob"):
        added = user_json("add", name, "--role", "rider")
        assert added["user"]["username"] == name and added["user"]["role"] == "rider" and len(added["password"]) >= 12
        PASSWORDS[name] = added["password"]
    coach = invoke("user", "add", "carol", "--role", "coach", "--riders", "alice,bob")
    assert coach.returncode == 0, coach.stderr
    PASSWORDS["carol"] = coach.stdout.strip().splitlines()[-1]  # the password, alone on the last line
    for name, password in PASSWORDS.items():
        client = ApiClient.sign_in(api(), name, password)
        assert client.user and client.user["username"] == name
    listed = {a["username"]: a for a in user_json("list")}
    assert listed["carol"]["role"] == "coach" and sorted(listed["carol"]["riders"]) == ["alice", "bob"]
    assert not any(password in invoke("user", "list", "--json").stdout for password in PASSWORDS.values())


@pytest.mark.engine
@pytest.mark.stack
@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["add", "dave", "--role", "coach", "--riders", "alice,zed"], "unknown rider 'zed' for --riders: use one of alice, bob"),
        (["add", "alice", "--role", "rider"], "user 'alice' exists already: `{invoke} user reset alice` gives it a new password"),
        (["reset", "zed"], "unknown user 'zed' for NAME: use one of admin, alice, bob, carol"),
        (["remove", "zed"], "unknown user 'zed' for NAME: use one of admin, alice, bob, carol"),
        (["add", "Not Valid!", "--role", "rider"], "adding Not Valid!: "),
        (["remove", "admin"], "removing admin: "),
    ],
)
def test_bad_input_against_the_real_accounts_is_one_line(stack: str, argv: list[str], line: str) -> None:
    got = one_error_line(invoke("user", *argv))
    expected = line.format(invoke=invoke_command(project().project))
    assert got.startswith(expected), got
    if argv[0] == "add" and argv[1] == "Not Valid!":
        assert "(HTTP 400" in got
    if argv[:2] == ["remove", "admin"]:
        assert "(HTTP 409 last_admin)" in got


@pytest.mark.engine
@pytest.mark.stack
def test_reset_ends_the_users_sessions_and_only_the_new_password_signs_in(stack: str) -> None:
    before = ApiClient.sign_in(api(), "alice", PASSWORDS["alice"])
    reset = user_json("reset", "alice")
    assert reset["password"] != PASSWORDS["alice"]
    assert before.get("/api/session").status_code == 401
    with pytest.raises(ApiError, match=r"sign-in as alice failed: .*\(HTTP 401 invalid_credentials\)"):
        ApiClient.sign_in(api(), "alice", PASSWORDS["alice"])
    PASSWORDS["alice"] = reset["password"]
    assert ApiClient.sign_in(api(), "alice", PASSWORDS["alice"]).user is not None


@pytest.mark.engine
@pytest.mark.stack
def test_a_user_who_owns_videos_is_removed_only_with_transfer_and_the_admin_gets_them(stack: str) -> None:
    alice = ApiClient.sign_in(api(), "alice", PASSWORDS["alice"])
    with CLIP.open("rb") as clip:
        created = alice.post("/api/videos", files={"video": ("alice.webm", clip, "video/webm")}, data={"role": "rider"}, timeout=60)
    assert created.status_code == 202, created.text
    video_id = created.json()["videoId"]
    refused = one_error_line(invoke("user", "remove", "alice"))
    suggested = f"{invoke_command(project().project)} user remove alice --transfer"
    assert refused == f"alice owns videos: `{suggested}` gives them to admin first"
    fix_lines.parse(suggested)
    removed = invoke("user", "remove", "alice", "--transfer")  # as suggested (the project prefix is this process's env)
    assert removed.returncode == 0 and "removed alice (rider)" in removed.stdout, removed.stderr
    admin = ApiClient.sign_in(api(), "admin", project().env["ADMIN_PASSWORD"])
    video = admin.call("GET", f"/api/videos/{video_id}").json()
    assert video["owner"]["username"] == "admin"
    with pytest.raises(ApiError, match="HTTP 401 invalid_credentials"):
        ApiClient.sign_in(api(), "alice", PASSWORDS["alice"])
    # The user-stack guard reads a stack with accounts signed in as its admin, and sees every video.
    assert video_id in guard.videos(guard.user_api(api(), project().env_file))


@pytest.mark.engine
@pytest.mark.stack
def test_a_wrong_admin_password_in_env_is_one_line_naming_the_file(stack: str) -> None:
    env_file = project().env_file
    original = env_file.read_text()
    env_file.write_text(with_env_value(original, "ADMIN_PASSWORD", "not-the-password"))
    try:
        line = one_error_line(invoke("user", "list"))
    finally:
        env_file.write_text(original)
    assert line.startswith("sign-in as admin failed: ") and "(HTTP 401 invalid_credentials)" in line, line
    assert line.endswith(f"; check ADMIN_PASSWORD in {env_file.relative_to(ROOT)}"), line


@pytest.mark.engine
@pytest.mark.stack
def test_resetting_the_env_admin_writes_its_new_password_to_env(stack: str) -> None:
    old = project().env["ADMIN_PASSWORD"]
    reset = invoke("user", "reset", "admin")
    assert reset.returncode == 0, reset.stderr
    new = project().env["ADMIN_PASSWORD"]
    assert new != old and reset.stdout.strip().splitlines()[-1] == new
    assert "also written to ADMIN_PASSWORD" in " ".join(reset.stdout.split())
    assert sorted(a["username"] for a in user_json("list")) == ["admin", "bob", "carol"]  # signed in with the new one
