"""gunicorn entry point: `gunicorn -c target_app/gunicorn.conf.py target_app.wsgi:app`."""

from target_app.app import create_app

app = create_app()
