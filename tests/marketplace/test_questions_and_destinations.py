"""Project questions and amended instructions; payout destinations with the account-takeover guard."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core import mail
from django.utils import timezone

from coop.errors import ApplicationError, Conflict, NotFound
from governance.models import NotificationPreference
from marketplace.expert import questions
from marketplace.expert.models import InstructionsVersion, PayoutDestination, ProjectQuestion
from marketplace.ledger import payout_destinations, payouts
from marketplace.pseudonyms import worker_pseudonym
from marketplace.services import claiming, submission
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(organization):
    return factories.make_project(organization, tasks=3, overlap=1, max_overlap=1)


def work_once(member, project):
    lease = claiming.work_next(worker=member, project=project).assignment
    submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": "abc"}, idempotency_key=f"k{lease.pk}")


class TestQuestions:
    def test_a_question_is_answered_for_every_member_and_the_client_sees_a_pseudonym(self, organization, live, member, org_api, member_api):
        other = factories.make_member()
        work_once(other, live)
        NotificationPreference.objects.create(user=other, daily_digest=True)
        asked = member_api.post(f"/api/v1/work/projects/{live.pk}/questions/", {"body": "Should I type the dashes?"}, format="json")
        assert asked.status_code == 201
        seen = org_api.get(f"/api/v1/projects/{live.pk}/questions/").json()
        assert seen[0]["asked_by"] == worker_pseudonym(organization_id=organization.pk, worker_id=member.pk)
        assert member.email not in str(seen)
        answered = org_api.post(f"/api/v1/projects/{live.pk}/questions/{seen[0]['id']}/answer/", {"answer": "Yes, type them."}, format="json")
        assert answered.status_code == 200
        listed = factories.make_member()
        from rest_framework.test import APIClient

        api = APIClient()
        api.force_authenticate(listed)
        assert api.get(f"/api/v1/work/projects/{live.pk}/questions/").json()[0]["answer"] == "Yes, type them."
        assert member.notifications.filter(kind="project.question_answered").exists()
        assert other.notifications.filter(kind="project.question_answered").exists()  # kept in the digest member's inbox
        # ... and listed in their daily digest, with the governance news.
        from governance.services import governance_digest_send

        assert governance_digest_send(now=timezone.now() + timedelta(minutes=5)) == 1
        digest = other.notifications.get(kind="governance.digest")
        assert live.title in digest.body and not member.notifications.filter(kind="governance.digest").exists()

    def test_adversarial_another_client_cannot_read_or_answer(self, live, member):
        question = questions.question_ask(member=member, project=live, body="Is this a 0 or an O?")
        other = factories.make_organization()
        with pytest.raises(NotFound):
            questions.question_answer(organization=other, question_id=question.pk, answer="It is a zero, trust me.")
        assert ProjectQuestion.objects.get().answer == ""

    def test_bad_input_changes_nothing(self, live, member, client_user):
        with pytest.raises(ApplicationError):
            questions.question_ask(member=member, project=live, body="?")
        with pytest.raises(ApplicationError):
            questions.question_ask(member=client_user, project=live, body="Am I allowed to ask this?")
        assert not ProjectQuestion.objects.exists()

    def test_amended_instructions_are_versioned_and_members_see_what_changed(self, organization, live, member, client):
        work_once(member, live)
        old = live.instructions
        version = questions.instructions_amend(organization=organization, project=live, instructions=old + " Ignore the watermark.",
                                               note="Added the watermark rule after questions.")
        live.refresh_from_db()
        assert version.version == 1 and version.instructions == old and live.instructions.endswith("watermark.")
        assert member.notifications.filter(kind="project.instructions_amended").exists()
        client.force_login(member)
        page = client.get(f"/work/projects/{live.pk}/questions/").content.decode()
        assert 'data-testid="instructions-change"' in page and "<ins>Ignore the watermark.</ins>" in page
        with pytest.raises(ApplicationError):
            questions.instructions_amend(organization=organization, project=live, instructions=live.instructions, note="No change at all.")
        assert InstructionsVersion.objects.count() == 1

    def test_the_console_answers_and_amends(self, organization, live, member, client_user, client):
        question = questions.question_ask(member=member, project=live, body="Upper or lower case?")
        client.force_login(client_user)
        page = client.get(f"/client/questions/{live.pk}/").content.decode()
        assert "Upper or lower case?" in page and member.email not in page
        client.post(f"/client/questions/{live.pk}/", {"question": question.pk, "answer": "Lower case."})
        question.refresh_from_db()
        assert question.answer == "Lower case."


class TestPayoutDestinations:
    def test_setting_one_masks_it_emails_the_member_and_holds_payouts_for_a_day(self, member, steward, live, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            destination = payout_destinations.payout_destination_set(member=member, method="mobile_money",
                                                                      details={"provider": "M-Pesa", "phone": "+254 712 345678"})
        assert destination.masked == "M-Pesa ••••5678"
        assert mail.outbox and mail.outbox[-1].to == [member.email] and "held" in mail.outbox[-1].body
        factories.deposit(live.organization, "50.00")
        PayoutDestination.objects.filter(pk=destination.pk).update(payouts_held_until=timezone.now() + timedelta(hours=24))
        from marketplace.ledger.services import account_for, ledger_post

        bank, earnings = account_for(kind="coop_bank"), account_for(kind="worker_earnings", user=member)
        ledger_post(event_key="test:credit", kind="correction", entries=[(bank, D("20")), (earnings, D("-20"))])
        with pytest.raises(Conflict) as held:
            payouts.payout_request(worker=member)
        assert held.value.code == "payout_destination_hold"
        PayoutDestination.objects.filter(pk=destination.pk).update(payouts_held_until=timezone.now() - timedelta(seconds=1))
        payout = payouts.payout_request(worker=member)
        # An attacker changes the destination after the request: the steward cannot send it for 24 hours.
        payout_destinations.payout_destination_set(member=member, method="bank", details={"account_name": "X", "iban_or_account": "DE00 1234 5678", "bank": "Evil"})
        with pytest.raises(Conflict):
            payouts.payout_mark_paid(payout=payout, reference="MPESA-1", steward=steward)
        assert PayoutDestination.objects.filter(member=member, is_current=True).count() == 1

    def test_bad_input_changes_nothing(self, member):
        for method, details in (("cash", {}), ("mobile_money", {"provider": "M-Pesa", "phone": "call me"}),
                                ("bank", {"account_name": "A", "iban_or_account": "1"}), ("other", {"description": "x", "extra": "y"})):
            with pytest.raises(ApplicationError):
                payout_destinations.payout_destination_set(member=member, method=method, details=details)
        assert not PayoutDestination.objects.exists()

    def test_stewards_see_it_on_the_payout_desk_and_the_member_sees_it_masked(self, member, steward, client, member_api):
        payout_destinations.payout_destination_set(member=member, method="mobile_money", details={"provider": "M-Pesa", "phone": "+254712345678"})
        assert member_api.get("/api/v1/work/payout-destination/").json()["destination"]["masked"] == "M-Pesa ••••5678"
        assert member_api.put("/api/v1/work/payout-destination/", {"method": "bank", "details": {"bank": "B"}}, format="json").status_code == 422
        from marketplace.ledger.services import account_for, ledger_post

        ledger_post(event_key="t:c", kind="correction", entries=[(account_for(kind="coop_bank"), D("20")), (account_for(kind="worker_earnings", user=member), D("-20"))])
        PayoutDestination.objects.update(payouts_held_until=timezone.now() - timedelta(seconds=1))
        payouts.payout_request(worker=member)
        client.force_login(steward)
        page = client.get("/stewards/payouts/").content.decode()
        assert 'data-testid="payout-destination"' in page and "+254712345678" in page
