"""Flask application factory (the only package that imports Flask)."""

from __future__ import annotations

from flask import Flask

from workflows.settings import Settings


def create_app(settings: Settings | None = None, *, services=None) -> Flask:
    """Create the web app; ``services`` is injected by tests, else bootstrapped from settings."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path.resolve()))
    app.config["JIEFEN_SETTINGS"] = settings
    app.extensions["jiefen_services"] = services

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app
