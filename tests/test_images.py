"""Bootstrap's decisions without Docker: what gets hashed, when to rebuild, which images in which order."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowstack.errors import SnowstackError
from snowstack.images import HASH_LABEL, build_reason, context_hash, plan_bootstrap, resolve_upstream
from snowstack.stack_toml import load_stack


def test_context_hash_changes_with_files_args_and_parent(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    base = context_hash(tmp_path, {"A": "1"}, "sha256:parent")
    assert context_hash(tmp_path, {"A": "1"}, "sha256:parent") == base
    assert context_hash(tmp_path, {"A": "2"}, "sha256:parent") != base
    assert context_hash(tmp_path, {"A": "1"}, "sha256:other") != base
    (tmp_path / "extra.txt").write_text("new file")
    assert context_hash(tmp_path, {"A": "1"}, "sha256:parent") != base


def test_build_reason() -> None:
    assert build_reason(None, "h", force=False) == "missing"
    assert build_reason({HASH_LABEL: "old"}, "h", force=False) == "context changed"
    assert build_reason({HASH_LABEL: "h"}, "h", force=False) is None
    assert build_reason({HASH_LABEL: "h"}, "h", force=True) == "forced"


def test_offline_plan_builds_stand_ins_first_and_points_base_images_at_them() -> None:
    stack = load_stack()
    plan = plan_bootstrap(stack, offline=True, gpu=False, only=None, registry="https://registry.example/")
    stand_ins = [spec.name for spec in plan.stand_ins]
    assert stand_ins.index("node") < stand_ins.index("mongo-express")
    assert stand_ins.index("python") < stand_ins.index("mongo")
    base = {spec.name: spec for spec in plan.base}
    assert "base-python-pose" not in base
    assert base["base-node"].build_args == {"NODE_IMAGE": stack.upstream["node"].offline}
    node = next(spec for spec in plan.stand_ins if spec.name == "node")
    assert node.build_args["NPM_REGISTRY"] == "https://registry.example/"
    # never re-tagged as the official names
    assert all(spec.image != stack.upstream[spec.name].official for spec in plan.stand_ins)


def test_online_plan_uses_official_images_and_no_stand_ins() -> None:
    stack = load_stack()
    plan = plan_bootstrap(stack, offline=False, gpu=True, only=None, registry=None)
    assert plan.stand_ins == []
    assert [spec.name for spec in plan.base] == ["base-node", "base-node-runtime", "base-node-media", "base-python", "base-python-pose"]
    assert resolve_upstream(stack, offline=False)["mongo"] == stack.upstream["mongo"].official


def test_only_builds_the_named_image_and_the_gpu_base_cannot_be_made_offline() -> None:
    stack = load_stack()
    plan = plan_bootstrap(stack, offline=True, gpu=False, only=["base-node"], registry="r")
    assert [spec.name for spec in plan.base] == ["base-node"]
    assert [spec.name for spec in plan.stand_ins] == ["node"]
    with pytest.raises(SnowstackError, match="cannot be made offline"):
        plan_bootstrap(stack, offline=True, gpu=True, only=None, registry="r")
