"""The stack's verbs. Each task is thin: the logic lives in the importable `snowstack` package.

`invoke --list` shows them; `invoke --help TASK` shows every flag.
"""

from __future__ import annotations

from invoke import Context, task
from invoke.exceptions import Exit

from snowstack import doctor as doctor_
from snowstack.cli import user_errors
from snowstack.engine import Engine, buildkit_exports
from snowstack.report import Status, checks_table, console, print_json, worst


@task(help={"json": "print the checks as JSON instead of a table"})
@user_errors
def doctor(c: Context, json: bool = False) -> None:
    """Check every prerequisite (engine, compose v2, buildx, GPU, disk, memory, registry, CA, WSL2)."""
    checks = doctor_.evaluate(doctor_.gather())
    if json:
        print_json({"checks": checks, "status": worst(checks)})
    else:
        console.print(checks_table("doctor", checks))
    if worst(checks) is Status.FAIL:
        raise Exit(code=1)


@task
@user_errors
def buildkit(c: Context) -> None:
    """Print `export` lines that turn BuildKit on for your shell: eval "$(invoke buildkit)"."""
    for line in buildkit_exports():
        print(line)
    buildx = Engine().facts().buildx_version
    where = "present" if buildx else "MISSING: install the buildx plugin"
    # A comment line, so `eval` ignores it.
    print(f"# buildx {'.'.join(map(str, buildx)) if buildx else ''} {where}".replace("  ", " "))


@task(help={"json": "print the checks as JSON instead of a table"})
@user_errors
def lint(c: Context, json: bool = False) -> None:
    """Statically validate Dockerfiles (hadolint, stages, pins), build contexts, the compose file and setup scripts."""
    from snowstack import lint as lint_

    checks = lint_.lint()
    if json:
        print_json({"checks": checks, "status": worst(checks)})
    else:
        console.print(checks_table("lint", checks))
    if worst(checks) is Status.FAIL:
        raise Exit(code=1)
