"""The Python dependencies: requirements.lock carries every pin of pyproject.toml and the pose requirements with
hashes and nothing of this machine; one OpenCV wheel in every image, the pose requirements and the venv; the
plot extra's absence is one line naming it."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

from snowstack.cli import require_extra
from snowstack.errors import SnowstackError

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
POSE_REQUIREMENTS = sorted((ROOT / "backend/pose-service").glob("requirements*.txt"))
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    return {canonical(m.group(1)): m.group(2) for line in lines if (m := PIN.match(line.strip()))}


def locked() -> dict[str, tuple[str, int]]:
    """Package -> (version, how many hashes) as requirements.lock lists them."""
    entries: dict[str, tuple[str, int]] = {}
    current = ""
    for line in LOCK.read_text().splitlines():
        if m := PIN.match(line):
            current = canonical(m.group(1))
            entries[current] = (m.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            entries[current] = (entries[current][0], entries[current][1] + 1)
    return entries


def test_the_lock_pins_every_direct_pin_at_its_version_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = pins(project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra])
    for path in POSE_REQUIREMENTS:
        direct |= pins(path.read_text().splitlines())
    lock = locked()
    assert {name: version for name, version in direct.items() if lock.get(name, ("",))[0] != version} == {}, "run scripts/lock.sh"
    assert [name for name, (_, hashes) in lock.items() if hashes == 0] == []
    assert "pip" not in lock  # the venv brings it


def test_the_lock_names_no_index_or_path_of_this_machine() -> None:
    text = LOCK.read_text()
    options = [line for line in text.splitlines() if line.startswith("-") and not line.startswith("--hash")]
    assert options == [] and "file://" not in text and "/opt/" not in text


def test_one_opencv_wheel_everywhere_at_one_version() -> None:
    """mediapipe depends on opencv-contrib-python; a second OpenCV distribution would clash with it over cv2."""
    files = [ROOT / "backend/docker/base-python/requirements.txt", ROOT / "backend/docker/base-python-pose/requirements-pose.txt"]
    found = {}
    for path in [*files, *POSE_REQUIREMENTS, LOCK]:
        for name, version in pins(path.read_text().splitlines()).items():
            if name.startswith("opencv"):
                found[f"{path.relative_to(ROOT)} {name}"] = version
        extras = [line for line in path.read_text().splitlines() if "[opencv]" in line.split("#", 1)[0]]
        assert extras == [], f"{path.name}: an [opencv] extra brings a second OpenCV wheel"
    assert set(found.values()) == {"4.11.0.86"} and {key.split()[1] for key in found} == {"opencv-contrib-python"}, found
    installed = sorted(d.metadata["Name"] for d in importlib.metadata.distributions() if d.metadata["Name"].lower().startswith("opencv"))
    assert installed == ["opencv-contrib-python"], f"the venv holds {installed}: run scripts/setup.sh"


def test_a_missing_extra_is_one_line_naming_it() -> None:
    with pytest.raises(SnowstackError) as error:
        require_extra("no_such_module_x", "plot", "--plot")
    assert str(error.value) == "--plot needs no_such_module_x, which is not installed: .venv/bin/pip install -e '.[plot]'"
    require_extra("matplotlib", "plot", "--plot")  # the dev venv has it: no error
