"""The work queue on MongoDB: claim with one findOneAndUpdate, a lease kept alive by heartbeats, a sweep that
puts the tasks of dead workers back, and the failure rules (input failures spend attempts, nothing else does).

Hand-written on purpose (docs/contracts.md says why): MongoDB's atomic findOneAndUpdate is the whole primitive.
Every write that ends a task is conditional on this worker still holding it, so a task taken back by the sweep
or deleted by the API (a cancelled video) is never overwritten by a late worker.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta, timezone
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, OperationFailure

from .settings import WorkerSettings

log = logging.getLogger(__name__)

Doc = dict[str, Any]

# What the sweep writes when a task's workers keep dying on it (the rider reads errorKind "internal").
LOST_TOO_OFTEN = "the analysis worker stopped repeatedly on this part"


def utcnow() -> datetime:
    # MongoDB stores milliseconds: round here so a value read back compares equal to the one written.
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def retry_delay_s(backoff_s: float, attempts: int) -> float:
    """Exponential backoff after the attempts-th failure caused by the input (pure): b, 2b, 4b, … capped at 5 min."""
    return min(300.0, backoff_s * 2 ** max(0, attempts - 1))


def queued_task(task_of: Doc, kind: str, seq: int, now: datetime, **fields: Any) -> Doc:
    """A new queued task of the same job as `task_of` (its jobId, videoId and priority): the `tasks` shape of
    docs/contracts.md, written in one place for the ingest, the segments and the finish."""
    return {
        "jobId": task_of["jobId"],
        "videoId": task_of["videoId"],
        "kind": kind,
        "seq": seq,
        "state": "queued",
        "priority": task_of["priority"],
        **fields,
        "attempts": 0,
        "lost": 0,
        "runAfter": now,
        "workerId": None,
        "leaseUntil": None,
        "heartbeatAt": None,
        "errorKind": None,
        "errorDetail": None,
        "result": None,
        "createdAt": now,
        "updatedAt": now,
        "finishedAt": None,
    }


class TaskQueue:
    """One worker's handle on the `tasks`, `jobs` and `workers` collections."""

    def __init__(self, db: Database, settings: WorkerSettings, worker_id: str | None = None):
        self.db = db
        self.settings = settings
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{ObjectId()}"
        self.tasks = db["tasks"]
        self.jobs = db["jobs"]
        self.workers = db["workers"]

    # ------------------------------------------------------------ set-up and presence

    def ensure_indexes(self) -> None:
        """The indexes the claim, the sweep and the idempotent inserts rely on (the API creates the same ones)."""
        specs: list[tuple[Any, list[tuple[str, int]], dict[str, Any]]] = [
            (self.tasks, [("state", 1), ("runAfter", 1), ("priority", 1), ("seq", 1)], {}),
            (self.tasks, [("state", 1), ("leaseUntil", 1)], {}),
            (self.tasks, [("jobId", 1), ("kind", 1), ("seq", 1)], {"unique": True}),
            (self.tasks, [("videoId", 1)], {}),
            (self.workers, [("heartbeatAt", 1)], {}),
            (self.db["metric_series"], [("videoId", 1), ("chunk", 1)], {"unique": True}),
            (self.db["pose_frames"], [("videoId", 1), ("chunk", 1)], {"unique": True}),
        ]
        for coll, keys, opts in specs:
            try:
                coll.create_index([(k, ASCENDING if d == 1 else d) for k, d in keys], **opts)
            except OperationFailure as exc:  # the same keys created elsewhere under another name: fine
                log.info("index %s on %s left as it is: %s", keys, coll.name, exc)

    def register(self, info: Doc) -> None:
        now = utcnow()
        self.workers.replace_one(
            {"_id": self.worker_id},
            {**info, "startedAt": now, "heartbeatAt": now, "taskId": None, "framesPerSecond": None},
            upsert=True,
        )

    def beat(self, task_id: ObjectId | None, frames_per_second: float | None) -> None:
        """The worker's own heartbeat (upsert: a worker document removed by mistake comes back)."""
        self.workers.update_one(
            {"_id": self.worker_id},
            {"$set": {"heartbeatAt": utcnow(), "taskId": task_id, "framesPerSecond": frames_per_second}},
            upsert=True,
        )

    def unregister(self) -> None:
        self.workers.delete_one({"_id": self.worker_id})

    def live_workers(self) -> int:
        since = utcnow() - timedelta(seconds=self.settings.live_s)
        return self.workers.count_documents({"heartbeatAt": {"$gt": since}})

    # ------------------------------------------------------------ one task's life

    def claim(self) -> Doc | None:
        """Atomically take the first claimable queued task (FIFO across jobs, ingest → segments → finish)."""
        now = utcnow()
        return self.tasks.find_one_and_update(
            {"state": "queued", "runAfter": {"$lte": now}},
            {
                "$set": {
                    "state": "running",
                    "workerId": self.worker_id,
                    "heartbeatAt": now,
                    "updatedAt": now,
                    "leaseUntil": now + timedelta(seconds=self.settings.lease_s),
                }
            },
            sort=[("priority", ASCENDING), ("seq", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    def _owned(self, task: Doc) -> Doc:
        return {"_id": task["_id"], "state": "running", "workerId": self.worker_id}

    def extend(self, task: Doc) -> bool:
        """Heartbeat: push the lease on; False when the task is no longer ours (deleted = cancelled, or taken back)."""
        now = utcnow()
        res = self.tasks.update_one(
            self._owned(task),
            {"$set": {"heartbeatAt": now, "leaseUntil": now + timedelta(seconds=self.settings.lease_s)}},
        )
        return res.matched_count == 1

    def still_ours(self, task: Doc) -> bool:
        return self.tasks.count_documents(self._owned(task), limit=1) == 1

    def complete(self, task: Doc, result: Doc) -> bool:
        now = utcnow()
        res = self.tasks.update_one(
            self._owned(task),
            {
                "$set": {
                    "state": "done",
                    "result": result,
                    "finishedAt": now,
                    "updatedAt": now,
                    "workerId": None,
                    "leaseUntil": None,
                    "errorKind": None,
                    "errorDetail": None,
                }
            },
        )
        return res.matched_count == 1

    def release(self, task: Doc) -> bool:
        """Back to queued at once, no attempt spent (this worker is shutting down or lost MongoDB for a while)."""
        now = utcnow()
        res = self.tasks.update_one(
            self._owned(task),
            {"$set": {"state": "queued", "workerId": None, "leaseUntil": None, "runAfter": now, "updatedAt": now}},
        )
        return res.matched_count == 1

    def fail(self, task: Doc, kind: str, detail: str) -> str:
        """A failure caused by the input: spend an attempt; queued again after a backoff, or failed (with its job)."""
        attempts = int(task.get("attempts") or 0) + 1
        now = utcnow()
        final = attempts >= self.settings.max_attempts
        set_: Doc = {
            "attempts": attempts,
            "errorKind": kind,
            "errorDetail": detail,
            "workerId": None,
            "leaseUntil": None,
            "updatedAt": now,
        }
        if final:
            set_ |= {"state": "failed", "finishedAt": now}
        else:
            set_ |= {
                "state": "queued",
                "runAfter": now + timedelta(seconds=retry_delay_s(self.settings.backoff_s, attempts)),
            }
        if self.tasks.update_one(self._owned(task), {"$set": set_}).matched_count == 0:
            return "gone"
        self.jobs.update_one(
            {"_id": task["jobId"]}, {"$inc": {"attempts": 1}, "$set": {"errorDetail": detail, "updatedAt": now}}
        )
        if final:
            self.fail_job(task, kind, f"{detail} (attempt {attempts} of {self.settings.max_attempts})")
            return "failed"
        return "queued"

    def fail_job(self, task: Doc, kind: str, detail: str) -> None:
        """The job fails with the task; its other unfinished tasks are withdrawn (their workers stop)."""
        now = utcnow()
        res = self.jobs.update_one(
            {"_id": task["jobId"], "state": {"$in": ["queued", "running"]}},
            {
                "$set": {
                    "state": "failed",
                    "errorKind": kind,
                    "errorDetail": detail,
                    "finishedAt": now,
                    "updatedAt": now,
                }
            },
        )
        self.tasks.delete_many(
            {"jobId": task["jobId"], "state": {"$in": ["queued", "running"]}, "_id": {"$ne": task["_id"]}}
        )
        if res.matched_count:
            self.db["videos"].update_one({"_id": task["videoId"]}, {"$set": {"status": "failed"}})

    def insert_once(self, doc: Doc) -> bool:
        """Insert a task unless (jobId, kind, seq) exists (a redone task inserts its successors again)."""
        try:
            self.tasks.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    # ------------------------------------------------------------ recovery

    def sweep(self) -> int:
        """Expired leases → queued (lost += 1), or failed after max_lost; conditional on the lease we saw."""
        now = utcnow()
        moved = 0
        for task in self.tasks.find({"state": "running", "leaseUntil": {"$lt": now}}):
            lost = int(task.get("lost") or 0) + 1
            seen = {"_id": task["_id"], "state": "running", "leaseUntil": task["leaseUntil"]}
            if lost >= self.settings.max_lost:
                set_: Doc = {
                    "state": "failed",
                    "errorKind": "internal",
                    "errorDetail": LOST_TOO_OFTEN,
                    "finishedAt": now,
                }
            else:
                set_ = {"state": "queued", "runAfter": now}
            res = self.tasks.update_one(
                seen, {"$set": {**set_, "lost": lost, "workerId": None, "leaseUntil": None, "updatedAt": now}}
            )
            if res.modified_count == 1:
                moved += 1
                log.warning(
                    "task %s (%s %s of job %s): lease of %s expired -> %s (lost %d)",
                    task["_id"],
                    task["kind"],
                    task.get("seq"),
                    task["jobId"],
                    task.get("workerId"),
                    set_["state"],
                    lost,
                )
                if set_["state"] == "failed":
                    self.fail_job(task, "internal", LOST_TOO_OFTEN)
        return moved
