"""Attachments (pièces jointes): files checked, stored outside the web root and downloaded by
the members of their contract. Other features call `services.store_upload` and
`services.attachment_for`, and link to `contract.attachments.download`."""

from app.attachments import models  # noqa: F401  (the table is known to Alembic and the app)
from app.attachments.scanning import init_attachments

__all__ = ["init_attachments"]
