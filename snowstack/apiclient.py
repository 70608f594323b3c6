"""The one way Python talks to the API as a user: sign in over HTTP, keep the session cookie, send the CSRF token.

Every Python client of the API (the `user` and `verify` tasks, the whole-stack tests, the user-stack guard) signs
in here, so the session contract of docs/contracts.md ("Accounts") is written once on this side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import requests

from .errors import SnowstackError

SESSION_COOKIE = "sb_session"
CSRF_HEADER = "X-CSRF-Token"
# Every state-changing method needs the session's CSRF token (the API answers 403 csrf_failed without it).
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_ADMIN = "admin"  # ADMIN_USERNAME's default, in .env.example and the compose file
TIMEOUT_S = 10.0
UNREACHABLE = "unreachable"  # ApiError.code when no answer came (connection refused, timeout)


class ApiError(SnowstackError):
    """The API refused a request or did not answer: one line naming the request, the answer and what to do."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class NoSignInError(ApiError):
    """The API has no `/api/session`: it was built before accounts existed (nothing to sign in to)."""


def error_of(response: requests.Response) -> tuple[str | None, str]:
    """The API's `{"error": code, "detail": message}` of a response; (None, the start of the body) for anything else."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:160].strip() or response.reason or ""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"], str(body.get("detail") or body["error"])
    return None, response.text[:160].strip()


def describe(response: requests.Response) -> str:
    """`detail (HTTP 409 owns_videos)`: how an error answer reads in a message."""
    code, detail = error_of(response)
    return f"{detail} (HTTP {response.status_code}{' ' + code if code else ''})"


def unreachable(base_url: str, error: Exception) -> str:
    return f"cannot reach the API at {base_url} ({type(error).__name__}): is the stack up?"


class ApiClient(requests.Session):
    """A `requests.Session` bound to one API: relative paths resolve against `base_url`, every call has a timeout,
    and state-changing calls carry the CSRF token of the session it signed in with.

    `ApiClient(base_url)` is anonymous (for probing what the API refuses); `ApiClient.sign_in(...)` signs in.
    """

    def __init__(self, base_url: str, timeout: float = TIMEOUT_S) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.csrf_token: str | None = None
        self.user: dict[str, Any] | None = None
        self.auth_disabled = False

    @classmethod
    def sign_in(cls, base_url: str, username: str, password: str, *, hint: str = "", timeout: float = TIMEOUT_S) -> ApiClient:
        """A client signed in as `username` (`POST /api/session`); `hint` ends the error line when the password is refused.

        With sign-in turned off (AUTH_DISABLED on a loopback stack) the API answers with its local admin instead.
        """
        client = cls(base_url, timeout)
        what = f"sign-in as {username}"
        try:
            response = client.post("/api/session", json={"username": username, "password": password})
        except requests.RequestException as error:
            raise ApiError(f"{what}: {unreachable(client.base_url, error)}", code=UNREACHABLE) from None
        if response.status_code == 200:
            client._adopt(response.json())
            return client
        code, _ = error_of(response)
        if response.status_code == 404 and code in (None, "not_found"):
            raise NoSignInError(f"{what}: the API at {client.base_url} has no /api/session: it was built before accounts existed", 404)
        if response.status_code == 429:
            wait = response.headers.get("Retry-After")
            raise ApiError(f"{what} refused: {describe(response)}{f'; try again in {wait} s' if wait else ''}", 429, code)
        ending = f"; {hint}" if hint and response.status_code == 401 else ""
        raise ApiError(f"{what} failed: {describe(response)}{ending}", response.status_code, code)

    def _adopt(self, session: Mapping[str, Any]) -> None:
        self.csrf_token = str(session["csrfToken"])
        self.user = dict(session["user"])
        self.auth_disabled = bool(session.get("authDisabled"))

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """`requests.Session.request` with the base URL, a default timeout and the CSRF header on unsafe methods."""
        method = method.decode() if isinstance(method, bytes) else method
        url = url.decode() if isinstance(url, bytes) else url
        if url.startswith("/"):
            url = self.base_url + url
        if method.upper() in UNSAFE_METHODS and self.csrf_token and url.startswith(self.base_url + "/"):
            kwargs["headers"] = {CSRF_HEADER: self.csrf_token, **(kwargs.get("headers") or {})}
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)

    def call(self, method: str, path: str, *, expect: int | Iterable[int] = 200, what: str = "", **kwargs: Any) -> requests.Response:
        """One request whose answer must have an `expect`ed status; anything else is an ApiError naming it."""
        wanted = {expect} if isinstance(expect, int) else set(expect)
        label = what or f"{method} {path}"
        try:
            response = self.request(method, path, **kwargs)
        except requests.RequestException as error:
            raise ApiError(f"{label}: {unreachable(self.base_url, error)}", code=UNREACHABLE) from None
        if response.status_code not in wanted:
            code, _ = error_of(response)
            raise ApiError(f"{label}: {describe(response)}", response.status_code, code)
        return response

    def sign_out(self) -> None:
        """End this session on the server (`DELETE /api/session`); the cookie is cleared."""
        self.call("DELETE", "/api/session", expect=(204, 401), what="sign-out")
        self.csrf_token, self.user = None, None


def admin_credentials(env: Mapping[str, str], env_file: Path | str, invoke: str = "invoke") -> tuple[str, str]:
    """(ADMIN_USERNAME, ADMIN_PASSWORD) of a project's `.env`; one actionable line when the password is not there."""
    password = env.get("ADMIN_PASSWORD", "")
    if not password:
        raise ApiError(f"ADMIN_PASSWORD is missing from {env_file}: `{invoke} up` adds it (the stack predates accounts)")
    return env.get("ADMIN_USERNAME") or DEFAULT_ADMIN, password


def sign_in_as_admin(base_url: str, env: Mapping[str, str], env_file: Path | str, invoke: str = "invoke") -> ApiClient:
    """A client signed in as the project's first admin, with the credentials `invoke up` keeps in its `.env`."""
    username, password = admin_credentials(env, env_file, invoke)
    return ApiClient.sign_in(base_url, username, password, hint=f"check ADMIN_PASSWORD in {env_file}")
