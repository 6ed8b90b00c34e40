"""Qualifications: tests of gold items taken as paid work, grants by test or by vote (never silently), signed export."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from coop.errors import ApplicationError, Conflict, Forbidden
from governance.models import Elector
from marketplace.expert import qualifications
from marketplace.expert.models import Qualification, QualificationAttempt, QualificationGrant, QualificationTestItem
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.selectors import client_cash_balance, worker_balance
from tests import factories
from tests.marketplace.expert import ITEMS, RIGHT, WRONG, answers, decide, make_qualification, pass_test

pytestmark = pytest.mark.django_db


def available(member):
    return worker_balance(member)["available"]


class TestDefiningATest:
    @pytest.mark.parametrize(
        "change, field",
        [
            ({"items": []}, "items"),
            ({"pass_mark": "100.01"}, "pass_mark"),
            ({"pass_mark": "0"}, "pass_mark"),
            ({"test_pay": "0.5000"}, "test_pay"),  # 300 s at the 20.00 floor needs 1.6667
            ({"retry_delay_hours": -1}, "retry_delay_hours"),
        ],
    )
    def test_bad_input_is_a_clear_error_and_writes_nothing(self, organization, change, field):
        with pytest.raises(ApplicationError) as refused:
            make_qualification(organization, fund=False, **change)
        assert field in refused.value.fields
        assert not Qualification.objects.exists() and not QualificationTestItem.objects.exists()

    def test_an_item_without_its_gold_answer_or_with_bad_data_rolls_everything_back(self, organization):
        for broken in ({**ITEMS[0], "gold": None}, {**ITEMS[0], "data": {}}, {**ITEMS[0], "task_type": "essay"}, {**ITEMS[0], "task_type": "rewrite"}, {**ITEMS[3], "data": {"image": "bm90IGFuIGltYWdl"}}):
            with pytest.raises(ApplicationError):
                make_qualification(organization, fund=False, items=[ITEMS[1], broken])
        assert not Qualification.objects.exists()

    def test_test_pay_must_meet_the_pay_floor_for_the_tests_time(self, organization):
        with pytest.raises(ApplicationError) as refused:
            make_qualification(organization, fund=False, test_pay="1.6666")
        assert "1.6667" in refused.value.fields["test_pay"][0]
        assert make_qualification(organization, fund=False, test_pay="1.6667").test_pay == D("1.6667")

    def test_adversarial_a_member_cannot_define_a_co_op_qualification(self, member):
        with pytest.raises(Forbidden):
            qualifications.qualification_create(actor=member, name="Self-made", items=ITEMS, pass_mark="1", test_pay="5", test_estimated_seconds=60)


class TestTakingTheTest:
    def test_passing_pays_from_the_sponsor_and_grants_with_feedback_per_question(self, organization, member):
        qualification = make_qualification(organization)
        cash = client_cash_balance(organization)
        attempt = qualifications.attempt_start(member=member, qualification=qualification)
        assert attempt.pay == D("2.0000") and attempt.items_total == 4
        done = qualifications.attempt_submit(member=member, attempt_id=attempt.pk, answers=answers(attempt, {**RIGHT, 3: {"text": "Rx 4"}}))
        assert (done.score, done.passed, done.items_correct) == (D("75.00"), True, 3)
        assert available(member) == D("2.0000")
        assert client_cash_balance(organization) == cash - D("2.1000")  # pay + the 5 % co-op fee on top
        assert LedgerTransaction.objects.get(event_key=f"test_pay:attempt:{attempt.pk}").kind == "test_pay"
        grant = QualificationGrant.objects.get(member=member)
        assert grant.source == "test" and grant.attempt == done
        assert [a.correct for a in done.answers.order_by("item__position")] == [True, True, True, False]
        assert member.notifications.filter(kind="qualification.attempt").exists()

    def test_failing_is_paid_too_then_the_retry_delay_holds(self, organization, member):
        qualification = make_qualification(organization)
        attempt = qualifications.attempt_start(member=member, qualification=qualification)
        done = qualifications.attempt_submit(member=member, attempt_id=attempt.pk, answers=answers(attempt, WRONG))
        assert done.passed is False and done.score == D("0.00")
        assert available(member) == D("2.0000") and not QualificationGrant.objects.exists()
        with pytest.raises(Conflict) as later:
            qualifications.attempt_start(member=member, qualification=qualification)
        assert later.value.code == "retry_later"
        QualificationAttempt.objects.filter(pk=done.pk).update(submitted_at=timezone.now() - timedelta(hours=25))
        assert qualifications.attempt_start(member=member, qualification=qualification).pk != done.pk

    def test_adversarial_a_resubmission_is_not_paid_or_graded_twice(self, organization, member):
        qualification = make_qualification(organization)
        attempt = qualifications.attempt_start(member=member, qualification=qualification)
        qualifications.attempt_submit(member=member, attempt_id=attempt.pk, answers=answers(attempt, WRONG))
        again = qualifications.attempt_submit(member=member, attempt_id=attempt.pk, answers=answers(attempt, RIGHT))
        assert again.passed is False and available(member) == D("2.0000")
        assert LedgerTransaction.objects.filter(kind="test_pay").count() == 1

    def test_adversarial_starting_twice_gives_back_the_same_attempt(self, organization, member):
        qualification = make_qualification(organization)
        first = qualifications.attempt_start(member=member, qualification=qualification)
        assert qualifications.attempt_start(member=member, qualification=qualification).pk == first.pk
        with pytest.raises(IntegrityError), transaction.atomic():  # the database holds it, whatever the code path
            QualificationAttempt.objects.create(qualification=qualification, member=member, expires_at=first.expires_at, pay=first.pay)

    def test_adversarial_an_incomplete_or_padded_submission_writes_nothing(self, organization, member):
        qualification = make_qualification(organization)
        attempt = qualifications.attempt_start(member=member, qualification=qualification)
        partial = answers(attempt, {0: RIGHT[0]})
        for bad in (partial, {**answers(attempt, RIGHT), "999999": {"choice": "negation"}}, {**answers(attempt, RIGHT), str(attempt.qualification.items.first().pk): {"choice": "maybe"}}):
            with pytest.raises(ApplicationError) as refused:
                qualifications.attempt_submit(member=member, attempt_id=attempt.pk, answers=bad)
            assert refused.value.code == "invalid_answers"
        attempt.refresh_from_db()
        assert attempt.status == "open" and not attempt.answers.exists() and available(member) == 0

    def test_adversarial_another_members_attempt_is_not_found(self, organization, member):
        qualification = make_qualification(organization)
        attempt = qualifications.attempt_start(member=member, qualification=qualification)
        with pytest.raises(ApplicationError) as refused:
            qualifications.attempt_submit(member=factories.make_member(), attempt_id=attempt.pk, answers=answers(attempt, RIGHT))
        assert refused.value.status == 404

    def test_adversarial_an_attempt_past_its_time_is_refused_and_counts(self, organization, member):
        qualification = make_qualification(organization)
        attempt = qualifications.attempt_start(member=member, qualification=qualification)
        QualificationAttempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        with pytest.raises(Conflict) as late:
            qualifications.attempt_submit(member=member, attempt_id=attempt.pk, answers=answers(attempt, RIGHT))
        assert late.value.code == "attempt_expired"
        with pytest.raises(Conflict) as wait:  # looking at the questions and walking away does not buy a fresh try
            qualifications.attempt_start(member=member, qualification=qualification)
        assert wait.value.code == "retry_later"

    def test_a_raised_pay_floor_raises_the_pay_of_a_test_started_after_it(self, organization, member, steward):
        from governance.models import PolicyValue

        qualification = make_qualification(organization)
        PolicyValue.objects.create(key="pay_floor_hourly", value=D("36.00"), effective_from=timezone.now())  # as a passed vote records it
        assert qualifications.attempt_start(member=member, qualification=qualification).pay == D("3.0000")

    def test_a_test_nobody_can_pay_for_does_not_start(self, member):
        qualification = make_qualification(None)  # the co-op pays, and its fee account is empty in a fresh database
        with pytest.raises(ApplicationError) as refused:
            qualifications.attempt_start(member=member, qualification=qualification)
        assert refused.value.code == "test_unfunded" and not QualificationAttempt.objects.exists()

    def test_an_expired_grant_no_longer_counts_and_the_test_can_be_retaken(self, organization, member):
        qualification = make_qualification(organization, valid_days=30)
        pass_test(member, qualification)
        grant = QualificationGrant.objects.get(member=member)
        assert grant.expires_at is not None
        QualificationGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        assert qualifications.grant_in_force(member=member, qualification=qualification) is None
        assert qualifications.attempt_start(member=member, qualification=qualification).status == "open"


class TestGrantedByTheMembers:
    def test_adversarial_no_grant_row_without_a_passed_test_or_a_vote(self, organization, member, steward):
        qualification = make_qualification(organization)
        for source in ("test", "vote", "panel", "steward"):
            with pytest.raises(IntegrityError), transaction.atomic():
                QualificationGrant.objects.create(member=member, qualification=qualification, source=source)

    def test_a_members_vote_grants_it_and_the_candidate_does_not_vote(self, organization, member):
        qualification = make_qualification(organization)
        nominator = factories.make_member()
        others = [factories.make_member() for _ in range(3)]
        proposal = qualifications.qualification_nominate(
            nominator=nominator, candidate=member, qualification=qualification, evidence="Ten years reading radiology reports at a hospital."
        )
        electors = set(Elector.objects.filter(proposal=proposal).values_list("membership__user_id", flat=True))
        assert member.pk not in electors and nominator.pk not in electors and {o.pk for o in others} <= electors
        assert proposal.secret
        decide(proposal, "yes")
        grant = QualificationGrant.objects.get(member=member)
        assert grant.source == "vote" and grant.proposal == proposal and grant.attempt is None

    def test_adversarial_no_second_nomination_while_one_is_open(self, organization, member):
        qualification = make_qualification(organization)
        factories.make_member(), factories.make_member()
        evidence = "Ten years reading radiology reports at a hospital."
        qualifications.qualification_nominate(nominator=factories.make_member(), candidate=member, qualification=qualification, evidence=evidence)
        with pytest.raises(Conflict) as twice:
            qualifications.qualification_nominate(nominator=factories.make_member(), candidate=member, qualification=qualification, evidence=evidence)
        assert twice.value.code == "already_open"

    def test_a_failed_vote_grants_nothing(self, organization, member):
        qualification = make_qualification(organization)
        factories.make_member(), factories.make_member()
        proposal = qualifications.qualification_nominate(
            nominator=factories.make_member(), candidate=member, qualification=qualification, evidence="Trust me, I am very good at this."
        )
        decide(proposal, "no")
        assert not QualificationGrant.objects.exists()

    def test_a_panel_of_peers_who_hold_it_decides(self, organization, member):
        qualification = make_qualification(organization)
        holders = [factories.make_member() for _ in range(3)]
        bystanders = [factories.make_member() for _ in range(2)]
        with pytest.raises(Conflict) as small:
            qualifications.qualification_nominate(
                nominator=holders[0], candidate=member, qualification=qualification, evidence="Peer review by radiologists, please.", by_panel=True
            )
        assert small.value.code == "panel_too_small"
        for holder in holders:
            pass_test(holder, qualification)
        proposal = qualifications.qualification_nominate(
            nominator=bystanders[0], candidate=member, qualification=qualification, evidence="Peer review by radiologists, please.", by_panel=True
        )
        electors = set(Elector.objects.filter(proposal=proposal).values_list("membership__user_id", flat=True))
        assert electors == {h.pk for h in holders} and proposal.decided_by == "panel"
        decide(proposal, "yes")
        assert QualificationGrant.objects.get(member=member).source == "panel"

    def test_adversarial_a_steward_nominating_still_needs_the_vote(self, organization, member, steward):
        qualification = make_qualification(organization)
        factories.make_member(), factories.make_member()
        proposal = qualifications.qualification_nominate(
            nominator=steward, candidate=member, qualification=qualification, evidence="I am a steward and I say so, trust me."
        )
        assert proposal.status == "open" and not QualificationGrant.objects.exists()


class TestSignedExport:
    def test_the_export_verifies_and_any_change_breaks_it(self, organization, member, api_client):
        qualification = make_qualification(organization)
        pass_test(member, qualification)
        document = qualifications.qualification_export(member=member)
        assert [q["slug"] for q in document["qualifications"]] == [qualification.slug]
        assert document["signature"]["alg"] == "HMAC-SHA256"
        assert qualifications.qualification_export_verify(document)
        forged = {**document, "qualifications": [{**document["qualifications"][0], "score": "99.00", "source": "vote"}]}
        assert not qualifications.qualification_export_verify(forged)
        assert not qualifications.qualification_export_verify({**document, "signature": {"value": "0" * 64}})
        assert not qualifications.qualification_export_verify("not a document")
        # anyone (another platform) can check it, without an account
        assert api_client.post("/api/v1/qualifications/verify/", document, format="json").json()["valid"] is True
        assert api_client.post("/api/v1/qualifications/verify/", forged, format="json").json()["valid"] is False


class TestApi:
    def test_a_client_defines_a_test_and_a_member_takes_it_over_the_api(self, organization, org_api, member_api, member):
        body = {"name": "German legal text", "pass_mark": "50", "test_pay": "1.0000", "test_estimated_seconds": 120,
                "items": [ITEMS[0], ITEMS[1]]}
        created = org_api.post("/api/v1/qualifications/", body, format="json")
        assert created.status_code == 201 and created.json()["sponsor"] == organization.slug
        assert org_api.post("/api/v1/qualifications/", {**body, "name": "Other", "items": []}, format="json").status_code == 422
        assert org_api.post("/api/v1/qualifications/", {**body, "name": "Other", "pass_mark": "150"}, format="json").status_code == 422
        assert org_api.post("/api/v1/qualifications/", {**body, "name": "Other", "pass_mrak": "50"}, format="json").status_code == 400
        factories.deposit(organization, "10.00")
        started = member_api.post("/api/v1/qualifications/german-legal-text/attempts/")
        assert started.status_code == 201 and "gold" not in str(started.json()["items"])
        items = started.json()["items"]
        result = member_api.post(
            f"/api/v1/qualifications/attempts/{started.json()['id']}/submit/",
            {"answers": {str(items[0]["id"]): {"choice": "negation"}, str(items[1]["id"]): {"choice": "negation"}}},
            format="json",
        ).json()
        assert result["score"] == "50.00" and result["passed"] is True
        assert [i["correct"] for i in result["items"]] == [True, False] and result["items"][0]["explanation"]
        export = member_api.get("/api/v1/work/qualifications/export/").json()
        assert export["qualifications"][0]["slug"] == "german-legal-text"

    def test_portal_pages(self, client, organization, member):
        qualification = make_qualification(organization)
        client.force_login(member)
        assert qualification.name in client.get("/work/qualifications/").content.decode()
        started = client.post(f"/work/qualifications/{qualification.slug}/start/")
        attempt = QualificationAttempt.objects.get(member=member)
        assert started.url == f"/work/qualifications/attempts/{attempt.pk}/"
        assert "Question 4" in client.get(started.url).content.decode()
        items = list(attempt.qualification.items.order_by("position"))
        page = client.post(started.url, {f"item-{items[0].pk}": "negation", f"item-{items[1].pk}": "affirmation",
                                         f"item-{items[2].pk}": "a", f"item-{items[3].pk}": "Rx 42"}, follow=True).content.decode()
        assert "100.00 %" in page and "You passed" in page
        download = client.get("/work/qualifications/export.json")
        assert download["Content-Type"] == "application/json" and qualifications.qualification_export_verify(__import__("json").loads(download.content))


def test_the_client_console_defines_a_sponsored_qualification(organization, client_user, client):
    import json

    client.force_login(client_user)
    base = {"name": "Python code review", "pass_mark": "80", "test_pay": "2.0000", "test_estimated_seconds": "300", "retry_delay_hours": "24"}
    refused = client.post("/client/qualifications/", {**base, "items": "[]"}).content.decode()
    assert "at least one gold item" in refused and not Qualification.objects.exists()
    assert "pass_mark" in str(client.post("/client/qualifications/", {**base, "pass_mark": "101", "items": json.dumps(ITEMS[:2])}).context["errors"])
    assert client.post("/client/qualifications/", {**base, "items": "not json"}).status_code == 200 and not Qualification.objects.exists()
    created = client.post("/client/qualifications/", {**base, "items": json.dumps(ITEMS[:2])})
    assert created.status_code == 302
    qualification = Qualification.objects.get()
    assert qualification.sponsor == organization and qualification.items.count() == 2
    assert "Python code review" in client.get("/client/qualifications/").content.decode()
