"""The stack's verbs. Each task is thin: the logic lives in the importable `snowstack` package.

`invoke --list` shows them; `invoke --help TASK` shows every flag. As in invoke's own `invocations`, the tasks live
in namespaces (`stack.*`, `images.*`, `check.*`, `bench.*`, at the end of this file); the verbs users know stay at
the root under their names (`invoke up`, `invoke bootstrap`, `invoke verify`, `invoke bench-rebuild`…). Tunables
(timeouts, deadlines, runs) default from the `snowstack` config (`ns.configure` below), which an `invoke.yaml`
beside this file, `~/.invoke.yaml` or `INVOKE_SNOWSTACK_*` variables override; a flag overrides them all.
"""

from __future__ import annotations

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from snowstack import doctor as doctor_
from snowstack.cli import VerbTask, require_extra, tunable, user_errors
from snowstack.engine import Engine, buildkit_exports
from snowstack.errors import SnowstackError, require_known
from snowstack.report import Status, console, emit_checks, print_json
from snowstack.stack_toml import load_stack
from snowstack.users import NAMED_ACTIONS


@task(help={"json": "print the checks as JSON instead of a table"})
@user_errors
def doctor(c: Context, json: bool = False) -> None:
    """Check every prerequisite (engine, compose v2, buildx, GPU, disk, memory, registry, CA, WSL2)."""
    if emit_checks("doctor", doctor_.evaluate(doctor_.gather()), json) is Status.FAIL:
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


@task(
    help={
        "offline": "build local stand-ins for upstream images from package mirrors (default: when no registry answers)",
        "online": "use the official upstream images even if the registry probe fails",
        "force": "rebuild even when an image is up to date",
        "no_cache": "rebuild without BuildKit's layer cache (implies --force)",
        "only": "build only this base image (and its missing parents)",
        "gpu": "also build the CUDA pose base (default: only where an NVIDIA runtime exists)",
        "skip_doctor": "do not run doctor first",
        "skip_lint": "do not run lint first",
        "json": "print the build records as JSON",
    },
    iterable=["only"],
)
@user_errors
def bootstrap(
    c: Context,
    offline: bool = False,
    online: bool = False,
    force: bool = False,
    no_cache: bool = False,
    only: list[str] | None = None,
    gpu: bool = False,
    skip_doctor: bool = False,
    skip_lint: bool = False,
    json: bool = False,
) -> None:
    """Check prerequisites, then build the base images in dependency order (skipping unchanged ones)."""
    from snowstack import workflows

    workflows.bootstrap(
        offline=offline,
        online=online,
        force=force or no_cache,
        no_cache=no_cache,
        only=only or None,
        gpu=gpu,
        skip_doctor=skip_doctor,
        skip_lint=skip_lint,
        as_json=json,
    )


@task(help={"json": "print the checks as JSON instead of a table"})
@user_errors
def lint(c: Context, json: bool = False) -> None:
    """Statically validate Dockerfiles (hadolint, stages, pins), build contexts, the compose file and setup scripts."""
    from snowstack import lint as lint_

    if emit_checks("lint", lint_.lint(), json) is Status.FAIL:
        raise Exit(code=1)


@task(
    help={
        "dev": "dev mode: then run `invoke watch` for source sync with hot reload",
        "timeout": "seconds to wait for every service to be healthy (default: config snowstack.up.timeout, 300)",
        "offline": "use the offline stand-ins even if a registry answers",
        "online": "use the official images even if the registry probe fails",
        "skip_lint": "do not run lint before bootstrapping",
        "workers": "pose worker containers (default: one per CPU core; one on the GPU profile)",
        "json": "print the result as JSON",
    }
)
@user_errors
def up(
    c: Context,
    dev: bool = False,
    timeout: int = 0,
    offline: bool = False,
    online: bool = False,
    skip_lint: bool = False,
    workers: int = 0,
    json: bool = False,
) -> None:
    """Bootstrap if needed, build the services, start the stack and wait until every service is healthy."""
    from snowstack import workflows

    if workers < 0:
        raise SnowstackError(f"--workers {workers}: give 1 or more (leave it out for one per CPU core)")
    seconds = int(tunable(c, "up.timeout", timeout, "--timeout"))
    workflows.up(dev=dev, timeout=seconds, offline=offline, online=online, skip_lint=skip_lint, workers=workers or None, as_json=json)


@task(
    help={
        "volumes": "also remove the data volumes (MongoDB, uploads, model cache)",
        "images": "also untag the service images this project built (layers other tags use stay)",
    }
)
@user_errors
def down(c: Context, volumes: bool = False, images: bool = False) -> None:
    """Stop and remove the stack's containers and network (and with --volumes its data)."""
    from snowstack.compose import compose_stack

    project = compose_stack()
    project.down(volumes=volumes)
    for image in project.remove_images() if images else []:
        console.print(f"[dim]untagged {image}[/]")


@task(help={"json": "print the states as JSON"})
@user_errors
def ps(c: Context, json: bool = False) -> None:
    """Show each service's state, health and URL."""
    from snowstack.compose import compose_stack, states_table

    states = compose_stack().states()
    print_json(states) if json else console.print(states_table(states, "ps"))


@task(help={"service": "one service (default: all)", "tail": "lines per service"})
@user_errors
def logs(c: Context, service: str = "", tail: int = 100) -> None:
    """Print the last log lines of one service or of all."""
    from snowstack.compose import compose_stack

    names = require_known("service", [service], load_stack().services, "-s/--service") if service else []
    project = compose_stack()
    for name in names or project.stack.services:
        for line in project.logs(name, tail):
            print(line)


@task(
    help={
        "deadline": "seconds each check may retry before it counts as failed (default: config snowstack.verify.deadline, 30)",
        "only": "check only this service (repeatable)",
        "swarm": "check the Swarm deployment `invoke deploy` made instead of the compose stack",
        "json": "print the checks as JSON",
    },
    iterable=["only"],
)
@user_errors
def verify(c: Context, deadline: float = 0.0, only: list[str] | None = None, swarm: bool = False, json: bool = False) -> None:
    """Deep functional checks of every service; exit 1 if any fails."""
    from snowstack import workflows

    seconds = tunable(c, "verify.deadline", deadline, "--deadline")
    if swarm:
        from snowstack.swarm import deploy

        checks = deploy.run_verify(deadline=seconds, only=only or None, as_json=json)
    else:
        checks = workflows.verify(deadline=seconds, only=only or None, as_json=json)
    if any(check.status is Status.FAIL for check in checks):
        raise Exit(code=1)


@task(
    help={
        "runs": "runs per row (min / median / max over them; default: config snowstack.bench.runs, 5)",
        "service": "bench only this service (repeatable; default: every service we build)",
        "only": "only this row (repeatable): code_change_rebuild, code_change_healthy, dev_sync, dependency_change_rebuild, "
        "cached_build, pose_ready, base_build",
        "compare": "show each median's change against the previous run in .snowstack/bench.jsonl",
        "plot": "write a PNG of the history per row into .snowstack/plots/",
        "json": "print the rows and the history record as JSON",
    },
    iterable=["service", "only"],
)
@user_errors
def bench_rebuild(
    c: Context,
    runs: int = 0,
    service: list[str] | None = None,
    only: list[str] | None = None,
    compare: bool = False,
    plot: bool = False,
    json: bool = False,
) -> None:
    """Time code change → rebuilt / healthy / served, dependency change, cached build, pose ready, base builds; exit 1 on any FAIL."""
    from snowstack.bench import BenchOptions, bench_changes, bench_stack, bench_table

    if plot:
        require_extra("matplotlib", "plot", "--plot")  # before the runs, not after them
    options = BenchOptions(runs=int(tunable(c, "bench.runs", runs, "--runs")), services=tuple(service or ()), only=tuple(only or ()))
    with console.status("bench") as status:
        outcome = bench_stack(options, plot=plot, progress=lambda text: status.update(text.replace("[", r"\[")))
    compared = bench_changes(outcome) if compare else None
    if json:
        print_json({"record": outcome.record, "changes": compared, "plots": outcome.plots, "failed": outcome.failed})
    else:
        console.print(bench_table(outcome.rows, compared))
        for path in outcome.plots:
            console.print(f"[dim]plot:[/] {path}")
    if outcome.failed:
        raise Exit(code=1)


@task(
    klass=VerbTask,
    positional=["action", "name"],
    named=NAMED_ACTIONS,
    help={
        "action": "add, list, reset or remove",
        "name": "the account's username (add, reset, remove)",
        "role": "add: rider, coach or admin",
        "riders": "add --role coach: the riders the coach follows, comma-separated (a,b)",
        "transfer": "remove: give the user's videos to the admin (without it, a user who owns videos is not removed)",
        "json": "print the result as JSON",
    },
)
@user_errors
def user(c: Context, action: str, name: str = "", role: str = "", riders: str = "", transfer: bool = False, json: bool = False) -> None:
    """Web app accounts, as the .env admin: user add NAME --role R [--riders a,b] | list | reset NAME | remove NAME [--transfer]."""
    from snowstack.users import user as run

    run(action, name, role=role, riders=riders, transfer=transfer, as_json=json)


@task(
    help={
        "workers": "the N of the 1-vs-N throughput row and of the other rows (default: the CPU cores, at least 2)",
        "json": "print the rows and the history record as JSON",
    }
)
@user_errors
def bench_analysis(c: Context, workers: int = 0, json: bool = False) -> None:
    """Time video analysis on the running stack: 1 vs N workers, a 60 s clip, first skeleton, three at once; exit 1 on any FAIL."""
    from snowstack.bench.analysis import analysis_table
    from snowstack.bench.analysis import bench_analysis as run

    if workers < 0:
        raise SnowstackError(f"--workers {workers}: give 1 or more (leave it out for one per CPU core)")
    with console.status("bench-analysis") as status:
        outcome, record = run(workers or None, progress=lambda text: status.update(text.replace("[", r"\[")))
    print_json(record) if json else console.print(analysis_table(outcome))
    if outcome.failed:
        raise Exit(code=1)


@task(
    help={
        "replicas": "pose workers (the scaled services) to run (default: the compose file's POSE_WORKERS)",
        "down": "remove the stack from the Swarm instead (volumes stay on their nodes)",
        "host": "the Swarm manager's engine, DOCKER_HOST form (tcp://HOST:2375, ssh://USER@HOST; default: DOCKER_HOST)",
        "registry": "HOST:PORT of the registry every node pulls from (needed with more than one node)",
        "push_registry": "HOST:PORT this machine pushes to, where it reaches the registry under another name",
        "timeout": "seconds until every service has its replicas running and healthy (default: config snowstack.deploy.timeout, 600)",
        "json": "print the deployment as JSON",
    }
)
@user_errors
def deploy(
    c: Context,
    replicas: int = -1,
    down: bool = False,
    host: str = "",
    registry: str = "",
    push_registry: str = "",
    timeout: int = 0,
    json: bool = False,
) -> None:
    """Deploy the stack on Docker Swarm from the same compose files (README: Deploy on Docker Swarm); --down removes it."""
    from snowstack.swarm.deploy import run_deploy, run_down

    if down:
        run_down(host=host or None)
        return
    if replicas == 0 or replicas < -1:
        raise SnowstackError(f"--replicas {replicas}: give 1 or more (leave it out for the compose file's POSE_WORKERS)")
    run_deploy(
        replicas=None if replicas == -1 else replicas,
        host=host or None,
        registry=registry or None,
        push_registry=push_registry or None,
        timeout_s=int(tunable(c, "deploy.timeout", timeout, "--timeout")),
        as_json=json,
    )


@task(help={"timeout": "seconds to wait for every service to be healthy (default: config snowstack.up.timeout, 300)"})
@user_errors
def watch(c: Context, timeout: int = 0) -> None:
    """Dev mode: bring the stack up with the dev overrides, then sync source changes into it (Ctrl-C stops)."""
    from snowstack import workflows

    raise Exit(code=workflows.watch(timeout=int(tunable(c, "up.timeout", timeout, "--timeout"))))


# --- the namespaces (invoke's own `invocations` style) ---------------------------------------------------------

# Defaults of the tunables; `invoke.yaml` (snowstack: {up: {timeout: 600}}), ~/.invoke.yaml or
# INVOKE_SNOWSTACK_UP_TIMEOUT=600 override them, a flag overrides those.
TUNABLES = {
    "up": {"timeout": 300},  # seconds `up` and `watch` wait for every service to be healthy
    "verify": {"deadline": 30.0},  # seconds each verify check may retry
    "bench": {"runs": 5},  # runs per bench-rebuild row
    "deploy": {"timeout": 600},  # seconds `deploy` waits for the Swarm services
}

stack_tasks = Collection("stack", up, down, ps, logs, watch)  # the running compose stack
image_tasks = Collection("images", bootstrap, buildkit)  # base images and BuildKit
check_tasks = Collection("check", doctor, lint, verify)  # prerequisites, static checks, functional checks
bench_tasks = Collection("bench")  # timings against stack.toml's targets
bench_tasks.add_task(bench_rebuild, name="rebuild")
bench_tasks.add_task(bench_analysis, name="analysis")

# The verbs users know stay at the root under the names the README, Makefile, scripts and tests use.
ns = Collection(
    *(doctor, buildkit, bootstrap, lint, up, down, ps, logs, verify, bench_rebuild, bench_analysis, watch, user, deploy),
    *(stack_tasks, image_tasks, check_tasks, bench_tasks),
)
ns.configure({"snowstack": TUNABLES})
