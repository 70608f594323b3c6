"""The engine's `image` noun: build (buildx), inspect, import, history, tag and push, remove.

Part of the one Docker boundary (see engine.py): every command runs through the `DockerClient` of the `Engine`
object that owns this noun (`engine.images`), so it carries that object's environment and host, never
`os.environ` writes. Every failure becomes an EngineError with one actionable line and the log tail.
"""

from __future__ import annotations

import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from python_on_whales import DockerClient, DockerException
from python_on_whales.utils import run

from .engine_failures import LOG_TAIL_LINES, docker_stderr, engine_errors, failing_step
from .errors import EngineError


@dataclass(frozen=True)
class BuildResult:
    image: str
    seconds: float
    log: list[str]


class ImageCommands:
    """`docker image` and `docker buildx build` on one engine object's client (its host and environment)."""

    def __init__(self, client: DockerClient) -> None:
        self._client = client

    # --- what is there ------------------------------------------------------------------------------
    def exists(self, image: str) -> bool:
        return bool(self._client.image.exists(image))

    def id(self, image: str) -> str | None:
        """The local image's id (`sha256:…`), or None when it does not exist."""
        try:
            return str(self._client.image.inspect(image).id)
        except DockerException:
            return None

    def labels(self, image: str) -> dict[str, str] | None:
        """The labels of a local image, or None when it does not exist."""
        try:
            inspected = self._client.image.inspect(image)
        except DockerException:
            return None
        return dict(inspected.config.labels or {})

    def has_healthcheck(self, image: str) -> bool:
        """Whether a local image declares a HEALTHCHECK (False when it is not there)."""
        try:
            health = self._client.image.inspect(image).config.healthcheck
        except DockerException:
            return False
        return bool(health and health.test)

    def size(self, image: str) -> int | None:
        """The local image's size in bytes, or None when it does not exist."""
        try:
            return int(self._client.image.inspect(image).size or 0)
        except DockerException:
            return None

    def history(self, image: str) -> list[str]:
        """The command that made each layer of an image (`docker image history --no-trunc`), newest first."""
        with engine_errors(f"image history {image}"):
            text = str(run([*self._docker, "image", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image]))
        return text.splitlines()

    # --- making and removing ------------------------------------------------------------------------
    def build(
        self,
        context: Path,
        tag: str,
        *,
        build_args: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        no_cache: bool = False,
        target: str | None = None,
        file: Path | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> BuildResult:
        """`docker buildx build --load`: streams plain progress lines to `on_line`, keeps the tail for errors."""
        tail: deque[str] = deque(maxlen=400)
        started = time.perf_counter()
        try:
            stream: Iterator[str] = self._client.buildx.build(
                context,
                tags=[tag],
                build_args=dict(build_args or {}),
                labels=dict(labels or {}),
                secrets=list(secrets),
                cache=not no_cache,
                target=target,
                file=file,
                load=True,
                progress="plain",
                provenance=False,
                stream_logs=True,
            )  # type: ignore[assignment]
            for raw in stream:
                line = raw.rstrip("\n")
                tail.append(line)
                if on_line:
                    on_line(line)
        except DockerException as error:
            lines = [*tail, *docker_stderr(error).splitlines()]
            raise EngineError(
                f"building {tag} from {context} failed: {failing_step(lines)}",
                log_tail=lines[-LOG_TAIL_LINES:],
            ) from None
        return BuildResult(image=tag, seconds=time.perf_counter() - started, log=list(tail))

    def import_tarball(self, tar_stream_command: Sequence[str], tag: str, changes: Sequence[str] = ()) -> None:
        """`<command> | docker import - TAG`: turns a root filesystem into an image."""
        producer = subprocess.Popen(list(tar_stream_command), stdout=subprocess.PIPE)
        change_args = [arg for change in changes for arg in ("--change", change)]
        importer = subprocess.run([*self._docker, "import", *change_args, "-", tag], stdin=producer.stdout, capture_output=True, text=True)
        if producer.stdout:
            producer.stdout.close()
        if producer.wait() != 0 or importer.returncode != 0:
            raise EngineError(f"docker import of {tag} failed: {importer.stderr.strip() or 'tar failed'}")

    def remove(self, image: str) -> None:
        """Force-remove a local image; absent is fine."""
        with engine_errors(f"removing image {image}"):
            if self._client.image.exists(image):
                self._client.image.remove(image, force=True)

    # --- registry -----------------------------------------------------------------------------------
    def push(self, image: str, as_name: str) -> None:
        """Tag a local image as `as_name` (HOST:PORT/...) and push it there; the extra tag is removed again."""
        with engine_errors(f"pushing {image} as {as_name}"):
            self._client.image.tag(image, as_name)
            try:
                self._client.image.push(as_name, quiet=True)
            finally:
                self._client.image.remove(as_name, prune=False)

    @property
    def _docker(self) -> list[str]:
        """The client's command line (`env K=V… docker [--host …]`) for the calls python-on-whales does not wrap."""
        return [str(part) for part in self._client.client_config.docker_cmd]
