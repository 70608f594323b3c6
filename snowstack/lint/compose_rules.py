"""Compose rules (pure) over `compose config`: contexts, GPU, healthchecks and what they probe, images, ports, secrets,
networks and hardening."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..report import Check, Status
from .dockerfile import image_tag, is_pinned, resolve_image

SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|KEY", re.IGNORECASE)
LOOPBACK = ("127.0.0.1", "::1", "localhost")
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
SECRETS_MOUNT = "/run/secrets/"
# An HTTP URL a healthcheck fetches inside its own container: scheme, loopback host, port and path.
PROBE_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost|\[::1\]):(?P<port>\d+)(?P<path>/[^\s'\"`?#)]*)?")


def _service_line(raw_text: str, service: str) -> int | None:
    for number, line in enumerate(raw_text.splitlines(), 1):
        if re.match(rf"^\s{{2,}}[\"']?{re.escape(service)}[\"']?\s*:\s*(#.*)?$", line):
            return number
    return None


def _key_line(raw_text: str, key: str, after: int | None) -> int | None:
    pattern = re.compile(rf"^\s*(-\s*)?[\"']?{re.escape(key)}[\"']?\s*[:=]")
    for number, line in enumerate(raw_text.splitlines(), 1):
        if number > (after or 0) and pattern.match(line):
            return number
    return None


def _environment(service: Mapping[str, Any]) -> dict[str, str | None]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        result: dict[str, str | None] = {}
        for item in environment:
            key, sep, value = str(item).partition("=")
            result[key] = value if sep else None
        return result
    return {str(k): (None if v is None else str(v)) for k, v in environment.items()}


def _gpu_reserved(service: Mapping[str, Any]) -> bool:
    devices = (((service.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices") or []
    return any(d.get("driver") == "nvidia" and "gpu" in (d.get("capabilities") or []) for d in devices)


def _image_default(image: str) -> tuple[str | None, str]:
    """The image a `${VAR:-default}` reference falls back to (None when a variable has no default)."""
    resolved, missing = resolve_image(image, {})
    if missing:
        return None, f"${{{missing[0]}}} has no default"
    return resolved, ""


@dataclass(frozen=True)
class ComposeFacts:
    path: str  # as shown in rows
    exists: bool
    raw_text: str = ""
    config: Mapping[str, Any] | None = None  # `compose config --format json`
    raw_config: Mapping[str, Any] | None = None  # the same with --no-interpolate
    error: str | None = None
    image_healthchecks: Mapping[str, bool] = field(default_factory=dict)  # service -> the image defines HEALTHCHECK
    contexts: Mapping[str, str] = field(default_factory=dict)  # stack service -> its context; paths relative to the stack root
    talks_to: Mapping[str, Sequence[str]] = field(default_factory=dict)  # stack service -> the services it connects to
    gpu_services: Sequence[str] = ()  # the stack services with the `gpu` role: exactly these reserve the GPU
    probes: Mapping[str, tuple[int, str]] = field(default_factory=dict)  # stack service -> (port, health path) to probe


def check_compose(facts: ComposeFacts) -> list[Check]:
    """Every compose rule over the parsed file; one row per rule."""
    path = facts.path
    if not facts.exists:
        return [
            Check(
                "compose file",
                Status.FAIL,
                f"{path} does not exist",
                f"write {path}: one service per stack.toml service, built from its context",
            )
        ]
    if facts.config is None or facts.raw_config is None:
        return [
            Check(
                "compose file",
                Status.FAIL,
                f"{path}: docker compose config failed: {facts.error}",
                f"fix {path} until `docker compose config` passes",
            )
        ]
    services: Mapping[str, Any] = facts.config.get("services") or {}
    raw_services: Mapping[str, Any] = facts.raw_config.get("services") or {}
    checks = [Check("compose file", Status.OK, f"{path}: parses ({len(services)} services)")]
    checks += [_compose_contexts(facts, services), _compose_gpu(facts, services), _compose_healthchecks(facts, services)]
    checks += [_compose_health_probes(facts, services)]
    checks += [_compose_images(facts, services, raw_services), _compose_ports(facts, services, raw_services)]
    checks += [_compose_secrets(facts, raw_services), _compose_hardening(facts, services), _compose_networks(facts, services)]
    return checks


def _where(facts: ComposeFacts, service: str, key: str | None = None) -> str:
    line = _service_line(facts.raw_text, service)
    if key is not None:
        line = _key_line(facts.raw_text, key, line) or line
    return f"{facts.path}:{line}" if line else facts.path


def _compose_contexts(facts: ComposeFacts, services: Mapping[str, Any]) -> Check:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for name, service in services.items():
        build = service.get("build")
        if not build:
            continue
        context = os.path.normpath(build["context"])
        if context in seen:
            problems.append(f"{_where(facts, name)}: {name} shares context {context} with {seen[context]}")
        seen[context] = name
    for name, expected in facts.contexts.items():
        if name not in services:
            problems.append(f"{facts.path}: stack.toml service {name!r} is missing")
            continue
        build = services[name].get("build")
        actual = os.path.normpath(build["context"]) if build else None
        if actual != os.path.normpath(expected):
            problems.append(f"{_where(facts, name)}: {name} builds from {actual or 'no context'}, stack.toml says {expected}")
    if problems:
        return Check(
            "compose contexts",
            Status.FAIL,
            "; ".join(problems),
            "give each built service its own `build.context`: the folder stack.toml names",
        )
    return Check("compose contexts", Status.OK, f"{len(seen)} built services, each with its own context")


def _compose_gpu(facts: ComposeFacts, services: Mapping[str, Any]) -> Check:
    """The GPU is reserved by exactly the services stack.toml gives the `gpu` role (in the GPU profile's file)."""
    reserved = [name for name, service in services.items() if _gpu_reserved(service)]
    expected = [name for name in facts.gpu_services if name in services]
    wanted = ", ".join(expected) or "no service"
    wrong = [name for name in reserved if name not in expected]
    if wrong:
        return Check(
            "compose gpu",
            Status.FAIL,
            "; ".join(f"{_where(facts, n, 'devices')}: GPU reserved for {n}, which has no `gpu` role" for n in wrong),
            f"reserve the GPU (deploy.resources.reservations.devices, driver nvidia) on {wanted} only (stack.toml `roles`)",
        )
    if not expected:
        return Check("compose gpu", Status.OK, "no service has the `gpu` role and none reserves the GPU")
    if not reserved:
        return Check(
            "compose gpu",
            Status.WARN,
            f"{facts.path}: no GPU reservation: {wanted} run on the CPU backend",
            f"on GPU hosts reserve it on {wanted}: deploy.resources.reservations.devices [{{driver: nvidia, capabilities: [gpu]}}]",
        )
    lacking = [name for name in expected if name not in reserved]
    if lacking:
        return Check(
            "compose gpu",
            Status.FAIL,
            "; ".join(f"{_where(facts, n)}: {n} has the `gpu` role but reserves no GPU" for n in lacking),
            "reserve it: deploy.resources.reservations.devices [{driver: nvidia, capabilities: [gpu]}]",
        )
    return Check("compose gpu", Status.OK, f"GPU reserved for {wanted} only")


def _compose_healthchecks(facts: ComposeFacts, services: Mapping[str, Any]) -> Check:
    missing, from_image = [], []
    for name, service in services.items():
        healthcheck = service.get("healthcheck")
        if healthcheck and not healthcheck.get("disable"):
            continue
        if facts.image_healthchecks.get(name) and not (healthcheck or {}).get("disable"):
            from_image.append(name)
        else:
            missing.append(f"{_where(facts, name)}: {name}")
    if missing:
        return Check(
            "compose healthcheck",
            Status.FAIL,
            "no healthcheck: " + ", ".join(missing),
            "add `healthcheck:` (test, interval, timeout, retries, start_period) probing the service's health path",
        )
    if from_image:
        return Check(
            "compose healthcheck",
            Status.WARN,
            f"only the image's HEALTHCHECK: {', '.join(from_image)}",
            "write the healthcheck in the compose file too, so the map of the system shows it",
        )
    return Check("compose healthcheck", Status.OK, f"all {len(services)} services")


def probed_urls(healthcheck: Mapping[str, Any] | None) -> list[tuple[int, str]]:
    """The (port, path) of every loopback HTTP URL a healthcheck's test fetches (its path '/' when it names none)."""
    test = (healthcheck or {}).get("test") or []
    text = " ".join(str(part) for part in test) if isinstance(test, list) else str(test)
    return [(int(m.group("port")), m.group("path") or "/") for m in PROBE_URL.finditer(text)]


def _compose_health_probes(facts: ComposeFacts, services: Mapping[str, Any]) -> Check:
    """Each compose healthcheck probes stack.toml's health path on the service's port (compared parsed, not as text)."""
    problems = []
    for name, (port, path) in facts.probes.items():
        if name not in services:
            continue  # the contexts rule names a missing service
        probed = probed_urls(services[name].get("healthcheck"))
        if (port, path) in probed:
            continue
        found = ", ".join(f":{p}{q}" for p, q in probed) or "no HTTP URL"
        problems.append(f"{_where(facts, name, 'healthcheck')}: {name} probes {found}, stack.toml says :{port}{path}")
    if problems:
        return Check(
            "compose health probes",
            Status.FAIL,
            "; ".join(problems),
            "probe http://127.0.0.1:${SERVICE_CONTAINER_PORT}${SERVICE_HEALTH} (the variables invoke passes from stack.toml)",
        )
    return Check("compose health probes", Status.OK, f"{len(facts.probes)} healthchecks probe stack.toml's health path on its port")


def _compose_images(facts: ComposeFacts, services: Mapping[str, Any], raw_services: Mapping[str, Any]) -> Check:
    problems, checked = [], 0
    for name, service in services.items():
        if service.get("build"):
            continue
        raw_image = str((raw_services.get(name) or {}).get("image") or service.get("image") or "")
        image, why = _image_default(raw_image)
        checked += 1
        if image is None:
            problems.append(f"{_where(facts, name, 'image')}: {name} image {raw_image}: {why}")
        elif not is_pinned(image):
            problems.append(
                f"{_where(facts, name, 'image')}: {name} image {image} is {'latest' if image_tag(image) == 'latest' else 'untagged'}"
            )
    if problems:
        return Check(
            "compose images", Status.FAIL, "; ".join(problems), "pin a version tag (e.g. mongo:7.0.25); for ${VAR:-default} pin the default"
        )
    return Check("compose images", Status.OK, f"{checked} third-party images pinned")


def _port_host(raw: Any) -> str | None:
    """The host-IP part of a raw (uninterpolated) port entry."""
    if isinstance(raw, dict):
        return str(raw.get("host_ip") or "") or None
    text = str(raw)
    match = re.match(r"^(\$\{[^}]*\}|\[[^\]]*\]|[^:]*):[^:]+:[^:]+$", text)
    return match.group(1) if match else None


def _compose_ports(facts: ComposeFacts, services: Mapping[str, Any], raw_services: Mapping[str, Any]) -> Check:
    problems, configured, count = [], [], 0
    for name, service in services.items():
        raw_ports = (raw_services.get(name) or {}).get("ports") or []
        for position, port in enumerate(service.get("ports") or []):
            if not port.get("published"):
                continue
            count += 1
            host_ip = port.get("host_ip") or ""
            if host_ip in LOOPBACK:
                continue
            raw_host = _port_host(raw_ports[position]) if position < len(raw_ports) else None
            label = f"{name} {host_ip or '0.0.0.0'}:{port.get('published')}"
            if raw_host and raw_host.startswith("${"):
                default, _ = _image_default(raw_host)
                if default in LOOPBACK:
                    configured.append(f"{label} (set by {raw_host})")
                    continue
            problems.append(f"{_where(facts, name, 'ports')}: {label}")
    if problems:
        return Check(
            "compose ports",
            Status.FAIL,
            "published on every interface: " + ", ".join(problems),
            'bind to loopback: "127.0.0.1:PORT:PORT" (or "${BIND_ADDRESS:-127.0.0.1}:PORT:PORT")',
        )
    if configured:
        return Check(
            "compose ports",
            Status.WARN,
            "bound beyond loopback by your environment: " + ", ".join(configured),
            "unset the variable to bind to 127.0.0.1",
        )
    return Check("compose ports", Status.OK, f"{count} published ports bound to 127.0.0.1")


def _mounted_secrets(service: Mapping[str, Any]) -> set[str]:
    """The compose secrets a service mounts, by the name they get under /run/secrets."""
    names = set()
    for item in service.get("secrets") or []:
        if isinstance(item, str):
            names.add(item)
        else:
            target = str(item.get("target") or item.get("source"))
            names.add(target.removeprefix(SECRETS_MOUNT))
    return names


def _compose_secrets(facts: ComposeFacts, raw_services: Mapping[str, Any]) -> Check:
    """No secret in a container's environment: `docker inspect` shows it to anyone who can reach the engine.

    A secret-named variable must be a *_FILE naming a compose secret the service mounts; no value may carry
    credentials in a URL (`scheme://user:password@host`).
    """
    problems = []
    for name, service in raw_services.items():
        mounted = _mounted_secrets(service)
        for key, value in _environment(service).items():
            where = f"{_where(facts, name, key)}: {name} {key}"
            if value and CREDENTIALS_IN_URL.search(value):
                problems.append(f"{where} (credentials in a URL)")
            elif key.endswith("_FILE") and value:
                secret = value.removeprefix(SECRETS_MOUNT) if value.startswith(SECRETS_MOUNT) else None
                if secret is not None and secret not in mounted:
                    problems.append(f"{where} (names /run/secrets/{secret}, which {name} does not mount)")
            elif SECRET_KEY.search(key) and value:
                problems.append(where + (" (interpolated into the environment)" if "${" in value else " (written inline)"))
    if problems:
        return Check(
            "compose secrets",
            Status.FAIL,
            "secrets in the environment: " + ", ".join(problems),
            "mount a compose secret (secrets: [NAME]) and pass its path in the *_FILE variable the image reads",
        )
    return Check("compose secrets", Status.OK, "no secret in any environment; secrets are mounted files")


def may_share_a_network(first: str, second: str, talks_to: Mapping[str, Sequence[str]]) -> bool:
    """Networks by need: one talks to the other, or both talk to the same service (clients beside their server)."""
    first_calls, second_calls = set(talks_to.get(first, ())), set(talks_to.get(second, ()))
    return second in first_calls or first in second_calls or bool(first_calls & second_calls)


def _compose_networks(facts: ComposeFacts, services: Mapping[str, Any]) -> Check:
    """Every pair that talks (stack.toml `talks_to`) shares a network; no pair that need not shares one."""
    if not facts.talks_to:
        return Check("compose networks", Status.OK, "no `talks_to` in the stack description: not checked")
    networks = {name: set(service.get("networks") or {"default": None}) for name, service in services.items()}
    problems = []
    names = sorted(networks)
    for index, first in enumerate(names):
        for second in names[index + 1 :]:
            shared = networks[first] & networks[second]
            talk = second in facts.talks_to.get(first, ()) or first in facts.talks_to.get(second, ())
            if shared and not may_share_a_network(first, second, facts.talks_to):
                problems.append(f"{_where(facts, first, 'networks')}: {first} and {second} share {', '.join(sorted(shared))} with no need")
            elif talk and not shared:
                problems.append(f"{first} and {second} talk but share no network")
    if problems:
        return Check(
            "compose networks",
            Status.FAIL,
            "; ".join(problems),
            "put services on a network only with those they talk to (stack.toml `talks_to`) or beside a server they share",
        )
    pairs = sum(len(callees) for callees in facts.talks_to.values())
    return Check("compose networks", Status.OK, f"{pairs} talking pairs share a network; no service reaches one it has no need of")


def _compose_hardening(facts: ComposeFacts, services: Mapping[str, Any]) -> Check:
    """Every service: all capabilities dropped, no privilege gain, a read-only root filesystem, memory and pids limits."""
    problems = []
    for name, service in services.items():
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        missing = [
            label
            for label, ok in (
                ("cap_drop: [ALL]", "ALL" in [str(c).upper() for c in service.get("cap_drop") or []]),
                (
                    "security_opt: [no-new-privileges:true]",
                    any(
                        str(o).replace("=", ":") in ("no-new-privileges", "no-new-privileges:true")
                        for o in service.get("security_opt") or []
                    ),
                ),
                ("read_only: true", service.get("read_only") is True),
                ("mem_limit", bool(service.get("mem_limit") or limits.get("memory"))),
                ("pids_limit", bool(service.get("pids_limit") or limits.get("pids"))),
            )
            if not ok
        ]
        if missing:
            problems.append(f"{_where(facts, name)}: {name} lacks {', '.join(missing)}")
    if problems:
        return Check(
            "compose hardening",
            Status.FAIL,
            "; ".join(problems),
            "give every service cap_drop: [ALL], security_opt: [no-new-privileges:true], read_only: true (tmpfs for scratch), "
            "mem_limit and pids_limit",
        )
    return Check(
        "compose hardening",
        Status.OK,
        f"all {len(services)} services: no capabilities, no privilege gain, read-only, memory and pids limits",
    )
