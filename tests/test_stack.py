"""The stack description: the real one loads, and every kind of mistake names the file, key and reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from snowstack.errors import SnowstackError, StackFileError
from snowstack.stack_toml import load_stack

MINIMAL = """
[project]
name = "p"
compose_file = "compose.yml"
network = "n"
state_dir = ".state"

[offline]
root_image = "root:1"
suite = "bookworm"

[base_images.a]
image = "p/a:local"
context = "a"

[base_images.b]
image = "p/b:local"
context = "b"
parent = "a"

[services.web]
port = 8080
health = "/health"
base = "b"
context = "a"
"""


def write(tmp_path: Path, text: str) -> Path:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir(exist_ok=True)
    path = tmp_path / "stack.toml"
    path.write_text(text)
    return path


def test_the_repository_stack_loads_with_the_seed_targets() -> None:
    stack = load_stack()
    assert stack.network == "snowboarding-network"
    assert {"pose-service", "backend-api", "frontend", "mongodb", "mongo-express"} <= set(stack.services)
    assert stack.services["pose-service"].port == 5000
    assert stack.targets["code_change_rebuild"].seed == 30
    assert stack.targets["pose_ready"].goal == 10
    order = [b.name for b in stack.base_images_in_build_order()]
    assert set(order) == {"base-node", "base-node-runtime", "base-node-media", "base-python", "base-python-pose"}
    assert stack.base_images["base-python-pose"].gpu and not stack.base_images["base-python"].gpu


def test_base_images_come_parent_first_and_only_pulls_in_ancestors(tmp_path: Path) -> None:
    stack = load_stack(write(tmp_path, MINIMAL))
    assert [b.name for b in stack.base_images_in_build_order()] == ["a", "b"]
    assert [b.name for b in stack.base_images_in_build_order(["b"])] == ["a", "b"]
    assert [b.name for b in stack.base_images_in_build_order(["a"])] == ["a"]
    with pytest.raises(KeyError, match="unknown base image 'zzz'"):
        stack.base_images_in_build_order(["zzz"])


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        (("port = 8080", 'port = "8080"'), "services.web.port", "must be an integer"),
        (("port = 8080", "port = 70000"), "services.web.port", "not a TCP port"),
        (("port = 8080", "port = true"), "services.web.port", "got a boolean"),
        (('health = "/health"', 'health = "health"'), "services.web.health", "starting with '/'"),
        (('parent = "a"', 'parent = "x"'), "base_images.b.parent", "not a base image"),
        (('context = "b"', 'context = "nope"'), "base_images.b.context", "does not exist"),
        (('base = "b"', 'base = "q"'), "services.web.base", "not a base image"),
        (('network = "n"', 'network = ""'), "project.network", "must not be empty"),
        (('network = "n"', 'netwrok = "n"'), "project.netwrok", "unknown key"),
        (('name = "p"\n', ""), "project.name", "is required"),
        (('health = "/health"', 'health = "/health"\ntalks_to = ["db"]'), "services.web.talks_to", "not another service"),
        (('health = "/health"', 'health = "/health"\ntalks_to = ["web"]'), "services.web.talks_to", "not another service"),
        (('health = "/health"', 'health = "/health"\ntalks_to = "db"'), "services.web.talks_to", "must be"),
        (('context = "a"\n', 'context = "a"\nupstream = { X = "nope" }\n'), "base_images.a.upstream.X", "does not define"),
        (('suite = "bookworm"', 'suite = "bookworm"\n[targets.t]\nseed = "1"'), "targets.t.seed", "must be a number"),
        (("port = 8080", "port = 8080\n[services.web.probe]"), "services.web.probe", "unknown key (allowed: base, "),
        (("port = 8080\n", ""), "services.web.port", "only a service with the `worker` role"),
        (('health = "/health"', 'health = "/health"\nroles = ["boss"]'), "services.web.roles", "unknown role 'boss'"),
        (('health = "/health"', 'health = "/health"\nimage_of = "web"'), "services.web.context", "exactly one"),
        (
            (
                'base = "b"\ncontext = "a"\n',
                'base = "b"\ncontext = "a"\nroles = ["api"]\n[services.api2]\nport = 1\nimage_of = "web"\nroles = ["api"]\n',
            ),
            "services.api2.roles",
            "'api' is already held by service 'web'",
        ),
        (
            ('base = "b"\ncontext = "a"\n', 'base = "b"\ncontext = "a"\n[services.w]\nimage_of = "x"\nroles = ["worker"]\n'),
            "services.w.image_of",
            "not a",
        ),
    ],
)
def test_mistakes_name_the_file_key_and_reason(tmp_path: Path, change: tuple[str, str], key: str, reason: str) -> None:
    path = write(tmp_path, MINIMAL.replace(*change, 1))
    with pytest.raises(StackFileError) as error:
        load_stack(path)
    assert error.value.key == key
    assert reason in error.value.reason
    assert str(path) in str(error.value)


def test_a_parent_cycle_is_named(tmp_path: Path) -> None:
    text = MINIMAL.replace('image = "p/a:local"', 'image = "p/a:local"\nparent = "b"')
    with pytest.raises(StackFileError, match=r"cycle: (a -> b -> a|b -> a -> b)"):
        load_stack(write(tmp_path, text))


def test_upstream_images_must_be_pinned(tmp_path: Path) -> None:
    text = MINIMAL + '\n[upstream.node]\nofficial = "node:latest"\n'
    with pytest.raises(StackFileError, match="pinned") as error:
        load_stack(write(tmp_path, text))
    assert error.value.key == "upstream.node.official"


def test_a_syntax_error_and_a_missing_file_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match="does not exist"):
        load_stack(tmp_path / "missing.toml")
    with pytest.raises(StackFileError, match=r"\(syntax\)"):
        load_stack(write(tmp_path, "[project\n"))


def test_stand_ins_build_after_the_stand_ins_they_start_from() -> None:
    stack = load_stack()
    order = [image.name for image in stack.stand_ins_in_build_order(["mongo-express", "mongo"])]
    assert order.index("node") < order.index("mongo-express")
    assert order.index("python") < order.index("mongo")
    assert "cuda" not in order


def test_a_worker_runs_another_services_image_listens_on_nothing_and_is_found_by_role(tmp_path: Path) -> None:
    worker = '\n[services.worker]\nimage_of = "web"\nroles = ["worker", "gpu"]\ntalks_to = ["web"]\n'
    stack = load_stack(write(tmp_path, MINIMAL + worker))
    assert stack.services["worker"].port is None and stack.services["worker"].image_of == "web"
    assert stack.with_role("worker") == ["worker"] and stack.with_role("gpu") == ["worker"]
    assert stack.built_services() == ["web"]  # its image is web's: built once
    with pytest.raises(ValueError, match="unknown role"):
        stack.with_role("boss")


def test_the_repository_stack_has_scaled_pose_workers_on_the_gpu_beside_the_pose_service() -> None:
    stack = load_stack()
    assert stack.with_role("worker") == ["pose-worker"]
    assert set(stack.with_role("gpu")) == {"pose-service", "pose-worker"}
    worker = stack.services["pose-worker"]
    assert worker.port is None and worker.image_of == "pose-service" and worker.talks_to == ("mongodb",)


def test_compose_variables_carry_each_services_port_health_and_the_profiles_base_image(tmp_path: Path) -> None:
    text = MINIMAL.replace('base = "b"\n', 'base = "b"\ngpu_base = "a"\n') + '\n[services.worker]\nimage_of = "web"\nroles = ["worker"]\n'
    stack = load_stack(write(tmp_path, text))
    cpu = {"WEB_CONTAINER_PORT": "8080", "WEB_HEALTH": "/health", "WEB_BASE_IMAGE": "p/b:local"}
    assert stack.compose_variables(gpu=False) == cpu  # the worker listens on nothing and builds nothing: no variable
    assert stack.compose_variables(gpu=True) == {**cpu, "WEB_BASE_IMAGE": "p/a:local"}


def test_code_finds_the_repository_services_by_role_not_by_name() -> None:
    stack = load_stack()
    found = {role: stack.service_with_role(role) for role in ("pose", "api", "web", "database", "database-ui")}
    assert found == {"pose": "pose-service", "api": "backend-api", "web": "frontend", "database": "mongodb", "database-ui": "mongo-express"}


def test_a_missing_role_is_one_line_naming_stack_toml(tmp_path: Path) -> None:
    with pytest.raises(SnowstackError, match=re.escape("no service has the role 'api': add it to one service's `roles` in stack.toml")):
        load_stack(write(tmp_path, MINIMAL)).service_with_role("api")


def test_the_compose_files_write_no_port_health_path_or_base_image_that_stack_toml_holds() -> None:
    """stack.toml is the source; the compose files read its facts as variables (the pose port lived in eight places)."""
    stack = load_stack()
    facts = {str(s.port) for s in stack.services.values() if s.port} | {s.health for s in stack.services.values() if s.health}
    facts |= {image.image for image in stack.base_images.values()}
    for path in sorted(stack.compose_file.parent.glob("docker-compose*.yml")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
            for fact in facts:
                written = re.search(rf"(?<![\w/.:-]){re.escape(fact)}(?![\w/.-])", code.replace("${", " ${"))
                assert not written or fact == "/", f"{path.name}:{number} writes {fact!r}: use the variable stack.toml gives it"
