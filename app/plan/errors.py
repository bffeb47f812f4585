"""What the plan's rules refuse, turned into 409 pages or fragments by the plan's routes."""

from flask_babel import lazy_gettext as _l

from app.errors import Conflict


class PlanFrozen(Conflict):
    def __init__(self, message=None):
        super().__init__(
            str(
                message
                or _l(
                    "Cette version du plan est figée : une modification passe par un projet de "
                    "version ouvert par une demande de modification."
                )
            )
        )


class EditConflict(Conflict):
    """Someone saved other text in the same fields since the version this save is based on."""

    def __init__(self, item, *, posted: dict, fields: list[str], base: dict, last_changes: dict):
        super().__init__(str(_l("Quelqu'un a modifié les mêmes champs entre-temps.")))
        self.item = item
        self.posted = posted  # what the user typed, kept whole
        self.fields = fields  # the clashing fields
        self.base = base  # the text both started from
        self.last_changes = last_changes  # field -> the ItemChange that wrote their text


class ItemGone(Conflict):
    def __init__(self, kind: str):
        super().__init__(str(_l("Cet élément a été supprimé entre-temps par quelqu'un d'autre.")))
        self.kind = kind


class StaleDelete(Conflict):
    def __init__(self, item, last_change):
        super().__init__(
            str(
                _l(
                    "Cet élément a été modifié depuis que vous l'avez ouvert : relisez-le avant "
                    "de le supprimer."
                )
            )
        )
        self.item = item
        self.last_change = last_change
