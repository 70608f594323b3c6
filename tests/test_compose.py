"""The compose profile decisions and the .env bootstrap, without Docker."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from snowstack import doctor
from snowstack.compose import compose_env, compose_stack
from snowstack.errors import SnowstackError
from snowstack.project import (
    PROJECT_VARIABLE,
    ComposeProject,
    Profile,
    compose_files,
    compose_project,
    compose_variables,
    project_variables,
    suite_project_name,
)
from snowstack.project_files import (
    PROFILE_FILE,
    ensure_env_file,
    read_env_file,
    record_profile,
    recorded_profile,
    render_env_file,
    reserved_ports,
)
from snowstack.stack_toml import load_stack


@pytest.mark.parametrize(
    ("profile", "extra"),
    [
        (Profile(gpu=True, offline=False), []),
        (Profile(gpu=False, offline=False), ["docker-compose.cpu.yml"]),
        (Profile(gpu=False, offline=True), ["docker-compose.cpu.yml", "docker-compose.offline.yml"]),
        (Profile(gpu=True, offline=True, dev=True), ["docker-compose.offline.yml", "docker-compose.dev.yml"]),
    ],
)
def test_the_profile_picks_the_override_files_and_they_exist(profile: Profile, extra: list[str]) -> None:
    files = compose_files(load_stack(), profile)
    assert [f.name for f in files] == ["docker-compose.yml", *extra]
    assert all(f.is_file() for f in files)


def test_offline_points_the_image_variables_at_stand_ins_never_official_names() -> None:
    stack = load_stack()
    offline, online = (
        {
            key: value
            for key, value in compose_variables(stack, Profile(gpu=False, offline=mode)).items()
            if key in ("MONGO_IMAGE", "MONGO_EXPRESS_IMAGE")
        }
        for mode in (True, False)
    )
    assert offline == {"MONGO_IMAGE": stack.upstream["mongo"].offline, "MONGO_EXPRESS_IMAGE": stack.upstream["mongo-express"].offline}
    assert online == {"MONGO_IMAGE": "mongo:7.0.25", "MONGO_EXPRESS_IMAGE": "mongo-express:1.0.2"}


def test_every_generated_secret_is_fresh_and_the_example_has_no_real_secret() -> None:
    counter = itertools.count()
    rendered = render_env_file("A=__GENERATE__\nB=__GENERATE__\nC=plain\n", token=lambda: f"s{next(counter)}")
    assert read_env(rendered) == {"A": "s0", "B": "s1", "C": "plain"}
    example = (load_stack().compose_file.parent / ".env.example").read_text()
    assert "__GENERATE__" in example
    assert "PASSWORD=__GENERATE__" in example.replace("MONGO_ROOT_", "").replace("MONGO_EXPRESS_", "")


def test_env_file_is_created_once_private_and_kept(tmp_path: Path) -> None:
    stack = load_stack()
    compose_file = tmp_path / "docker-compose.yml"
    compose_file.write_text("services: {}\n")
    (tmp_path / ".env.example").write_text("MONGO_ROOT_PASSWORD=__GENERATE__\n")
    fake = type(stack)(**{**stack.__dict__, "compose_file": compose_file})
    path, created = ensure_env_file(fake)
    assert created and oct(path.stat().st_mode & 0o777) == "0o600"
    first = read_env_file(path)["MONGO_ROOT_PASSWORD"]
    assert len(first) >= 24 and first != "__GENERATE__"
    assert ensure_env_file(fake) == (path, False)
    assert read_env_file(path)["MONGO_ROOT_PASSWORD"] == first
    (tmp_path / ".env").unlink()
    (tmp_path / ".env.example").unlink()
    with pytest.raises(SnowstackError, match=r"\.env\.example is missing"):
        ensure_env_file(fake)


# Compose's .env rules (docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/#env-file-syntax),
# with what Compose yields for each line of the file below:
#   - a line starting with `#` is a comment; a blank line is ignored; `export ` before the name is dropped;
#   - an unquoted value is trimmed; ` #` (space first) starts an inline comment, `#` inside a word does not;
#   - a quoted value keeps everything between its quotes, `#` included; a comment may follow the closing quote;
#   - a double-quoted value expands escapes (`\n`); a single-quoted one is literal (`$X` stays `$X`);
#   - unquoted and double-quoted `${VAR}` is substituted. Not here: the values become secret files, not Compose input,
#     so a generated or typed password keeps its `$` (the old reader did the same).
ENV_FILE = """\
# MongoDB accounts
PLAIN=snowboard
export EXPORTED=yes
  SPACED =  padded value
DOUBLE="two words # not a comment"
DOUBLE_COMMENTED="quoted" # a comment after the quote
SINGLE='it is $LITERAL'
ESCAPED="line\\nnext"
INLINE=abc # an inline comment
HASH=abc#def
EMPTY=
NOT_A_VARIABLE
REFERENCE=${PLAIN}
"""


def test_env_file_is_read_by_composes_rules(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(ENV_FILE)
    assert read_env_file(path) == {
        "PLAIN": "snowboard",
        "EXPORTED": "yes",
        "SPACED": "padded value",
        "DOUBLE": "two words # not a comment",
        "DOUBLE_COMMENTED": "quoted",
        "SINGLE": "it is $LITERAL",
        "ESCAPED": "line\nnext",
        "INLINE": "abc",
        "HASH": "abc#def",
        "EMPTY": "",
        "REFERENCE": "${PLAIN}",  # Compose: "snowboard" (see above)
    }


def test_each_service_publishes_the_container_port_stack_toml_gives_it() -> None:
    """Read through `compose config` with the variables invoke passes, not as text: the file names no port itself."""
    from snowstack.lint import gather_compose

    stack = load_stack()
    facts = gather_compose(stack.compose_file, stack.root, {}, {}, variables=compose_variables(stack, Profile(gpu=True, offline=False)))
    assert facts.config is not None, facts.error
    for name, service in stack.services.items():
        published = [int(port["target"]) for port in facts.config["services"][name].get("ports") or []]
        assert published == ([service.port] if service.port else []), name  # a worker listens on nothing


def read_env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_unset_project_is_the_users_own_stack_on_its_fixed_ports() -> None:
    stack = load_stack()
    project = compose_project(stack, {})
    assert (project.name, project.isolated) == ("snowboarding", False)
    assert project_variables(stack, project) == {"IMAGE_TAG": "local", "STACK_NETWORK": "snowboarding-network"}


def test_an_isolated_project_shares_no_name_port_or_secret_with_the_users_stack(tmp_path: Path) -> None:
    stack = load_stack()
    project = compose_project(stack, {PROJECT_VARIABLE: "snowboarding-test-1"})
    isolated = type(project)(project.name, True, tmp_path / "projects" / project.name)
    ports = reserved_ports(isolated, list(stack.services))
    variables = project_variables(stack, project, ports)
    assert project.isolated and variables["IMAGE_TAG"] == "snowboarding-test-1"
    assert variables["STACK_NETWORK"] == "snowboarding-test-1-network"
    # Every published service gets its own free host port, never one of the user's stack.
    published = {key: int(value) for key, value in variables.items() if key.endswith("_PORT")}
    assert set(published) == {"POSE_SERVICE_PORT", "BACKEND_API_PORT", "FRONTEND_PORT", "MONGODB_PORT", "MONGO_EXPRESS_PORT"}
    assert len(set(published.values())) == 5 and not set(published.values()) & {5000, 3001, 5173, 27017, 8081}
    # Kept: a second command (or a restart) publishes the same ports.
    assert reserved_ports(isolated, list(stack.services)) == ports
    text = stack.compose_file.read_text()
    assert all(f"${{{key}-" in text for key in variables if key.endswith("_PORT")), "the compose file must read every port variable"
    env, created = ensure_env_file(stack, isolated)
    assert created and env.parent == isolated.state_dir and env != stack.compose_file.parent / ".env"


@pytest.mark.parametrize("name", ["Snow", "-x", "a b", "x" * 64])
def test_a_bad_project_name_is_one_line_naming_the_variable(name: str) -> None:
    with pytest.raises(SnowstackError, match=PROJECT_VARIABLE):
        compose_project(load_stack(), {PROJECT_VARIABLE: name})


def test_each_checkout_gets_its_own_test_project() -> None:
    stack = load_stack()
    other = type(stack)(**{**stack.__dict__, "root": Path("/elsewhere/clone")})
    assert suite_project_name(stack) != suite_project_name(other)
    assert compose_project(stack, {PROJECT_VARIABLE: suite_project_name(stack)}).isolated


def test_the_worker_count_defaults_to_the_cores_and_a_chosen_one_is_kept_for_later_commands(tmp_path: Path) -> None:
    import psutil

    from snowstack.project import default_workers
    from snowstack.project_files import chosen_workers

    project = ComposeProject("w-test", isolated=True, state_dir=tmp_path)
    cpu, gpu = Profile(gpu=False, offline=True), Profile(gpu=True, offline=False)
    assert default_workers(cpu) == (psutil.cpu_count() or 1) and default_workers(gpu) == 1
    assert chosen_workers(project, cpu, None) == default_workers(cpu)  # nothing chosen yet
    assert chosen_workers(project, cpu, 3) == 3
    assert chosen_workers(project, cpu, None) == 3  # `invoke ps` after `up --workers 3` does not scale back
    with pytest.raises(SnowstackError, match="--workers 0: give at least 1"):
        chosen_workers(project, cpu, 0)


def test_up_records_the_profile_and_later_commands_use_it_without_doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    import snowstack.stack_toml

    stack = dataclasses.replace(load_stack(), state_dir=tmp_path)
    monkeypatch.setattr(snowstack.stack_toml, "load_stack", lambda: stack)
    monkeypatch.setenv(PROJECT_VARIABLE, "recorded-profile-test")
    project = compose_project(stack)
    assert recorded_profile(project) is None

    gathered: list[object] = []
    monkeypatch.setattr(doctor, "gather", lambda engine: gathered.append(engine) or pytest.fail("doctor ran"))
    env = compose_env("/etc/ssl/certs/ca-certificates.crt")
    record_profile(project, Profile(gpu=False, offline=True, dev=True), env)
    assert recorded_profile(project) == (Profile(gpu=False, offline=True), env)

    before = dict(os.environ)
    chosen = compose_stack(dev=True)
    assert (chosen.profile, chosen.compose_environment) == (Profile(gpu=False, offline=True, dev=True), env)
    assert compose_stack(online=True).profile == Profile(gpu=False, offline=False)  # --online overrides the recorded images
    assert dict(os.environ) == before and not gathered  # no doctor run, no registry probe, nothing exported


def test_an_unreadable_recorded_profile_is_ignored(tmp_path: Path) -> None:
    project = ComposeProject("p", isolated=True, state_dir=tmp_path)
    (tmp_path / PROFILE_FILE).write_text("{not json")
    assert recorded_profile(project) is None
