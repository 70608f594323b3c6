"""The guard's comparison and how it reads the user's API (scripts/test.sh runs the guard itself around the whole suite,
on the real engine; tests/test_users.py reads a real API with accounts through it)."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def load_guard() -> ModuleType:
    spec = importlib.util.spec_from_file_location("user_stack_guard", Path(__file__).with_name("user_stack_guard.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


guard = load_guard()
STATE: dict[str, Any] = {
    "project": "snowboarding",
    "containers": {"mongodb": {"id": "c1", "started_at": "t0", "status": "running", "restarts": 0}},
    "volumes": {"snowboarding_mongodb_data": "t0"},
    "network": True,
    "videos": {"v1": {"title": "run", "sha256": "aa", "status": "done", "file": "200:aa", "pose": "200:bb", "metrics": "200:cc"}},
}


def changed(edit: Any) -> list[str]:
    after = copy.deepcopy(STATE)
    edit(after)
    return guard.differences(STATE, after)


def test_an_untouched_stack_has_no_difference() -> None:
    assert guard.differences(STATE, copy.deepcopy(STATE)) == []


def test_every_kind_of_damage_is_named() -> None:
    assert changed(lambda s: s["containers"]["mongodb"].update(started_at="t1"))[0].startswith("container mongodb:")
    assert changed(lambda s: s["containers"].pop("mongodb"))[0].endswith("-> null")
    assert changed(lambda s: s["volumes"].clear()) == ['volume snowboarding_mongodb_data: "t0" -> null']
    assert changed(lambda s: s.update(network=False)) == ["network: removed"]
    assert changed(lambda s: s.update(videos=None)) == ["the API no longer answers", *changed(lambda s: s.update(videos={}))]
    assert changed(lambda s: s["videos"]["v1"].update(file="200:ff"))[0].startswith("video v1:")


# --- reading the user's API: a stack from before accounts, and one that asks for a sign-in ------------------


class LegacyApi(BaseHTTPRequestHandler):
    """A test double of the API as it was before accounts (no /api/session, everything anonymous), or with
    `ACCOUNTS` set, one that refuses every anonymous request: enough of both to list and hash one video."""

    ACCOUNTS = False

    def log_message(self, *args: Any) -> None:
        pass

    def reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.ACCOUNTS:
            return self.reply(401, b'{"error": "unauthenticated", "detail": "sign in first"}')
        if self.path.startswith("/api/videos?"):
            video = {"id": "v1", "title": "run", "sha256": "aa", "status": "done"}
            return self.reply(200, json.dumps({"items": [video], "total": 1, "limit": 50}).encode())
        return self.reply(200, f"content of {self.path}".encode(), "application/octet-stream")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.reply(404, b'{"error": "not_found", "detail": "no route for POST /api/session"}')


@pytest.fixture
def legacy_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), LegacyApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("env", ["MONGO_ROOT_USERNAME=x\n", "ADMIN_USERNAME=admin\nADMIN_PASSWORD=from-a-later-invoke-up\n"])
def test_a_stack_from_before_accounts_is_read_as_before(legacy_api: str, tmp_path: Path, env: str) -> None:
    (tmp_path / ".env").write_text(env)
    found = guard.videos(guard.user_api(legacy_api, tmp_path / ".env"))
    assert found == {
        "v1": {
            "title": "run",
            "sha256": "aa",
            "status": "done",
            "file": f"200:{hashlib.sha256(b'content of /api/videos/v1/original').hexdigest()}",
            "pose": f"200:{hashlib.sha256(b'content of /api/videos/v1/pose').hexdigest()}",
            "metrics": f"200:{hashlib.sha256(b'content of /api/videos/v1/metrics').hexdigest()}",
        }
    }


def test_an_api_asking_for_a_sign_in_without_credentials_is_one_clear_line(
    legacy_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LegacyApi, "ACCOUNTS", True)
    (tmp_path / ".env").write_text("MONGO_ROOT_USERNAME=x\n")
    with pytest.raises(SystemExit) as exited:
        guard.user_api(legacy_api, tmp_path / ".env")
    assert str(exited.value) == (
        f"user-stack guard: the user's API asks for a sign-in but {tmp_path / '.env'} has no ADMIN_PASSWORD: run `invoke up`"
    )
