"""Domain exceptions raised by services and turned into French 4xx answers by one handler."""


class DomainError(Exception):
    """A rule refused the action; `message` is shown to the user as is."""

    status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    status = 403


class InvalidLink(DomainError):
    """A single-use link that was already used, has expired or never existed."""

    status = 410


class Conflict(DomainError):
    status = 409
