"""Every blueprint of the app. Contract features nest under `contract_scope` (once, at import),
so each of their routes lives below `/contrats/<contract_id>` and requires membership."""

from werkzeug.routing import IntegerConverter, ValidationError

import app.indicators
import app.schedule  # noqa: F401
from app.admin.routes import bp as admin_bp
from app.api.routes import bp as api_bp
from app.api.tokens_routes import bp as api_tokens_bp
from app.attachments.routes import bp as attachments_bp
from app.auth.routes import bp as auth_bp
from app.changes.routes import bp as changes_bp
from app.contracts.routes import bp as contracts_bp
from app.contracts.routes import overview_bp
from app.contracts.scope import contract_scope
from app.dashboard.routes import bp as dashboard_bp
from app.difficulties.routes import bp as difficulties_bp
from app.exports.routes import bp as exports_bp
from app.forms import MAX_ID
from app.indicators.routes import bp as indicators_bp
from app.live.routes import bp as live_bp
from app.notifications.routes import bp as notifications_bp
from app.pages.routes import bp as pages_bp
from app.plan.routes import bp as plan_bp
from app.reviews.routes import bp as reviews_bp
from app.reviews.routes import calendar_bp
from app.schedule.routes import bp as schedule_bp

CONTRACT_FEATURES = (
    overview_bp,
    plan_bp,
    live_bp,
    attachments_bp,
    difficulties_bp,
    indicators_bp,
    dashboard_bp,
    reviews_bp,
    changes_bp,
    schedule_bp,
    api_tokens_bp,
    exports_bp,
)
for feature in CONTRACT_FEATURES:
    contract_scope.register_blueprint(feature)

BLUEPRINTS = (
    auth_bp,
    contracts_bp,
    admin_bp,
    pages_bp,
    notifications_bp,
    calendar_bp,
    contract_scope,
    api_bp,
)


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in every URL of the app: a number no id column can hold is no page (404). Without
    it, /contrats/99999999999999999999 reached the database and came back as a 500 (SQLite's
    OverflowError, PostgreSQL's « integer out of range »), and 5,000 digits failed in int()."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)):
            raise ValidationError()
        return super().to_python(value)
