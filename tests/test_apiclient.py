"""snowstack.apiclient over real HTTP: sign-in, the cookie, the CSRF header, and one-line errors.

The server here is a test double of the API's session contract (docs/contracts.md, "Accounts"), small enough to
read in one screen; the real API is signed in to by tests/test_users.py and `invoke verify` (test_stack_e2e.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from snowstack.apiclient import CSRF_HEADER, SESSION_COOKIE, ApiClient, ApiError, NoSignInError, admin_credentials, sign_in_as_admin

TOKEN, CSRF = "s3ss10n", "csrf-123"


@dataclass
class FakeApi:
    """What the double answers (`mode`) and what it saw (method, path, headers of every request)."""

    mode: str = "accounts"  # accounts | legacy (no /api/session) | disabled (AUTH_DISABLED) | throttled
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    url: str = ""


def handler_for(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            api.seen.append((self.command, self.path, dict(self.headers)))
            signed_in = f"{SESSION_COOKIE}={TOKEN}" in (self.headers.get("Cookie") or "")
            session = {"user": {"id": "u1", "username": "admin", "role": "admin", "riders": []}, "csrfToken": CSRF}
            if api.mode == "legacy":
                return self.answer(404, {"error": "not_found", "detail": f"no route for {self.command} {self.path}"})
            if (self.command, self.path) == ("POST", "/api/session"):
                if api.mode == "throttled":
                    return self.answer(429, {"error": "too_many_attempts", "detail": "too many sign-in attempts"}, {"Retry-After": "60"})
                if api.mode == "disabled":  # the local admin, whatever the password
                    return self.answer(200, {**session, "user": {**session["user"], "username": "local"}, "authDisabled": True})
                if body == {"username": "admin", "password": "right"}:
                    cookie = f"{SESSION_COOKIE}={TOKEN}; HttpOnly; SameSite=Lax; Path=/"
                    return self.answer(200, {**session, "authDisabled": False}, {"Set-Cookie": cookie})
                return self.answer(401, {"error": "invalid_credentials", "detail": "wrong username or password"})
            if (self.command, self.path) == ("GET", "/api/session"):
                if api.mode == "disabled":
                    return self.answer(200, {**session, "user": {**session["user"], "username": "local"}, "authDisabled": True})
                return self.answer(200, {**session, "authDisabled": False}) if signed_in else self.answer(401, {"error": "unauthenticated"})
            if (self.command, self.path) == ("DELETE", "/api/session"):
                return self.answer(204, None, {"Set-Cookie": f"{SESSION_COOKIE}=; Max-Age=0; Path=/"})
            if not signed_in and api.mode != "disabled":
                return self.answer(401, {"error": "unauthenticated", "detail": "sign in first"})
            if self.command != "GET" and self.headers.get(CSRF_HEADER) != CSRF:
                return self.answer(403, {"error": "csrf_failed", "detail": "missing or wrong X-CSRF-Token"})
            if self.path == "/api/conflict":
                return self.answer(409, {"error": "owns_videos", "detail": "bob owns 2 videos"})
            if self.path == "/api/text":
                self.send_response(502)
                self.end_headers()
                self.wfile.write(b"Bad Gateway from the proxy")
                return None
            return self.answer(201 if self.command == "POST" else 200, {"ok": True})

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    return Handler


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def test_a_signed_in_client_sends_the_cookie_always_and_the_csrf_token_on_state_changes_only(api: FakeApi) -> None:
    client = ApiClient.sign_in(api.url, "admin", "right")
    assert client.csrf_token == CSRF and client.user and client.user["username"] == "admin" and not client.auth_disabled
    assert client.get("/api/videos").status_code == 200
    assert client.post("/api/videos", json={}).status_code == 201
    assert client.delete(f"{api.url}/api/videos/v1").status_code == 200  # an absolute URL of the same API
    read, posted, deleted = (headers for _, _, headers in api.seen[1:4])
    assert f"{SESSION_COOKIE}={TOKEN}" in read["Cookie"] and CSRF_HEADER not in read
    assert posted[CSRF_HEADER] == CSRF and deleted[CSRF_HEADER] == CSRF
    # Anonymous, or a forged request with the cookie but no token: what the API must refuse.
    assert ApiClient(api.url).get("/api/videos").status_code == 401
    assert ApiClient(api.url).post("/api/videos", cookies=client.cookies).status_code == 403


def test_the_csrf_token_never_goes_to_another_origin(api: FakeApi) -> None:
    client = ApiClient.sign_in(api.url, "admin", "right")
    client.post(api.url.replace("127.0.0.1", "localhost") + "/api/elsewhere")
    assert api.seen[-1][1] == "/api/elsewhere" and CSRF_HEADER not in api.seen[-1][2]


def test_a_wrong_password_is_one_line_ending_with_the_hint(api: FakeApi) -> None:
    with pytest.raises(ApiError) as raised:
        ApiClient.sign_in(api.url, "admin", "wrong", hint="check ADMIN_PASSWORD in backend/.env")
    assert str(raised.value) == (
        "sign-in as admin failed: wrong username or password (HTTP 401 invalid_credentials); check ADMIN_PASSWORD in backend/.env"
    )
    assert raised.value.status == 401 and raised.value.code == "invalid_credentials"


def test_admin_sign_in_reads_the_env_and_names_its_file(api: FakeApi) -> None:
    client = sign_in_as_admin(api.url, {"ADMIN_PASSWORD": "right"}, "backend/.env")  # ADMIN_USERNAME defaults to admin
    assert client.user and client.user["username"] == "admin"
    with pytest.raises(ApiError, match=r"failed: .*; check ADMIN_PASSWORD in /x/.env$"):
        sign_in_as_admin(api.url, {"ADMIN_USERNAME": "admin", "ADMIN_PASSWORD": "stale"}, "/x/.env")
    with pytest.raises(ApiError, match=r"^ADMIN_PASSWORD is missing from /x/.env: `SNOWSTACK_PROJECT=t invoke up` adds it"):
        admin_credentials({"ADMIN_USERNAME": "admin"}, "/x/.env", "SNOWSTACK_PROJECT=t invoke")


def test_throttled_sign_in_says_when_to_try_again(api: FakeApi) -> None:
    api.mode = "throttled"
    refused = r"^sign-in as admin refused: too many sign-in attempts \(HTTP 429 too_many_attempts\); try again in 60 s$"
    with pytest.raises(ApiError, match=refused):
        ApiClient.sign_in(api.url, "admin", "right", hint="never shown for 429")


def test_an_api_from_before_accounts_is_told_apart(api: FakeApi) -> None:
    api.mode = "legacy"
    with pytest.raises(NoSignInError, match="has no /api/session: it was built before accounts existed"):
        ApiClient.sign_in(api.url, "admin", "right")


def test_with_sign_in_turned_off_the_local_session_is_used(api: FakeApi) -> None:
    api.mode = "disabled"
    client = ApiClient.sign_in(api.url, "admin", "whatever")
    assert client.auth_disabled and client.user and client.user["username"] == "local"
    assert client.post("/api/videos").status_code == 201  # its CSRF token is sent


def test_an_unreachable_api_is_one_line() -> None:
    unreachable = r"^sign-in as admin: cannot reach the API at http://127.0.0.1:9 \(ConnectionError\): is the stack up\?$"
    with pytest.raises(ApiError, match=unreachable):
        ApiClient.sign_in("http://127.0.0.1:9/", "admin", "x", timeout=2)


def test_call_checks_the_status_and_quotes_the_apis_error(api: FakeApi) -> None:
    client = ApiClient.sign_in(api.url, "admin", "right")
    assert client.call("POST", "/api/things", expect=(200, 201)).json() == {"ok": True}
    with pytest.raises(ApiError) as raised:
        client.call("DELETE", "/api/conflict", expect=204, what="removing bob")
    assert str(raised.value) == "removing bob: bob owns 2 videos (HTTP 409 owns_videos)"
    assert (raised.value.status, raised.value.code) == (409, "owns_videos")
    with pytest.raises(ApiError, match=r"^GET /api/text: Bad Gateway from the proxy \(HTTP 502\)$"):
        client.call("GET", "/api/text")
    client.sign_out()
    assert client.csrf_token is None and api.seen[-1][:2] == ("DELETE", "/api/session")
