"""The notes API that perfgate load-tests: Flask + SQLite, with opt-in fault injection.

Modules
    settings   the one place that reads the environment (NOTES_*)
    faults     endpoint names, the fault config model and the injector
    db         SQLite schema and queries
    inputs     request parsing: JSON bodies and query strings through pydantic
    schemas    the pydantic request models
    views      the notes routes and /healthz
    admin      GET/PUT /admin/faults (only with NOTES_ADMIN=1, loopback clients only)
    errors     every error answered as JSON
    context    what a request reaches: the app state and its own SQLite connection
    app        create_app(), which wires the above together
    wsgi       the gunicorn entry point, `target_app.wsgi:app`
"""
