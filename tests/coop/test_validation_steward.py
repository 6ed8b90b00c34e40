"""The one steward check (coop.validation.require_steward): who passes, and when the co-op itself may act."""

import pytest

from coop.errors import ApplicationError
from coop.models import User
from coop.validation import require_steward
from tests import factories

pytestmark = pytest.mark.django_db


def refused(actor, **flags) -> bool:
    try:
        require_steward(actor, "Only stewards.", **flags)
    except ApplicationError as error:
        assert error.code == "steward_required" and error.status == 403 and error.message == "Only stewards."
        return True
    return False


def test_a_steward_passes_a_member_never_does():
    assert not refused(factories.make_steward())
    assert refused(factories.make_member())
    assert refused(factories.make_member(), system=True, superuser=True)


def test_adversarial_a_missing_actor_passes_only_where_the_co_op_itself_may_act():
    assert refused(None)
    assert not refused(None, system=True)


def test_the_operator_passes_only_where_money_is_recorded():
    operator = User.objects.create_superuser(email="operator@coop.test", password="x" * 12)
    assert refused(operator) and refused(operator, system=True)
    assert not refused(operator, superuser=True)
