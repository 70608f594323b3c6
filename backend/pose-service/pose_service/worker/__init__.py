"""The pose worker: `python -m pose_service.worker` claims ingest, segment and finish tasks from MongoDB.

The design is the lead's (docs/contracts.md, "Work queue and media store"): workers pull work and own every
transition of a job; the API only creates, cancels, retries and reads. No Flask here.
"""
