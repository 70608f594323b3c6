"""Docker Swarm: the same compose files, rendered into a stack file and deployed (`invoke deploy`).

- `stackfile`: compose config (what `docker compose config` prints) -> Swarm stack file; pure, unit-tested.
- `deploy`: render, push the images to a registry, `docker stack deploy`, wait until converged, remove.
- `nodes`: Swarm nodes and the registry as containers on one machine (engines in privileged containers), for
  the tests and for trying a multi-node Swarm locally without touching the host's own engine.
"""
