"""Asking an HTTP endpoint until its answer is the one wanted: verify's job wait and the bench's readiness and sync
probes poll through here, so a transport error, the pace and the timeout mean the same everywhere (tenacity)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, retry_if_result, stop_after_delay, wait_fixed

from .errors import SnowstackError

PROBE_TIMEOUT_S = 2.0  # one GET; a slower answer counts as none and is asked again


class ProbeTimeout(SnowstackError):
    """No accepted answer before the deadline; the message names the URL and the last thing it answered."""


@dataclass(frozen=True)
class ProbeAnswer:
    seconds: float  # from the first GET to the accepted answer
    response: requests.Response


def wait_for_answer(
    url: str,
    accept: Callable[[requests.Response], bool],
    timeout_s: float,
    *,
    interval_s: float,
    session: requests.Session | None = None,
    request_timeout_s: float = PROBE_TIMEOUT_S,
) -> ProbeAnswer:
    """GET `url` every `interval_s` until `accept(response)`; a refused or dropped connection is asked again.

    An exception `accept` raises (a finding that waiting cannot change) ends the wait at once. Raises ProbeTimeout
    after `timeout_s`. `session`: a signed-in one; otherwise a fresh session (one connection, kept alive)."""
    started = time.perf_counter()
    last: list[str] = ["no answer"]

    def get(client: requests.Session) -> requests.Response:
        try:
            response = client.get(url, timeout=request_timeout_s)
        except requests.RequestException as error:
            last[0] = type(error).__name__
            raise
        last[0] = f"HTTP {response.status_code}"
        return response

    def give_up(state: RetryCallState) -> requests.Response:
        raise ProbeTimeout(f"{url} did not answer as expected within {timeout_s:g}s (last: {last[0]})")

    retrying = Retrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(interval_s),
        retry=retry_if_exception_type(requests.RequestException) | retry_if_result(lambda response: not accept(response)),
        retry_error_callback=give_up,
    )
    if session is not None:
        response = retrying(get, session)
    else:
        with requests.Session() as own:
            response = retrying(get, own)
    return ProbeAnswer(time.perf_counter() - started, response)


def poll(url: str, accept: Callable[[requests.Response], bool], timeout: float, interval: float = 0.02) -> float:
    """Seconds until a GET of `url` is accepted (the bench's timings); raises ProbeTimeout after `timeout`."""
    return wait_for_answer(url, accept, timeout, interval_s=interval).seconds
