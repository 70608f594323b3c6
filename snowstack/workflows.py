"""The user verbs end to end (what tasks.py calls): each gathers facts, decides, acts and reports."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.table import Table

from . import doctor as doctor_
from .compose import ComposeStack, ServiceState, compose_env, states_table
from .compose import compose_stack as compose_stack  # its home is compose.py; tasks and tests import it from here too
from .engine import Engine
from .errors import SnowstackError, require_known
from .images import Bootstrapper, BootstrapPlan, BuildRecord, npm_registry, plan_bootstrap, run_bootstrap
from .project import Profile, default_workers, invoke_command
from .project_files import record_profile
from .report import BuildProgress, Check, Status, checks_table, console, emit_checks, print_json, worst
from .stack import Stack
from .stack_toml import load_stack
from .users import shown_path, sign_in_facts, sign_in_line


def run_doctor_gate(engine: Engine) -> doctor_.HostFacts:
    """Doctor as bootstrap's first step: any fail stops here with the table."""
    facts = doctor_.gather(engine)
    checks = doctor_.evaluate(facts)
    if worst(checks) is Status.FAIL:
        console.print(checks_table("doctor", checks))
        failed = next(check for check in checks if check.status is Status.FAIL)
        raise SnowstackError(f"doctor: {failed.name}: {failed.detail} — {failed.fix}")
    return facts


def run_lint_gate(stack: Stack) -> None:
    """Lint before building: a failing row stops the build with the rows that failed."""
    from . import lint

    checks = lint.run_lint(stack)
    if worst(checks) is Status.FAIL:
        console.print(checks_table("lint", [c for c in checks if c.status is not Status.OK]))
        raise SnowstackError("lint failed: fix the rows above (`invoke lint` shows every check)")


def bootstrap(
    *,
    offline: bool = False,
    online: bool = False,
    force: bool = False,
    no_cache: bool = False,
    only: Sequence[str] | None = None,
    gpu: bool = False,
    skip_doctor: bool = False,
    skip_lint: bool = False,
    as_json: bool = False,
    stack: Stack | None = None,
    facts: doctor_.HostFacts | None = None,
) -> list[BuildRecord]:
    """Doctor (unless its `facts` are given or skipped), lint, then the plan's images parent-first."""
    if offline and online:
        raise SnowstackError("--offline and --online contradict each other: pass at most one")
    stack = stack or load_stack()
    engine = Engine()
    started = time.perf_counter()
    if facts is None:
        facts = doctor_.gather(engine) if skip_doctor else run_doctor_gate(engine)
    if not skip_lint:
        run_lint_gate(stack)
    use_offline = offline or (not online and not facts.registry_reachable)
    use_gpu = gpu or doctor_.gpu_available(facts)
    # The Node stand-in downloads from the npm registry the host uses; only offline plans need it.
    registry = npm_registry() if use_offline else None
    plan = plan_bootstrap(stack, offline=use_offline, gpu=use_gpu, only=only, registry=registry)
    ca = doctor_.ca_bundle(facts.env)
    if not as_json:
        _announce(plan)
    with BuildProgress() as progress:
        builder = Bootstrapper(stack, engine, ca_bundle=ca[1] if ca else None, force=force, no_cache=no_cache, on_line=progress.line)
        try:
            records = run_bootstrap(builder, plan)
        finally:
            if not as_json and builder.records:
                console.print(bootstrap_table(builder.records, stack, time.perf_counter() - started))
    if as_json:
        print_json({"offline": plan.offline, "gpu": plan.gpu, "records": records, "seconds": round(time.perf_counter() - started, 2)})
    return records


def _announce(plan: BootstrapPlan) -> None:
    if plan.offline:
        names = ", ".join(spec.image for spec in plan.stand_ins)
        console.print(f"[yellow]offline:[/] no container registry: the stack runs on local stand-ins ({names}), not official images")
    if not plan.gpu:
        console.print("[dim]no GPU runtime: skipping the CUDA pose base (pass --gpu to build it anyway)[/]")


def bootstrap_table(records: Sequence[BuildRecord], stack: Stack, total: float) -> Table:
    target = stack.targets.get("base_build")
    table = Table(title="bootstrap", title_justify="left")
    for column in ("image", "kind", "outcome", "reason", "time", "size"):
        table.add_column(column, justify="right" if column in ("time", "size") else "left")
    for record in records:
        style = {"built": "green", "up to date": "cyan", "failed": "bold red"}[record.outcome]
        size = f"{record.size_bytes / 1e6:.0f} MB" if record.size_bytes else ""
        table.add_row(record.image, record.kind, f"[{style}]{record.outcome}[/]", record.reason, f"{record.seconds:.1f}s", size)
    verdict = ""
    if target and target.seed:
        verdict = " [green](within" if total <= target.seed else " [red](over"
        verdict += f" the seed's {target.seed / 60:.0f} min target)[/]"
    table.caption = f"total {total:.1f}s{verdict}"
    return table


def profile_for(facts: doctor_.HostFacts, *, offline: bool, online: bool, dev: bool = False) -> Profile:
    if offline and online:
        raise SnowstackError("--offline and --online contradict each other: pass at most one")
    return Profile(gpu=doctor_.gpu_available(facts), offline=offline or (not online and not facts.registry_reachable), dev=dev)


def up(
    *,
    offline: bool = False,
    online: bool = False,
    dev: bool = False,
    timeout: int = 300,
    as_json: bool = False,
    skip_lint: bool = False,
    workers: int | None = None,
) -> list[ServiceState]:
    """Bootstrap what is missing or stale, build the services, start them and wait until all are healthy.

    `workers`: pose worker replicas; None starts the profile's default (one per core on the CPU profile)."""
    started = time.perf_counter()
    stack = load_stack()
    engine = Engine()
    facts = run_doctor_gate(engine)
    profile = profile_for(facts, offline=offline, online=online, dev=dev)
    ca = doctor_.ca_bundle(facts.env)
    env = compose_env(ca[1] if ca else None)
    bootstrap(
        offline=profile.offline,
        online=not profile.offline,
        gpu=profile.gpu,
        skip_lint=skip_lint,
        as_json=as_json,
        stack=stack,
        facts=facts,
    )
    project = ComposeStack(stack, profile, workers=workers or default_workers(profile), env=env)
    record_profile(project.project, profile, env)  # later commands (ps, verify, bench) use it without doctor
    if not as_json:
        files = ", ".join(p.name for p in project.files)
        console.print(f"[bold]profile:[/] {profile.describe()}, {project.workers} pose worker(s)  [dim]({files})[/]")
    with console.status("compose build"):
        build_s = project.build()
    with console.status(f"compose up --wait (timeout {timeout}s)"):
        up_s = project.up(timeout, [stack.service_with_role("database")])  # first: the accounts must exist before services connect
        created = ensure_database_accounts(project)
        up_s += project.up(timeout)
    if created and not as_json:
        console.print(f"[yellow]mongodb:[/] created the accounts this volume lacked: {', '.join(created)}")
    states = project.states()
    total = time.perf_counter() - started
    sign_in = sign_in_facts(project, next((s.url for s in states if s.name == stack.service_with_role("web")), None))
    if as_json:
        print_json(
            {
                "profile": profile,
                "workers": project.workers,
                "build_seconds": round(build_s, 2),
                "up_seconds": round(up_s, 2),
                "total_seconds": round(total, 2),
                "services": states,
                "signIn": sign_in,
            }
        )
    else:
        console.print(states_table(states, "up", total))
        console.print(sign_in_line(sign_in), soft_wrap=True)  # one line, however long: the path is copied from it
    return states


def ensure_database_accounts(project: ComposeStack) -> list[str]:
    """The services' MongoDB accounts exist with the .env passwords (a volume from before they did gets them)."""
    from .accounts import ensure_accounts

    database = project.stack.service_with_role("database")
    port = project.published_port(database)
    if port is None:
        raise SnowstackError(f"{database} publishes no port: the service accounts cannot be checked (restore its ports: entry)")
    return ensure_accounts("127.0.0.1", port, project.env)


def verify(*, deadline: float = 30.0, only: list[str] | None = None, as_json: bool = False) -> list[Check]:
    from .verify import VerifyTarget, verified_services
    from .verify import verify as run_checks

    require_known("service", only or (), verified_services(service_roles(load_stack())), "--only")
    project = compose_stack()
    database = project.stack.service_with_role("database")
    mongo_port = project.published_port(database) or project.stack.services[database].port or 27017
    target = VerifyTarget(
        urls=project.urls(),
        env=project.env,
        expect_gpu=project.profile.gpu,
        mongo_port=mongo_port,
        invoke=invoke_command(project.project),
        roles=service_roles(project.stack),
        workers=project.workers,
        env_file=str(shown_path(project)),
    )
    started = time.perf_counter()
    checks = run_checks(target, deadline, only)
    failed = sum(c.status is Status.FAIL for c in checks)
    emit_checks("verify", checks, as_json, failed=failed, seconds=round(time.perf_counter() - started, 2))
    return checks


def service_roles(stack: Stack) -> dict[str, tuple[str, ...]]:
    """Every service of the stack (in its order) -> its roles: what verify picks each service's check by."""
    return {name: service.roles for name, service in stack.services.items()}


def watch(*, timeout: int = 300) -> int:
    """`up --dev`, then `compose watch` in the foreground; returns compose's exit code."""
    up(dev=True, timeout=timeout)
    console.print("[bold]watching[/] source folders: edits sync into the containers (Ctrl-C to stop)")
    return compose_stack(dev=True).engine.project.foreground("watch", "--no-up")
