"""gunicorn entry point: `gunicorn -c gunicorn.conf.py wsgi:app` (one app, hence one model, per worker)."""

from pose_service.app import create_app

app = create_app()
