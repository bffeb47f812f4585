"""Discussion threads: messages shared with the other side, or internal notes of one's own
side, attached to any subject of a contract (a difficulty today, a plan item tomorrow)."""

from app.threads import models  # noqa: F401  (the tables exist for Alembic and the app)
