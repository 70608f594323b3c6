"""The engine module against a real Docker engine, on the busybox fixture stack (no registry needed)."""

from __future__ import annotations

import io
import os
import tarfile
import time
import uuid
from pathlib import Path

import pytest
import requests

from snowstack.engine import Engine
from snowstack.errors import EngineError
from snowstack.images import HASH_LABEL, Bootstrapper, base_image_specs, read_history
from snowstack.stack import Stack

pytestmark = pytest.mark.engine


def bootstrapper(stack: Stack, engine: Engine, ca: Path | None = None, no_cache: bool = False) -> Bootstrapper:
    return Bootstrapper(stack, engine, ca_bundle=str(ca) if ca else None, no_cache=no_cache)


def build_all(stack: Stack, engine: Engine, ca: Path | None = None, no_cache: bool = False) -> list[tuple[str, str]]:
    builder = bootstrapper(stack, engine, ca, no_cache)
    for spec in base_image_specs(stack, None, offline=False, gpu=False):
        builder.build(spec)
    return [(r.name, r.outcome) for r in builder.records]


def test_bootstrap_builds_parents_first_then_skips_until_a_context_changes(fixture_stack: Stack, engine: Engine) -> None:
    assert build_all(fixture_stack, engine) == [("base-a", "built"), ("base-b", "built")]
    assert build_all(fixture_stack, engine) == [("base-a", "up to date"), ("base-b", "up to date")]

    # A change in the parent's context rebuilds the parent and, through its new id, the child.
    (fixture_stack.base_images["base-a"].context / "NOTES.txt").write_text("changed")
    assert build_all(fixture_stack, engine) == [("base-a", "built"), ("base-b", "built")]

    outcomes = [record.outcome for record in read_history(fixture_stack)]
    assert outcomes == ["built", "built", "up to date", "up to date", "built", "built"]


def test_a_failed_build_names_the_step_keeps_the_log_tail_and_tags_nothing(fixture_stack: Stack, engine: Engine) -> None:
    build_all(fixture_stack, engine)
    dockerfile = fixture_stack.base_images["base-b"].context / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + 'RUN echo "about to fail" && exit 3\n')
    engine.images.remove(fixture_stack.base_images["base-b"].image)
    builder = bootstrapper(fixture_stack, engine)
    with pytest.raises(EngineError) as error:
        builder.build(base_image_specs(fixture_stack, ["base-b"], offline=False, gpu=False)[1])
    assert "exit code: 3" in str(error.value)
    assert any("about to fail" in line for line in error.value.log_tail)
    assert len(error.value.log_tail) <= 30
    assert not engine.images.exists(fixture_stack.base_images["base-b"].image)
    assert read_history(fixture_stack)[-1].outcome == "failed"


def test_the_image_noun_reports_what_an_image_is_made_of_and_imports_a_root_filesystem(
    fixture_stack: Stack, engine: Engine, tmp_path: Path
) -> None:
    build_all(fixture_stack, engine)
    images, built = engine.images, fixture_stack.base_images["base-b"].image
    assert images.exists(built) and (images.id(built) or "").startswith("sha256:")
    assert HASH_LABEL in (images.labels(built) or {}) and (images.size(built) or 0) > 0
    assert any("mkdir -p /www" in step for step in images.history(built))
    assert not images.has_healthcheck(built)  # the services add theirs

    imported = built.replace("/base-b:", "/imported:")  # in the fixture's own namespace, like every image it makes
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "hello.txt").write_text("hi\n")
    try:
        images.import_tarball(["tar", "-C", str(tmp_path / "root"), "-c", "."], imported, changes=["LABEL made.by=import"])
        assert images.labels(imported) == {"made.by": "import"}
    finally:
        images.remove(imported)
    assert not images.exists(imported) and images.id(imported) is None and images.labels(imported) is None
    images.remove(imported)  # absent is fine

    # Another engine object's noun runs on that object's host: an unreachable one is one actionable line.
    with pytest.raises(EngineError, match="removing image x: the Docker engine is not reachable"):
        Engine(host="tcp://127.0.0.1:9").images.remove("x")


def test_the_ca_secret_is_used_by_the_build_but_lands_in_no_layer(fixture_stack: Stack, engine: Engine, tmp_path: Path) -> None:
    marker = f"SNOWSTACK-TEST-CA-{uuid.uuid4().hex}"
    ca = tmp_path / "ca.pem"
    ca.write_text(f"-----BEGIN CERTIFICATE-----\n{marker}\n-----END CERTIFICATE-----\n")
    # Secrets are not part of BuildKit's cache key: without no_cache an earlier build's layer would be reused.
    build_all(fixture_stack, engine, ca, no_cache=True)
    image = fixture_stack.base_images["base-b"].image
    files = image_files(engine, image)
    assert files["etc/ca-bytes-seen"].strip() == str(len(ca.read_bytes())).encode()  # the build saw the secret
    assert not [name for name, data in files.items() if marker.encode() in data]  # and no layer kept it


def test_compose_up_waits_for_health_in_dependency_order_then_down_leaves_nothing(fixture_stack: Stack, engine: Engine) -> None:
    build_all(fixture_stack, engine)
    stack_engine = Engine([fixture_stack.compose_file], project_name=fixture_stack.name)
    compose = stack_engine.compose
    try:
        started = time.perf_counter()
        stack_engine.run_compose("build", lambda: compose.build(quiet=True))
        stack_engine.run_compose("up", lambda: compose.up(detach=True, wait=True, wait_timeout=60, quiet=True))
        assert time.perf_counter() - started < 120
        states = {c.name.split("-")[-2]: c.state.health.status for c in compose.ps()}
        assert states == {"back": "healthy", "front": "healthy"}
        port = stack_engine.project.port("front", fixture_stack.services["front"].port or 0)
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text == "front v1\n"
    finally:
        stack_engine.run_compose("down", lambda: compose.down(volumes=True, remove_orphans=True, quiet=True))
    assert compose.ps(all=True) == []
    assert not engine.client.network.exists(fixture_stack.network)


def image_files(engine: Engine, image: str) -> dict[str, bytes]:
    """Every regular file of every layer of an image, read from `docker save`."""
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(b"".join(engine.client.image.save(image)))) as archive:
        for member in archive.getmembers():
            blob = archive.extractfile(member) if member.isfile() else None
            if blob is None:
                continue
            data = blob.read()
            try:
                with tarfile.open(fileobj=io.BytesIO(data)) as layer:
                    for entry in layer.getmembers():
                        extracted = layer.extractfile(entry) if entry.isfile() else None
                        if extracted is not None:
                            files[entry.name] = extracted.read()
            except tarfile.ReadError:
                files[member.name] = data  # config json and manifests
    return files


def test_compose_commands_report_ports_containers_and_restarts_of_a_real_project(fixture_stack: Stack, engine: Engine) -> None:
    build_all(fixture_stack, engine)
    project = Engine([fixture_stack.compose_file], project_name=fixture_stack.name).project
    container_port = fixture_stack.services["front"].port or 0
    try:
        project.build(["back", "front"])
        assert project.port("front", container_port) is None  # no container yet: not published
        project.up(timeout_s=60)
        published = project.port("front", container_port)
        assert published and requests.get(f"http://127.0.0.1:{published}/", timeout=5).text == "front v1\n"
        assert project.port("back", container_port) is None  # back publishes nothing
        assert set(project.containers()) == {"back", "front"} and project.running("front")
        first_start = project.started_at("front")
        project.restart(["front"])
        assert first_start is not None and (project.started_at("front") or first_start) > first_start

        # A code change: rebuilt with BuildKit's JSON progress, recreated without waiting, answering again.
        (fixture_stack.root / "front" / "index.html").write_text("front v2\n")
        build = project.build_progress(["front"])
        assert build.seconds > 0 and any(line.startswith("{") for line in build.lines)
        project.up(["front"], wait=False, dependencies=False)
        published = project.port("front", container_port)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{published}/", timeout=2).text == "front v2\n":
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        else:
            pytest.fail("the recreated front never served its new page")
        assert project.logs("front") is not None
    finally:
        project.down(volumes=True)
    assert project.ps() == []


def test_a_failed_compose_build_names_the_failing_step(fixture_stack: Stack, engine: Engine) -> None:
    build_all(fixture_stack, engine)
    dockerfile = fixture_stack.root / "front" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + 'RUN echo "front breaks" && exit 4\n')
    project = Engine([fixture_stack.compose_file], project_name=fixture_stack.name).project
    with pytest.raises(EngineError) as error:
        project.build_progress(["front"])
    assert "compose build front failed" in str(error.value) and "exit code: 4" in str(error.value), error.value


def test_each_engine_object_passes_its_own_environment_to_compose_and_leaves_os_environ_alone(fixture_stack: Stack) -> None:
    before = dict(os.environ)
    ours = Engine([fixture_stack.compose_file], project_name=fixture_stack.name, env={"FIXTURE_FRONT_PORT": "23456"})
    plain = Engine([fixture_stack.compose_file], project_name=fixture_stack.name)
    assert dict(os.environ) == before

    def published(engine: Engine) -> str:
        ports = (engine.project.config().services or {})["front"].ports or []
        return str(ports[0].published)

    assert published(ours) == "23456"
    assert published(plain) == os.environ.get("FIXTURE_FRONT_PORT", "18081")
