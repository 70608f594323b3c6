"""The guard's comparison (scripts/test.sh runs the guard itself around the whole suite, on the real engine)."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any


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
