"""Pose-estimation microservice for the snowboarding pose-analysis product."""

__version__ = "0.1.0"
