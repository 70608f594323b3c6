"""Every command a task tells the user to run parses as written with invoke's own parser, and every name a
task takes on the command line is checked: an unknown one is one line listing the valid ones, exit 1."""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from invoke.collection import Collection
from invoke.parser import Parser, ParserContext
from invoke.program import Program

import tasks
from snowstack.errors import UnknownNameError, require_known
from snowstack.project import ComposeProject, invoke_command
from snowstack.report import Status
from snowstack.stack_toml import load_stack
from snowstack.verify import VerifyFailure, VerifyTarget, run_check

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "tasks.py", *sorted((ROOT / "snowstack").glob("*.py"))]
# A command in a message is written in backticks, or is the whole fix line, or is a shell substitution.
QUOTED = re.compile(
    r"`((?:\w+=\S+ )?invoke [^`]*)`"  # in backticks
    r"|^((?:\w+=\S+ )?invoke [a-z][\w-]*(?: -{1,2}[\w-]+(?: [\w.-]+)?)*)$"  # the whole fix line
    r"|\$\((invoke [^)]*)\)"  # eval "$(invoke …)"
)
PLACEHOLDER = "mongodb"  # what an f-string's {…} stands for: a real service name, valid wherever a name goes


def strings_in(path: Path) -> Iterator[tuple[int, str]]:
    """Every string literal of a module, f-strings with each placeholder replaced by a service name."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else PLACEHOLDER for v in node.values]
            yield node.lineno, "".join(str(p) for p in parts)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def commands_in(text: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in QUOTED.finditer(text)]


def parse(command: str) -> None:
    """Parse a command line as invoke would (the env prefix is the shell's business)."""
    words = [word for word in shlex.split(command) if not re.match(r"^\w+=", word)]
    assert words[0] == "invoke", command
    core = ParserContext(args=Program().core_args())  # --list, --help TASK, …
    Parser(initial=core, contexts=Collection.from_module(tasks).to_contexts()).parse_argv(words[1:])


def test_the_scan_finds_commands_and_the_parser_refuses_a_wrong_flag() -> None:
    assert commands_in("run `invoke up --dev` first") == ["invoke up --dev"]
    assert commands_in("SNOWSTACK_PROJECT=t invoke logs -s api") == ["SNOWSTACK_PROJECT=t invoke logs -s api"]
    assert commands_in('eval "$(invoke buildkit)"') == ["invoke buildkit"]
    assert commands_in("invoke verify") == ["invoke verify"]
    with pytest.raises(Exception, match="No idea what"):
        parse("invoke logs mongodb")  # the fix line verify used to print


def test_every_invoke_command_written_in_the_code_parses() -> None:
    found = [(path, line, command) for path in SOURCES for line, text in strings_in(path) for command in commands_in(text)]
    assert len(found) >= 8, found  # the scan really sees the messages
    for path, line, command in found:
        try:
            parse(command)
        except Exception as error:  # the parser's own error is the message
            pytest.fail(f"{path.name}:{line}: `{command}` does not parse: {error}")


@pytest.mark.parametrize("isolated", [False, True])
def test_verify_fix_line_runs_as_written(isolated: bool) -> None:
    project = ComposeProject("snowboarding-test-x" if isolated else "snowboarding", isolated, ROOT)

    def broken(target: VerifyTarget, service: str) -> str:
        raise VerifyFailure("down")

    target = VerifyTarget(urls={}, env={}, expect_gpu=False, invoke=invoke_command(project))
    check = run_check("mongo-express", broken, target, deadline_s=0)
    assert check.status is Status.FAIL and check.fix
    assert check.fix.startswith("SNOWSTACK_PROJECT=snowboarding-test-x invoke" if isolated else "invoke logs")
    parse(check.fix)


def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as raised:
        require_known("service", ["mongodb", "typo"], ["mongodb", "frontend"], "--only")
    assert str(raised.value) == "unknown service 'typo' for --only: use one of mongodb, frontend"
    assert require_known("service", [], ["x"], "--only") == []
    with pytest.raises(UnknownNameError, match="use one of pose-service, pose-worker, backend-api, frontend, mongodb, mongo-express"):
        load_stack().service("nope")


@pytest.mark.parametrize(
    ("argv", "listing"),
    [
        (["verify", "--only", "no-such-service"], "--only: use one of pose-service, pose-worker, backend-api"),
        (["bench-rebuild", "--service", "typo"], "--service: use one of pose-service, backend-api, frontend"),
        (["bench-rebuild", "--only", "typo"], "--only: use one of code_change_rebuild"),
        (["logs", "-s", "typo"], "-s/--service: use one of pose-service"),
        (["bootstrap", "--only", "typo", "--skip-lint"], "--only: use one of base-node"),
    ],
)
def test_an_unknown_name_on_the_command_line_is_one_line_and_exit_1(argv: list[str], listing: str) -> None:
    """Through the real CLI: checked before any Docker work, so these run without an engine."""
    result = subprocess.run([sys.executable, "-m", "invoke", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "unknown" in lines[0] and listing in lines[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr
