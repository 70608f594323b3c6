"""The worker's life: register, claim a task, run it with a heartbeat thread keeping its lease, repeat.

Failure rules (docs/contracts.md): an InputError spends an attempt; a MongoDB outage or a shutdown never does
(the task goes back to queued, or its lease runs out and the sweep puts it back); a task whose heartbeat finds
nothing was cancelled (deleted) or taken back: the worker stops it within a frame and writes nothing more.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from pymongo.errors import PyMongoError

from ..pipeline import Stopped
from .context import InputError, VideoGone, WorkerContext
from .export import run_export
from .finish import run_finish
from .health import health_file
from .ingest import run_ingest
from .queue import utcnow
from .segment import run_segment

log = logging.getLogger("pose_service.worker")

Doc = dict[str, Any]
Runner = Callable[[WorkerContext, Doc, Callable[[], bool]], Doc]
RUNNERS: dict[str, Runner] = {
    "ingest": run_ingest,
    "segment": run_segment,
    "finish": run_finish,
    "export": run_export,  # issue 18: keeps its own `exports` record, no job stage
}
STAGES = {"ingest": "ingest", "segment": "analysis", "finish": "finish"}


class Worker:
    def __init__(self, ctx: WorkerContext):
        self.ctx = ctx
        self.queue = ctx.queue
        self.stopping = threading.Event()
        # The task whose heartbeat matched nothing: an id, not a flag, so a late heartbeat of the task just
        # finished can never stop the next one.
        self._lost_id: Any = None
        self.current: Doc | None = None
        self.frames_per_second: float | None = None
        self._beat_thread = threading.Thread(target=self._beat_loop, name="heartbeat", daemon=True)
        # Held while the worker document's taskId is written with the task it names: a heartbeat that read the
        # task just before the worker let go cannot write its id back after the worker wrote null.
        self._beat_lock = threading.Lock()
        self._next_sweep = 0.0

    # ------------------------------------------------------------ lifecycle

    def stop(self) -> None:
        """Graceful stop (SIGTERM): the running task goes back to queued within a frame, no attempt spent."""
        self.stopping.set()

    def should_stop(self) -> bool:
        return self.stopping.is_set() or self._is_lost(self.current)

    def _is_lost(self, task: Doc | None) -> bool:
        return task is not None and self._lost_id == task["_id"]

    def run(self) -> None:
        self._until_mongodb(self.queue.ensure_indexes, "creating indexes")
        self._until_mongodb(lambda: self.queue.register(self._info()), "registering")
        log.info(
            "worker %s ready (backend %s on %s)", self.queue.worker_id, self.ctx.backend.name, self.ctx.backend.device
        )
        self._beat_thread.start()
        try:
            while not self.stopping.is_set():
                task = self._next_task()
                if task is None:
                    self.stopping.wait(self.ctx.settings.poll_s)
                    continue
                self.handle(task)
        finally:
            try:
                self.queue.unregister()
            except PyMongoError as exc:
                log.warning("could not remove the worker document (%s); it expires by its heartbeat", exc)
            self.ctx.close()
            with contextlib.suppress(OSError):
                health_file().unlink(missing_ok=True)
            log.info("worker %s stopped", self.queue.worker_id)

    def _info(self) -> Doc:
        return {
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "backend": self.ctx.backend.name,
            "device": self.ctx.backend.device,
        }

    def _until_mongodb(self, action: Callable[[], Any], what: str) -> Any:
        """Run action, waiting out a MongoDB outage (logged once, then quietly) until it works or we stop."""
        warned = False
        while True:
            try:
                return action()
            except PyMongoError as exc:
                if self.stopping.is_set():
                    raise
                if not warned:
                    log.warning("MongoDB unreachable while %s (%s); waiting for it", what, type(exc).__name__)
                    warned = True
                self.stopping.wait(1.0)

    def _next_task(self) -> Doc | None:
        try:
            if time.monotonic() >= self._next_sweep:
                self.queue.sweep()
                self._next_sweep = time.monotonic() + self.ctx.settings.lease_s / 2
            return self.queue.claim()
        except PyMongoError as exc:
            log.warning("MongoDB unreachable (%s); waiting for it before claiming work", type(exc).__name__)
            self._until_mongodb(lambda: self.ctx.db.command("ping"), "waiting to claim")
            log.info("MongoDB reachable again")
            return None

    def _beat_loop(self) -> None:
        outage = False
        alive = health_file()
        while not self.stopping.is_set():
            with contextlib.suppress(OSError):  # the health check reads its age; a read-only /tmp only costs that
                alive.touch()
            try:
                with self._beat_lock:
                    task = self.current
                    if task is not None and not self.queue.extend(task):
                        self._lost_id = task["_id"]
                    self.queue.beat(task["_id"] if task else None, self.frames_per_second)
                if outage:
                    log.info("heartbeat: MongoDB reachable again")
                    outage = False
            except PyMongoError as exc:
                # The task keeps running; its lease decides who owns it when MongoDB returns.
                if not outage:
                    log.warning("heartbeat: MongoDB unreachable (%s); the task goes on meanwhile", type(exc).__name__)
                    outage = True
            self.stopping.wait(self.ctx.settings.heartbeat_s)

    # ------------------------------------------------------------ one task

    def _mark_running(self, task: Doc) -> None:
        if task["kind"] not in STAGES:
            return  # an export belongs to no analysis job (worker/export.py)
        now = utcnow()
        db = self.ctx.db
        set_: Doc = {"state": "running", "updatedAt": now}
        if task["kind"] != "segment" or task["seq"] == 1:
            set_["stage"] = STAGES[task["kind"]]
        db["jobs"].update_one({"_id": task["jobId"], "state": {"$in": ["queued", "running"]}}, {"$set": set_})
        db["jobs"].update_one({"_id": task["jobId"], "startedAt": None}, {"$set": {"startedAt": now}})
        db["videos"].update_one({"_id": task["videoId"], "status": "queued"}, {"$set": {"status": "running"}})

    def handle(self, task: Doc) -> str:
        """Run one claimed task to its end; returns the outcome word logged for it."""
        with self._beat_lock:
            self.current = task
            # A new hold: a loss the heartbeat noted for an earlier hold of this same task (handed back in an
            # outage, then claimed again at once) is over. Kept, it stopped every new hold at its first frame and
            # left it running until the sweep took it back: five times, and the job failed.
            self._lost_id = None
            with contextlib.suppress(PyMongoError):  # the workers view names the task now, not at the next beat
                self.queue.beat(task["_id"], self.frames_per_second)
        started = time.perf_counter()
        where = f"{task['kind']}" + (
            f" [{task.get('frameStart')}, {task.get('frameEnd')})" if task["kind"] == "segment" else ""
        )
        detail = ""
        try:
            self._mark_running(task)
            result = {**RUNNERS[task["kind"]](self.ctx, task, self.should_stop), "worker": self.queue.worker_id}
            if self._is_lost(task) or result.get("abandoned") or not self.queue.complete(task, result):
                outcome = "lost (cancelled or taken back); nothing more written"
                self._cleanup(task)
            else:
                outcome = "done"
                fps = result.get("framesPerSecond")
                if fps:
                    old = self.frames_per_second
                    self.frames_per_second = fps if old is None else round(0.7 * old + 0.3 * fps, 2)
                detail = f" ({result['frames']} frames)" if "frames" in result else ""
        except Stopped:
            if self.stopping.is_set() and not self._is_lost(task):
                outcome = "released (worker stopping)" if self._release(task) else "lost while stopping"
            else:
                outcome = "cancelled"
                self._cleanup(task)
        except VideoGone as exc:
            outcome = f"cancelled ({exc})"
            self._cleanup(task)
        except InputError as exc:
            if exc.permanent:
                task = {**task, "attempts": self.ctx.settings.max_attempts - 1}
            outcome = f"{self._fail(task, exc.kind, exc.detail)} ({exc.kind}: {exc.detail})"
        except PyMongoError as exc:
            # Infrastructure, not the video: wait for MongoDB, then hand the task back if it is still ours.
            log.warning("task %s: MongoDB unreachable (%s); waiting for it", task["_id"], type(exc).__name__)
            self._until_mongodb(lambda: self.ctx.db.command("ping"), "finishing a task")
            outcome = "released (MongoDB outage)" if self._release(task) else "lost in a MongoDB outage"
        except Exception as exc:  # a bug or an unforeseen decoder error: counts as an attempt, kind internal
            log.exception("task %s failed unexpectedly", task["_id"])
            outcome = f"{self._fail(task, 'internal', f'{type(exc).__name__}: {exc}')} (internal)"
        finally:
            # The workers view shows this worker idle now, not at its next heartbeat (which writes it otherwise).
            with self._beat_lock:
                self.current = None
                with contextlib.suppress(PyMongoError):
                    self.queue.beat(None, self.frames_per_second)
        log.info(
            "task %s %s job %s: %s in %.2f s%s",
            task["_id"],
            where,
            task["jobId"],
            outcome,
            time.perf_counter() - started,
            detail,
        )
        return outcome

    def _fail(self, task: Doc, kind: str, detail: str) -> str:
        try:
            return self._until_mongodb(lambda: self.queue.fail(task, kind, detail), "recording a failure")
        except PyMongoError:
            return "unrecorded (stopping)"

    def _release(self, task: Doc) -> bool:
        try:
            return bool(self._until_mongodb(lambda: self.queue.release(task), "handing a task back"))
        except PyMongoError:
            return False  # stopping while MongoDB is away: the lease expires and the sweep hands it back

    def _cleanup(self, task: Doc) -> None:
        try:
            self.ctx.remove_results(task["videoId"])
        except PyMongoError as exc:
            log.warning("cleanup after video %s left for later (%s)", task["videoId"], type(exc).__name__)
