"""Progrès: the shared workspace of a public contract's plan de progrès."""

import os

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import CONFIGS, INSTANCE_DIR, ProductionConfig
from app.extensions import babel, csrf, db, htmx, limiter, migrate


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the application: `development` (default), `test` or `production`."""
    config_name = config_name or os.environ.get("PROGRES_CONFIG", "development")
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_object(CONFIGS[config_name])
    app.config.update(overrides)
    if config_name == "production":
        ProductionConfig.check(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config["PROXY_FIX_X_FOR"]:
        hops = app.config["PROXY_FIX_X_FOR"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from app.logging_setup import init_logging

    init_logging(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_template_helpers(app)

    from app.cli import register_cli

    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from app.database import configure_engine, mark_read_requests
    from app.i18n import bound_gettext, select_locale
    from app.security import init_security

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, strict_reads=app.config.get("STRICT_READS", False))
    mark_read_requests(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    # Cross-site writes, then CSRF: a forged write is refused before anything looks at the
    # contract (EXAMPLES 9).
    init_security(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.context_processor(bound_gettext)
    htmx.init_app(app)
    limiter.init_app(app)

    from app.auth.loading import init_login
    from app.live import init_live

    init_live(app)

    init_login(app)

    from app.permissions import enforce_access_rule

    app.before_request(enforce_access_rule)

    from app.outbox.services import deliver_queued_after_request

    @app.after_request
    def deliver_emails(response):
        if response.status_code < 400:
            deliver_queued_after_request()
        return response

    from app.error_pages import init_error_pages

    init_error_pages(app)


def _register_blueprints(app: Flask) -> None:
    from app.blueprints import BLUEPRINTS, DatabaseIdConverter

    app.url_map.converters["int"] = DatabaseIdConverter  # before any rule is added
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from app import formatting
    from app.forms import error_messages
    from app.markdown import render_markdown

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["messages"] = error_messages
    app.jinja_env.filters["money"] = formatting.money
    app.jinja_env.filters["decimal"] = formatting.decimal
    app.jinja_env.filters["day"] = formatting.day
    app.jinja_env.filters["day_short"] = formatting.day_short
    app.jinja_env.filters["moment"] = formatting.moment
    app.jinja_env.filters["hour"] = formatting.hour
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["days_until"] = formatting.days_until
    app.jinja_env.globals["labels"] = formatting.LABELS

    @app.context_processor
    def contract_context():
        from app.plan.versions import plan_in_force_shown, version_label

        return {
            "version_label": version_label,
            "contract": g.get("contract"),
            "membership": g.get("membership"),
            "plan_in_force": plan_in_force_shown,
        }
