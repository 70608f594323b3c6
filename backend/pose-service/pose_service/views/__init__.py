"""HTTP endpoints, a blueprint per resource: health.py (health/ready/info), pose.py (pose image/video), media.py
(probe and ingest, no model needed). The work itself lives outside Flask (pipeline.py, probe.py, rendition.py)."""
