"""Review meetings (revues): scheduling and invitations, the agenda built from what happened
since the previous one, the live meeting (notes, outcomes, result-obligation assessments), and
the minutes written alternately by each side, approved by the other, frozen and sent."""

from app.reviews import models  # noqa: F401
