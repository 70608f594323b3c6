"""verify's wait for an analysis job: polls until done or failed, and names the job's last state at the deadline."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from snowstack import verify
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
