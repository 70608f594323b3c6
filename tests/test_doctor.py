"""Doctor's decisions are pure functions of gathered facts: every row is tested without Docker."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from snowstack import doctor
from snowstack.engine import EngineFacts
from snowstack.report import Status

GIB = 1024**3
HEALTHY_ENGINE = EngineFacts(
    reachable=True,
    server_version=(28, 5, 2),
    api_version="1.51",
    compose_version=(2, 40, 3),
    buildx_version=(0, 29, 1),
    docker_root_dir="/var/lib/docker",
    runtimes=("runc",),
    storage_driver="overlay2",
)
HEALTHY = doctor.HostFacts(
    engine=HEALTHY_ENGINE,
    env={},
    disk_free_bytes=80 * GIB,
    disk_path="/var/lib/docker",
    memory_available_bytes=20 * GIB,
    memory_total_bytes=24 * GIB,
    registry_reachable=True,
    registry_detail="HTTP 401",
)


def statuses(facts: doctor.HostFacts) -> dict[str, Status]:
    return {check.name: check.status for check in doctor.evaluate(facts)}


def test_a_healthy_cpu_host_passes_with_a_gpu_warning_only() -> None:
    result = statuses(HEALTHY)
    assert result.pop("gpu") is Status.WARN
    assert set(result.values()) == {Status.OK}


def test_no_engine_fails_with_the_reason_and_the_fix() -> None:
    facts = replace(HEALTHY, engine=EngineFacts(reachable=False, error="the Docker engine is not reachable: start it"))
    check = doctor.check_engine(facts)
    assert check.status is Status.FAIL
    assert "not reachable" in check.detail
    assert "install-engine.sh" in check.fix


def test_an_old_engine_warns() -> None:
    facts = replace(HEALTHY, engine=replace(HEALTHY_ENGINE, server_version=(20, 10, 24)))
    assert doctor.check_engine(facts).status is Status.WARN


def test_compose_v1_only_fails_and_names_the_binary() -> None:
    facts = replace(HEALTHY, engine=replace(HEALTHY_ENGINE, compose_version=None, compose_v1_binary="/usr/bin/docker-compose"))
    check = doctor.check_compose(facts)
    assert check.status is Status.FAIL
    assert "/usr/bin/docker-compose" in check.detail


def test_compose_240_with_an_old_buildx_fails() -> None:
    facts = replace(HEALTHY, engine=replace(HEALTHY_ENGINE, buildx_version=(0, 13, 1)))
    assert doctor.check_buildx(facts).status is Status.FAIL
    older_compose = replace(HEALTHY, engine=replace(HEALTHY_ENGINE, buildx_version=(0, 13, 1), compose_version=(2, 29, 0)))
    assert doctor.check_buildx(older_compose).status is Status.OK


def test_buildkit_turned_off_in_the_shell_warns() -> None:
    assert doctor.check_buildkit(replace(HEALTHY, env={"DOCKER_BUILDKIT": "0"})).status is Status.WARN
    assert doctor.check_buildkit(replace(HEALTHY, engine=replace(HEALTHY_ENGINE, buildx_version=None))).status is Status.FAIL


def test_gpu_needs_both_the_card_and_a_docker_runtime() -> None:
    card = "NVIDIA H100, 81559 MiB"
    with_runtime = replace(HEALTHY, nvidia_smi=card, engine=replace(HEALTHY_ENGINE, runtimes=("nvidia", "runc")))
    assert doctor.check_gpu(with_runtime).status is Status.OK
    with_cdi = replace(HEALTHY, nvidia_smi=card, engine=replace(HEALTHY_ENGINE, cdi_devices=("nvidia.yaml",)))
    assert doctor.check_gpu(with_cdi).status is Status.OK
    card_only = replace(HEALTHY, nvidia_smi=card)
    assert "nvidia-container-toolkit" in doctor.check_gpu(card_only).fix


def test_disk_thresholds_depend_on_the_gpu_profile() -> None:
    assert doctor.check_disk(replace(HEALTHY, disk_free_bytes=12 * GIB)).status is Status.OK
    assert doctor.check_disk(replace(HEALTHY, disk_free_bytes=7 * GIB)).status is Status.WARN
    assert doctor.check_disk(replace(HEALTHY, disk_free_bytes=3 * GIB)).status is Status.FAIL
    gpu = replace(HEALTHY, nvidia_smi="GPU", engine=replace(HEALTHY_ENGINE, runtimes=("nvidia",)), disk_free_bytes=12 * GIB)
    assert doctor.check_disk(gpu).status is Status.FAIL


def test_memory_offline_registry_and_wsl() -> None:
    assert doctor.check_memory(replace(HEALTHY, memory_available_bytes=1 * GIB)).status is Status.FAIL
    offline = doctor.check_registry(replace(HEALTHY, registry_reachable=False, registry_detail="ConnectionError"))
    assert offline.status is Status.WARN and "offline" in offline.detail
    wsl = replace(HEALTHY, proc_version="Linux 5.15 microsoft-standard-WSL2", cwd="/mnt/c/src/app")
    assert doctor.check_wsl(wsl).status is Status.WARN
    assert doctor.check_wsl(replace(wsl, cwd="/home/me/app")).status is Status.OK


def test_ca_bundle_prefers_the_variables_people_set(tmp_path: Path) -> None:
    bundle = tmp_path / "corp.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert doctor.ca_bundle({"REQUESTS_CA_BUNDLE": str(bundle)}) == ("REQUESTS_CA_BUNDLE", str(bundle))
    assert doctor.ca_bundle({"SSL_CERT_FILE": str(tmp_path / "missing.pem"), "PIP_CERT": str(bundle)}) == ("PIP_CERT", str(bundle))
    check = doctor.check_ca(replace(HEALTHY, env={"NODE_EXTRA_CA_CERTS": str(bundle)}))
    assert "custom" in check.detail and "secret" in check.detail


def test_invoke_doctor_json_is_one_entry_per_check() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "doctor", "--json"], capture_output=True, text=True, cwd=Path(__file__).parent.parent
    )
    document = json.loads(result.stdout)
    names = [check["name"] for check in document["checks"]]
    assert names == [check.__name__.removeprefix("check_").replace("_", " ") for check in doctor.CHECKS] or len(names) == len(doctor.CHECKS)
    assert all(check["status"] in {"ok", "warn", "fail"} for check in document["checks"])
    assert result.returncode == (1 if document["status"] == "fail" else 0)
