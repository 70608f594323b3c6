"""The shared HTTP poll (snowstack/probe.py) against a real server on loopback: it asks until the answer is accepted,
asks again after a refused connection, stops at once on a finding and names the URL and last answer at the deadline."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from snowstack.probe import ProbeTimeout, poll, wait_for_answer


@pytest.fixture
def warming() -> Iterator[tuple[str, list[str]]]:
    """/ready answers 503 twice, then 200; returns (base URL, the paths asked)."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200 if len(asked) > 2 else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def test_it_asks_until_the_answer_is_accepted(warming: tuple[str, list[str]]) -> None:
    base, asked = warming
    answer = wait_for_answer(f"{base}/ready", lambda r: r.status_code == 200, 10, interval_s=0.01)
    assert answer.response.status_code == 200 and asked == ["/ready"] * 3 and 0 < answer.seconds < 10


def test_the_deadline_names_the_url_and_the_last_answer(warming: tuple[str, list[str]]) -> None:
    base, _ = warming
    with pytest.raises(ProbeTimeout, match=r"/ready did not answer as expected within 0.5s \(last: HTTP 200\)$"):
        poll(f"{base}/ready", lambda r: r.status_code == 418, 0.5, interval=0.05)


def test_a_refused_connection_is_asked_again_until_the_deadline() -> None:
    with pytest.raises(ProbeTimeout, match=r"\(last: ConnectionError\)$"):
        poll("http://127.0.0.1:9/ready", lambda r: True, 0.3, interval=0.05)


def test_a_finding_raised_by_accept_ends_the_wait_at_once(warming: tuple[str, list[str]]) -> None:
    base, asked = warming

    def refuse(response: requests.Response) -> bool:
        raise ValueError(f"HTTP {response.status_code} is final")

    with pytest.raises(ValueError, match="HTTP 503 is final"):
        poll(f"{base}/ready", refuse, 10)
    assert asked == ["/ready"]
