"""verify's wait for an analysis job (polls until done or failed, names the job's last state at the deadline), and its
sign-in: a refused password is not retried."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from snowstack import verify
from snowstack.report import Status
from snowstack.verify import VerifyFailure


def answers(monkeypatch: pytest.MonkeyPatch, states: list[str]) -> list[str]:
    """Make GET /api/jobs/ID answer these states in turn (the last one forever); returns the URLs asked."""
    asked: list[str] = []

    def get(url: str, **_: Any) -> requests.Response:
        asked.append(url)
        response = requests.Response()
        response.status_code = 200
        response._content = f'{{"state": "{states[min(len(asked), len(states)) - 1]}"}}'.encode()
        return response

    monkeypatch.setattr(verify, "_get", get)
    return asked


def test_waiting_for_a_job_polls_until_it_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = answers(monkeypatch, ["queued", "running", "done"])
    assert verify._wait_for_job("http://api", "j1", deadline_s=30)["state"] == "done"
    assert asked == ["http://api/api/jobs/j1"] * 3


def test_a_failed_job_ends_the_wait_with_its_state(monkeypatch: pytest.MonkeyPatch) -> None:
    answers(monkeypatch, ["running", "failed"])
    assert verify._wait_for_job("http://api", "j1", deadline_s=30)["state"] == "failed"


def test_a_job_still_running_at_the_deadline_fails_naming_its_state(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = answers(monkeypatch, ["running"])
    with pytest.raises(VerifyFailure, match=r"^job j1 still running after 1s$"):
        verify._wait_for_job("http://api", "j1", deadline_s=1)
    assert 2 <= len(asked) <= 4  # every 0.5 s


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
