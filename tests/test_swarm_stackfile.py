"""Compose config -> Swarm stack file (snowstack/swarm/stackfile.py), decided without Docker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from snowstack.errors import SnowstackError
from snowstack.swarm.stackfile import (
    DATA_LABEL,
    GPU_LABEL,
    GPU_RESOURCE,
    StackOptions,
    byte_count,
    parse_tmpfs,
    registry_image,
    seconds,
    swarm_healthcheck,
    to_stack_file,
)


def config(tmp_path: Path) -> dict[str, Any]:
    """A trimmed `docker compose config --format json` of this project's shape (GPU profile)."""
    secret = tmp_path / "mongo_api_password"
    if not secret.exists():
        secret.write_text("s3cret")
    init = tmp_path / "mongodb-init"
    init.mkdir(exist_ok=True)
    (init / "create-users.sh").write_text("echo hi\n")
    gpu = {"resources": {"reservations": {"devices": [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]}}}
    return {
        "name": "proj",
        "services": {
            "pose-service": {
                "build": {"context": "/x"},
                "image": "snowboarding/pose-service:proj",
                "mem_limit": "2147483648",
                "memswap_limit": "2147483648",
                "pids_limit": 512,
                "security_opt": ["no-new-privileges:true"],
                "cap_drop": ["ALL"],
                "read_only": True,
                "ports": [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 5000, "published": "40417", "protocol": "tcp"}],
                "volumes": [
                    {"type": "volume", "source": "models", "target": "/data/models", "volume": {}},
                    {"type": "volume", "source": "uploads", "target": "/data/uploads", "volume": {"nocopy": True}},
                ],
                "healthcheck": {"test": ["CMD", "true"], "interval": "10s", "start_interval": "1s"},
                "deploy": gpu,
                "networks": {"pose": None},
            },
            "pose-worker": {
                "image": "snowboarding/pose-service:proj",
                "command": ["python", "-m", "pose_service.worker"],
                "tmpfs": ["/tmp:size=1g,mode=1777"],
                "volumes": [{"type": "volume", "source": "models", "target": "/data/models", "volume": {}}],
                "secrets": [{"source": "mongo_api_password", "target": "/run/secrets/mongo_api_password"}],
                "deploy": {"replicas": 2, **gpu},
                "networks": {"data": None},
            },
            "backend-api": {
                "build": {"context": "/y", "secrets": [{"source": "ca"}]},
                "image": "snowboarding/backend-api:proj",
                "depends_on": {"mongodb": {"condition": "service_healthy"}},
                "restart": "unless-stopped",
                "volumes": [{"type": "volume", "source": "uploads", "target": "/data/uploads", "volume": {}}],
                "secrets": [{"source": "mongo_api_password", "target": "/run/secrets/mongo_api_password"}],
                "networks": {"data": None, "pose": None},
            },
            "mongodb": {
                "image": "snowboarding-offline/mongo:secantus",
                "volumes": [
                    {"type": "volume", "source": "mongodb_data", "target": "/data/db", "volume": {}},
                    {"type": "bind", "source": str(init), "target": "/docker-entrypoint-initdb.d", "read_only": True},
                ],
                "networks": {"data": None},
            },
        },
        "networks": {"data": {"name": "proj-network-data"}, "pose": {"name": "proj-network-pose"}},
        "volumes": {"models": {"name": "proj_models"}, "uploads": {"name": "proj_uploads"}, "mongodb_data": {"name": "proj_mongodb_data"}},
        "secrets": {"mongo_api_password": {"file": str(secret)}, "ca": {"file": "/etc/ssl/certs/ca-certificates.crt"}},
    }


def options(**changes: Any) -> StackOptions:
    values: dict[str, Any] = {"name": "proj", "registry": "reg.local:5000", "gpu_services": ("pose-service", "pose-worker"), "gpu": True}
    return StackOptions(**{**values, **changes})


def test_images_are_addressed_through_the_registry_and_nothing_is_built(tmp_path: Path) -> None:
    stack = to_stack_file(config(tmp_path), options())
    services = stack.document["services"]
    assert services["backend-api"]["image"] == "reg.local:5000/snowboarding/backend-api:proj"
    assert all("build" not in s and "depends_on" not in s and "restart" not in s for s in services.values())
    assert stack.images["snowboarding-offline/mongo:secantus"] == "reg.local:5000/snowboarding-offline/mongo:secantus"
    assert registry_image("old.example:5000/snowboarding/x:1", "new:5001") == "new:5001/snowboarding/x:1"
    assert registry_image("snowboarding/x:1", None) == "snowboarding/x:1"


def test_every_service_resolves_by_dns_round_robin_and_publishes_on_its_node(tmp_path: Path) -> None:
    services = to_stack_file(config(tmp_path), options()).document["services"]
    assert {s["deploy"]["endpoint_mode"] for s in services.values()} == {"dnsrr"}
    assert services["pose-service"]["ports"] == [{"target": 5000, "published": 5000, "protocol": "tcp", "mode": "host"}]


def test_limits_tmpfs_and_secrets_carry_over_and_what_swarm_lacks_is_reported(tmp_path: Path) -> None:
    stack = to_stack_file(config(tmp_path), options())
    pose, worker = stack.document["services"]["pose-service"], stack.document["services"]["pose-worker"]
    assert pose["deploy"]["resources"]["limits"] == {"memory": "2147483648", "pids": 512}
    assert pose["cap_drop"] == ["ALL"] and pose["read_only"] is True
    assert stack.dropped == {"pose-service": ["security_opt", "memswap_limit"]}
    assert {"type": "tmpfs", "target": "/tmp", "tmpfs": {"size": 1024**3}} in worker["volumes"]
    secrets = stack.document["secrets"]
    assert list(secrets) == ["mongo_api_password"]  # the build-only CA bundle is not deployed
    assert secrets["mongo_api_password"]["name"].startswith("proj_mongo_api_password_")


def test_a_changed_secret_is_a_new_swarm_secret(tmp_path: Path) -> None:
    first = to_stack_file(config(tmp_path), options()).document["secrets"]["mongo_api_password"]["name"]
    (tmp_path / "mongo_api_password").write_text("rotated")
    assert to_stack_file(config(tmp_path), options()).document["secrets"]["mongo_api_password"]["name"] != first


def test_mongodb_is_pinned_with_its_volume_and_its_init_scripts_become_configs(tmp_path: Path) -> None:
    stack = to_stack_file(config(tmp_path), options())
    mongodb = stack.document["services"]["mongodb"]
    assert mongodb["deploy"]["placement"]["constraints"] == [f"node.labels.{DATA_LABEL} == true"]
    assert mongodb["configs"] == [
        {"source": "mongodb-create-users.sh", "target": "/docker-entrypoint-initdb.d/create-users.sh", "mode": 0o555}
    ]
    assert stack.document["configs"]["mongodb-create-users.sh"]["file"].endswith("create-users.sh")


def test_services_sharing_a_volume_share_the_data_node_but_a_scaled_services_cache_pins_nothing(tmp_path: Path) -> None:
    services = to_stack_file(config(tmp_path), options(gpu=False)).document["services"]
    # uploads: the API and the pose service; models: also the scaled workers, so a per-node cache.
    assert f"node.labels.{DATA_LABEL} == true" in services["backend-api"]["deploy"]["placement"]["constraints"]
    assert f"node.labels.{DATA_LABEL} == true" in services["pose-service"]["deploy"]["placement"]["constraints"]
    assert f"node.labels.{DATA_LABEL} == true" not in services["pose-worker"]["deploy"]["placement"]["constraints"]


def test_gpu_services_reserve_the_gpu_generic_resource_on_gpu_nodes(tmp_path: Path) -> None:
    worker = to_stack_file(config(tmp_path), options()).document["services"]["pose-worker"]["deploy"]
    assert worker["resources"]["reservations"] == {"generic_resources": [{"discrete_resource_spec": {"kind": GPU_RESOURCE, "value": 1}}]}
    assert worker["placement"]["constraints"] == [f"node.labels.{GPU_LABEL} == true"]


def test_the_cpu_profile_keeps_pose_workers_off_gpu_nodes_and_scales_them(tmp_path: Path) -> None:
    cpu = config(tmp_path)
    for name in ("pose-service", "pose-worker"):
        cpu["services"][name]["deploy"].pop("resources")
    worker = to_stack_file(cpu, options(gpu=False, replicas=5)).document["services"]["pose-worker"]["deploy"]
    assert worker["replicas"] == 5
    assert "resources" not in worker
    assert worker["placement"]["constraints"] == [f"node.labels.{GPU_LABEL} != true"]


def test_engines_before_api_1_44_get_no_healthcheck_start_interval(tmp_path: Path) -> None:
    old = to_stack_file(config(tmp_path), options(engine_api=(1, 41))).document["services"]["pose-service"]["healthcheck"]
    new = to_stack_file(config(tmp_path), options(engine_api=(1, 51))).document["services"]["pose-service"]["healthcheck"]
    assert "start_interval" not in old and new["start_interval"] == "1s"


def test_a_slow_healthcheck_does_not_get_a_task_replaced_on_swarm(tmp_path: Path) -> None:
    # Compose's 5 s / 3 retries: on Swarm an unhealthy task is killed, and under load every check timed out.
    found = to_stack_file(config(tmp_path), options()).document["services"]["pose-service"]["healthcheck"]
    assert found == {"test": ["CMD", "true"], "interval": "10s", "start_interval": "1s", "timeout": "30s", "retries": 18}
    assert swarm_healthcheck({"test": ["CMD", "true"], "timeout": "45s", "retries": 40, "interval": "1m0s"}, (1, 51)) == {
        "test": ["CMD", "true"],
        "timeout": "45s",
        "retries": 40,
        "interval": "1m0s",
    }
    assert swarm_healthcheck({"disable": True}, (1, 51)) == {"disable": True}
    assert [seconds(d) for d in ("1m0s", "10s", "500ms", "1h2m3.5s")] == [60, 10, 0.5, 3723.5]
    with pytest.raises(SnowstackError):
        seconds("ten seconds")


def test_a_writable_bind_mount_is_refused_with_the_fix(tmp_path: Path) -> None:
    broken = config(tmp_path)
    broken["services"]["backend-api"]["volumes"].append({"type": "bind", "source": "/srv/x", "target": "/x"})
    with pytest.raises(SnowstackError, match="use a named volume"):
        to_stack_file(broken, options())


def test_sizes_and_tmpfs_options_parse() -> None:
    assert byte_count("32m") == 32 * 1024**2 and byte_count("536870912") == 536870912 and byte_count(1024) == 1024
    assert parse_tmpfs("/tmp:size=16m,mode=1777") == {"type": "tmpfs", "target": "/tmp", "tmpfs": {"size": 16 * 1024**2}}
    with pytest.raises(SnowstackError):
        byte_count("lots")


def test_the_web_services_answer_to_the_nodes_and_the_api_keeps_sign_in_on() -> None:
    from snowstack.swarm.deploy import public_environment

    config = {
        "services": {
            "backend-api": {"ports": [{"target": 3001}], "environment": {"PUBLIC_BIND_ADDRESS": "127.0.0.1"}},
            "frontend": {"ports": [{"target": 5173}], "environment": {"ALLOWED_HOSTS": "localhost,snow.example"}},
            "mongo-express": {"ports": [{"target": 8081}]},
            "pose-worker": {},
        }
    }
    found = public_environment(config, ["backend-api", "frontend", "pose-worker"], ["node1", "10.0.0.2", "localhost"])
    assert found == {
        "backend-api": {"ALLOWED_HOSTS": "localhost,127.0.0.1,[::1],backend-api,node1,10.0.0.2", "PUBLIC_BIND_ADDRESS": "0.0.0.0"},
        "frontend": {"ALLOWED_HOSTS": "localhost,snow.example,node1,10.0.0.2"},
    }


def test_a_service_is_found_on_the_node_of_its_wanted_task_not_on_a_lost_node_that_last_said_running() -> None:
    from snowstack.engine_swarm import SwarmNode, SwarmTask
    from snowstack.swarm.deploy import Deployment, service_urls

    class SwarmStandIn:
        """A test double for the manager's answers (the real case runs in test_swarm.py's two-node test): node2
        went down while it ran the API; its task still reads `running` (a lost node reports nothing more), but Swarm
        wants it shut down and runs a replacement on node1, which is still starting."""

        def nodes(self) -> list[SwarmNode]:
            return [
                SwarmNode("n1", "node1", "manager", "ready", "active", {}, "10.0.0.1"),
                SwarmNode("n2", "node2", "worker", "down", "active", {}, "10.0.0.2"),
            ]

        def stack_tasks(self, stack: str) -> list[SwarmTask]:
            return [
                SwarmTask(f"{stack}_backend-api", "n2", "running", "shutdown", "", "old"),
                SwarmTask(f"{stack}_backend-api", "n1", self.new_state, "running", "", "new"),
                SwarmTask(f"{stack}_mongodb", "n1", "running", "running", "", "db"),
            ]

        new_state = "starting"

    class ManagerStandIn:
        """The manager engine's `swarm` noun is all `service_urls` asks."""

        swarm = SwarmStandIn()

    manager = ManagerStandIn()
    ports = {"backend-api": 3001, "mongodb": 27017}
    deployment = Deployment("snow", "tcp://127.0.0.1:2375", "registry:5000", tuple(ports), ports)
    assert service_urls(manager, deployment, {"mongodb": "tcp"}) == {"mongodb": "tcp://10.0.0.1:27017"}  # type: ignore[arg-type]
    manager.swarm.new_state = "running"
    assert service_urls(manager, deployment, {"mongodb": "tcp"}) == {  # type: ignore[arg-type]
        "backend-api": "http://10.0.0.1:3001",
        "mongodb": "tcp://10.0.0.1:27017",
    }
