"""Automation for the snowboarding pose-analysis stack: build, run, verify and time it."""

__version__ = "0.1.0"
