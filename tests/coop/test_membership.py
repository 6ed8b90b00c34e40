import threading

import pytest
from django.db import IntegrityError, connection, transaction

from coop import services
from coop.errors import ApplicationError, Conflict, Forbidden
from coop.models import Membership, MembershipEvent
from tests import factories
from tests.conftest import requires_postgres

S = Membership.Status


@pytest.mark.django_db
class TestLifecycle:
    def test_apply_admit_activate_records_every_change(self, steward):
        user = factories.make_user()
        membership = services.membership_apply(
            user=user, display_name="Amina", country="ke", timezone_name="Africa/Nairobi", languages="en, SW", skills=["OCR"]
        )
        assert membership.status == S.APPLIED
        assert membership.country == "KE"
        assert membership.languages == ["en", "sw"]
        assert membership.skills == ["ocr"]
        assert user.role == "applicant"

        services.membership_admit(membership=membership, actor=steward, reason="Welcome")
        membership = services.membership_activate(membership=membership, actor=user, accept_agreement=True)
        membership.refresh_from_db()
        assert membership.status == S.ACTIVE
        assert membership.member_number is not None
        user.refresh_from_db()
        assert user.role == "member"

        events = list(MembershipEvent.objects.filter(membership=membership).order_by("created_at", "id"))
        assert [(e.from_status, e.to_status) for e in events] == [("", "applied"), ("applied", "admitted"), ("admitted", "active")]
        assert events[1].actor == steward and events[1].reason == "Welcome"
        assert events[2].actor == user

    def test_applying_notifies_stewards(self, steward):
        factories.make_applicant(display_name="Grace")
        titles = list(steward.notifications.filter(kind="membership.applied").values_list("title", flat=True))
        assert titles == ["New membership application from Grace"]

    def test_suspension_requires_reason_and_is_recorded(self, steward, member):
        with pytest.raises(ApplicationError) as excinfo:
            services.membership_suspend(membership=member.membership, actor=None, reason="   ")
        assert excinfo.value.code == "reason_required"
        member.membership.refresh_from_db()
        assert member.membership.status == S.ACTIVE

        services.membership_suspend(membership=member.membership, actor=None, reason="Repeated spam answers")
        member.membership.refresh_from_db()
        assert member.membership.status == S.SUSPENDED
        event = member.membership.events.first()
        assert (event.to_status, event.actor, event.reason) == ("suspended", None, "Repeated spam answers")
        assert member.notifications.filter(kind="membership.suspended").exists()

        services.membership_reinstate(membership=member.membership, actor=steward, reason="Appeal upheld")
        member.membership.refresh_from_db()
        assert member.membership.status == S.ACTIVE

    def test_invalid_transition_is_a_conflict(self, steward, applicant):
        with pytest.raises(Conflict) as excinfo:
            services.membership_suspend(membership=applicant.membership, actor=None, reason="x")
        assert excinfo.value.code == "invalid_transition"
        assert applicant.membership.events.count() == 1

    def test_only_stewards_admit_or_suspend(self, member, applicant):
        with pytest.raises(Forbidden):
            services.membership_admit(membership=applicant.membership, actor=member)
        other = factories.make_member()
        with pytest.raises(Forbidden):
            services.membership_suspend(membership=other.membership, actor=member, reason="no")

    def test_adversarial_no_single_steward_suspends_a_member(self, steward, member):
        """One steward, acting alone, cannot suspend anyone (themself included): due process decides."""
        for target in (member, steward):
            with pytest.raises(Forbidden) as excinfo:
                services.membership_suspend(membership=target.membership, actor=steward, reason="Acting alone")
            assert excinfo.value.code == "suspension_needs_due_process"
        assert Membership.objects.filter(status=S.SUSPENDED).count() == 0

    def test_leaving_drops_steward_role_and_allows_reapplying(self, steward):
        services.membership_leave(membership=steward.membership, actor=steward, reason="Moving on")
        steward.membership.refresh_from_db()
        assert steward.membership.status == S.LEFT and not steward.membership.is_steward
        again = services.membership_apply(user=steward, display_name="Back again", country="GB", timezone_name="UTC")
        assert again.status == S.APPLIED and again.display_name == "Back again"

    def test_client_users_cannot_become_members(self, client_user):
        with pytest.raises(Forbidden):
            services.membership_apply(user=client_user, display_name="Client", country="US", timezone_name="UTC")
        assert not Membership.objects.filter(user=client_user).exists()

    def test_bad_profile_is_rejected_with_field_errors(self):
        user = factories.make_user()
        with pytest.raises(ApplicationError) as excinfo:
            services.membership_apply(user=user, display_name="", country="Kenya", timezone_name="Mars/Base")
        assert set(excinfo.value.fields) == {"display_name", "country", "timezone"}
        assert not Membership.objects.filter(user=user).exists()

    def test_database_refuses_suspension_without_reason(self, member):
        with pytest.raises(IntegrityError), transaction.atomic():
            Membership.objects.filter(pk=member.membership.pk).update(status=S.SUSPENDED, status_reason="")

    def test_database_refuses_inactive_steward(self, applicant):
        with pytest.raises(IntegrityError), transaction.atomic():
            Membership.objects.filter(pk=applicant.membership.pk).update(is_steward=True)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_activations_get_distinct_member_numbers():
    applicants = [factories.make_applicant() for _ in range(8)]
    admitted = [services.membership_admit(membership=a.membership, actor=None) for a in applicants]
    barrier = threading.Barrier(len(admitted))
    errors = []

    def activate(user, membership):
        try:
            barrier.wait()
            services.membership_activate(membership=membership, actor=user, accept_agreement=True)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=activate, args=(a, m)) for a, m in zip(applicants, admitted)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = list(Membership.objects.filter(status=S.ACTIVE).values_list("member_number", flat=True))
    assert len(numbers) == 8 and len(set(numbers)) == 8
