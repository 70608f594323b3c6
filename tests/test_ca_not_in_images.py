"""The host's CA bundle reaches builds as a BuildKit secret and stays out of every image we build.

Reads every layer (`docker save`) of every base image and stand-in that exists and of the service images compose
builds (prod and dev targets, this checkout's isolated test project), and looks for the bundle's bytes and for the
PEM body of each custom CA the host trusts (the TLS proxy's).
"""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path

import pytest

from snowstack import doctor
from snowstack.engine import Engine
from snowstack.stack_toml import load_stack
from snowstack.workflows import bootstrap, compose_stack

pytestmark = pytest.mark.engine

CUSTOM_CA_FOLDER = Path("/usr/local/share/ca-certificates")


def custom_ca_markers() -> list[bytes]:
    """A distinctive base64 line from each custom CA certificate on this host."""
    markers = []
    for cert in sorted(CUSTOM_CA_FOLDER.glob("**/*.crt")) if CUSTOM_CA_FOLDER.is_dir() else []:
        body = [line for line in cert.read_bytes().splitlines() if line and not line.startswith(b"-----")]
        if len(body) > 2:
            markers.append(body[len(body) // 2])
    return markers


def layer_files_containing(engine: Engine, image: str, needles: list[bytes], whole: bytes) -> list[str]:
    """Paths of files in any layer of `image` that contain a needle or are byte-equal to `whole`."""
    hits = []
    with tempfile.TemporaryDirectory() as folder:
        archive_path = Path(folder) / "image.tar"
        engine.client.image.save(image, output=archive_path)
        with tarfile.open(archive_path) as archive:
            for member in archive:
                blob = archive.extractfile(member) if member.isfile() else None
                if blob is None:
                    continue
                try:
                    with tarfile.open(fileobj=blob, mode="r|*") as layer:
                        for entry in layer:
                            data = layer.extractfile(entry) if entry.isfile() else None
                            content = data.read() if data else b""
                            if content == whole or any(needle in content for needle in needles):
                                hits.append(f"{member.name}:{entry.name}")
                except tarfile.ReadError:
                    continue  # manifests and configs
    return hits


def host_ca(engine: Engine) -> tuple[list[bytes], bytes]:
    found = doctor.ca_bundle(doctor.gather(engine).env)
    assert found, "no CA bundle on this host"
    return custom_ca_markers(), Path(found[1]).read_bytes()


def test_no_layer_of_any_service_image_holds_the_host_ca(engine: Engine) -> None:
    markers, bundle = host_ca(engine)
    images = []
    for dev in (False, True):
        project = compose_stack(dev=dev)  # the suite's isolated project: its own image tag
        project.build()
        images += [project.image(name) for name in project.stack.built_services()]
    # Three services, prod and dev targets; the pose service's dev profile syncs into its prod image.
    assert len(set(images)) == 5, images
    leaks = {image: hits for image in set(images) if (hits := layer_files_containing(engine, image, markers, bundle))}
    assert leaks == {}


def test_no_layer_of_any_bootstrapped_image_holds_the_host_ca(engine: Engine) -> None:
    stack = load_stack()
    bootstrap(skip_doctor=True, skip_lint=True, as_json=True, stack=stack)  # seconds when nothing changed
    found = doctor.ca_bundle(doctor.gather(engine).env)
    assert found, "no CA bundle on this host"
    bundle = Path(found[1]).read_bytes()
    markers = custom_ca_markers()
    images = [b.image for b in stack.base_images.values()] + [u.offline for u in stack.upstream.values() if u.offline]
    present = [image for image in images if engine.images.exists(image)]
    assert len(present) >= 4, present
    leaks = {image: hits for image in present if (hits := layer_files_containing(engine, image, markers, bundle))}
    assert leaks == {}
