"""Flask application factory (web is the only package that imports Flask)."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask_babel import get_locale

from workflows.core.settings import Settings

HERE = Path(__file__).resolve().parent


def create_app(settings: Settings | None = None, *, services=None) -> Flask:
    """Create the web app; ``services`` is injected by tests, else bootstrapped from settings."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path.resolve()))
    _configure(app, settings)
    _trust_proxies(app, settings.proxy_fix)
    _attach_services(app, settings, services)
    _init_extensions(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_template_helpers(app)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    from web.security import cookie_config

    app.config.update(
        SECRET_KEY=_secret_key(settings),
        TESTING=settings.testing,
        JIEFEN_SETTINGS=settings,
        JIEFEN_LOCALES=settings.locales,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
        WTF_CSRF_TIME_LIMIT=settings.session_max_age_hours * 3600,
        JSON_AS_ASCII=False,
        **cookie_config(settings),
    )
    app.json.ensure_ascii = False


def _trust_proxies(app: Flask, count: int) -> None:
    """Behind ``count`` reverse proxies, take the client address and scheme from X-Forwarded-*.

    Only that many hops are trusted (a client cannot spoof its address by sending the header);
    without proxies (0) the headers are ignored and the socket address is the client."""
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # X-Forwarded-Proto is set (not appended) by the nearest proxy: trust one value
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=1, x_host=0, x_port=0,
                                x_prefix=0)


def _secret_key(settings: Settings) -> str:
    """JIEFEN_SECRET_KEY, else <instance>/secret_key (written by `jiefen keys init`); no default."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.instance_path / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    if settings.testing:
        return os.urandom(32).hex()
    raise RuntimeError(
        f"no cookie secret: set JIEFEN_SECRET_KEY or run `jiefen keys init` ({path})")


def _attach_services(app: Flask, settings: Settings, services) -> None:
    if services is None:
        from workflows.runtime.bootstrap import bootstrap

        services = bootstrap(settings)
    app.extensions["jiefen_services"] = services


def _init_extensions(app: Flask) -> None:
    from web import access, boundary, context, i18n, security
    from web.extensions import babel, csrf, login_manager

    security.init_app(app)  # the request id first (it keeps only a plain-token header)
    boundary.init_app(app)  # then nothing reads a request before its values are checked
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side session is the protection
    login_manager.login_view = "auth.login"
    access.init_app(app)
    context.init_app(app)   # the request's read session ends with the request


def _register_blueprints(app: Flask) -> None:
    from web import auth, health, i18n
    from web.api import bp as api_bp
    from web.extensions import csrf

    for module in (auth, health, i18n, *_feature_modules()):
        app.register_blueprint(module.bp)
    csrf.exempt(api_bp)  # bearer tokens, no cookies: CSRF does not apply
    app.register_blueprint(api_bp)


def _feature_modules() -> list:
    from web import (
        admin_directory,
        admin_import,
        admin_tokens,
        alarms,
        assistant,
        attachments,
        audit,
        calendar_admin,
        calls,
        case_deadlines,
        case_types,
        cases,
        channels,
        cockpit,
        dispatch,
        experts,
        grid,
        kpi_targets,
        mediation,
        places,
        process_editor,
        processes,
        reports,
        satisfaction,
        supervision,
        tasks,
        warnings,
    )

    return [cases, case_deadlines, tasks, dispatch, satisfaction, supervision, reports,
            calendar_admin, admin_directory, admin_import, admin_tokens, audit, processes, process_editor,
            case_types, places, channels, warnings, alarms, cockpit, kpi_targets, grid, attachments,
            assistant, mediation, experts, calls]


def _register_error_handlers(app: Flask) -> None:
    from web import errors

    errors.register(app)


def _register_template_helpers(app: Flask) -> None:
    from web import templating

    app.jinja_env.globals["get_locale"] = get_locale
    templating.init_app(app)
