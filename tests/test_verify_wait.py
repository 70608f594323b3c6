"""verify's wait for an analysis job (polls until done or failed, names the job's last state at the deadline), and its
sign-in: a refused password is not retried."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from snowstack import verify
from snowstack.report import Status
from snowstack.verify import VerifyFailure


class JobApi:
    """A real HTTP server on loopback whose GET /api/jobs/ID answers `states` in turn (the last one forever)."""

    def __init__(self, states: list[str]) -> None:
        self.asked: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.asked.append(self.path)
                body = json.dumps({"state": states[min(len(api.asked), len(states)) - 1]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def job_api() -> Iterator[Callable[[list[str]], JobApi]]:
    servers: list[JobApi] = []

    def start(states: list[str]) -> JobApi:
        servers.append(JobApi(states))
        return servers[-1]

    yield start
    for api in servers:
        api.server.shutdown()
        api.server.server_close()


def test_waiting_for_a_job_polls_until_it_is_done(job_api: Callable[[list[str]], JobApi]) -> None:
    api = job_api(["queued", "running", "done"])
    seen: list[dict[str, Any]] = []
    assert verify._wait_for_job(api.url, "j1", deadline_s=30, seen=seen)["state"] == "done"
    assert api.asked == ["/api/jobs/j1"] * 3 and [job["state"] for job in seen] == ["queued", "running", "done"]


def test_a_failed_job_ends_the_wait_with_its_state(job_api: Callable[[list[str]], JobApi]) -> None:
    assert verify._wait_for_job(job_api(["running", "failed"]).url, "j1", deadline_s=30)["state"] == "failed"


def test_a_job_still_running_at_the_deadline_fails_naming_its_state(job_api: Callable[[list[str]], JobApi]) -> None:
    api = job_api(["running"])
    with pytest.raises(VerifyFailure, match=r"^job j1 still running after 1s$"):
        verify._wait_for_job(api.url, "j1", deadline_s=1)
    assert 2 <= len(api.asked) <= 4  # every 0.5 s


def test_an_api_that_never_answers_fails_the_wait_naming_the_url() -> None:
    with pytest.raises(
        VerifyFailure, match=r"^http://127.0.0.1:9/api/jobs/j1 did not answer as expected within 1s \(last: ConnectionError\)$"
    ):
        verify._wait_for_job("http://127.0.0.1:9", "j1", deadline_s=1)


def test_a_refused_sign_in_fails_the_check_at_once_instead_of_retrying_into_the_rate_limit() -> None:
    calls: list[float] = []

    def refused(target: verify.VerifyTarget, service: str) -> str:
        calls.append(time.perf_counter())
        raise verify.FinalFailure("sign-in as admin failed: wrong username or password (HTTP 401 invalid_credentials)")

    def flaky(target: verify.VerifyTarget, service: str) -> str:
        calls.append(time.perf_counter())
        if len(calls) < 3:
            raise VerifyFailure("not up yet")
        return "up"

    target = verify.VerifyTarget(urls={}, env={}, expect_gpu=False)
    check = verify.run_check("backend-api", refused, target, deadline_s=30)
    assert check.status is Status.FAIL and len(calls) == 1 and check.detail.startswith("sign-in as admin failed")
    calls.clear()
    assert verify.run_check("backend-api", flaky, target, deadline_s=30).status is Status.OK and len(calls) == 3


def test_sign_in_failures_are_final_except_while_the_api_is_not_answering() -> None:
    target = verify.VerifyTarget(urls={}, env={"ADMIN_PASSWORD": "x"}, expect_gpu=False, env_file=".env")
    with pytest.raises(VerifyFailure) as unreachable:
        verify._sign_in(target, "http://127.0.0.1:9")
    assert type(unreachable.value) is VerifyFailure  # retried: the API may still be starting
    with pytest.raises(verify.FinalFailure, match=r"^ADMIN_PASSWORD is missing from \.env"):
        verify._sign_in(verify.VerifyTarget(urls={}, env={}, expect_gpu=False, env_file=".env"), "http://127.0.0.1:9")
