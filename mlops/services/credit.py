"""Members choose how model cards and datasheets credit them: a pseudonym (default) or their display name."""

from __future__ import annotations

from coop.errors import Forbidden
from coop.models import User
from mlops.error_codes import MlopsErrorCode

from ..models import ContributorCredit


def contributor_credit_set(*, user: User, credit_by_name: bool) -> ContributorCredit:
    """Set the member's own credit preference (members only; applies to every card, past and future)."""
    if not user.is_member:
        raise Forbidden("Only members are credited on model cards.", code=MlopsErrorCode.NOT_MEMBER)
    credit, _ = ContributorCredit.objects.update_or_create(user=user, defaults={"credit_by_name": bool(credit_by_name)})
    return credit
