"""Every blueprint of the app. Contract features nest under `contract_scope` (once, at import),
so each of their routes lives below `/contrats/<contract_id>` and requires membership."""

import app.indicators
import app.schedule  # noqa: F401
from app.admin.routes import bp as admin_bp
from app.api.routes import bp as api_bp
from app.api.tokens_routes import bp as api_tokens_bp
from app.attachments.routes import bp as attachments_bp
from app.auth.routes import bp as auth_bp
from app.contracts.routes import bp as contracts_bp
from app.contracts.routes import overview_bp
from app.contracts.scope import contract_scope
from app.dashboard.routes import bp as dashboard_bp
from app.difficulties.routes import bp as difficulties_bp
from app.exports.routes import bp as exports_bp
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
