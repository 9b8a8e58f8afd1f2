"""WSGI entry for gunicorn: `gunicorn webapp.wsgi:app` (settings from the environment)."""
from webapp import create_app

app = create_app()
