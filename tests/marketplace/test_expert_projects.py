"""Projects that require qualifications and languages, and gold accuracy that counts (openly, with appeal)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from coop.errors import ApplicationError
from governance.models import Proposal
from marketplace.expert.models import GoldAccuracyHold
from marketplace.models import Project
from marketplace.services import claiming, importing, submission
from tests import factories
from tests.marketplace.expert import decide, make_qualification, pass_test

pytestmark = pytest.mark.django_db


def expert_project(organization, *, qualification=None, languages=(), publish=True, **fields):
    defaults = {"pay_per_task": "0.2000", "estimated_seconds": 12}
    if qualification is not None:
        defaults["required_qualifications"] = [qualification.slug]
    if languages:
        defaults["required_languages"] = list(languages)
    return factories.make_project(organization, tasks=4, publish=publish, **{**defaults, **fields})


class TestRequirements:
    def test_adversarial_a_required_qualification_that_does_not_exist_is_refused_and_nothing_is_created(self, organization, org_api):
        body = {"title": "Legal", "instructions": "Read it.", "task_type": "ocr", "pay_per_task": "0.10", "estimated_seconds": 10,
                "required_qualifications": ["no-such-thing"]}
        response = org_api.post("/api/v1/projects/", body, format="json")
        assert response.status_code == 422 and "required_qualifications" in response.json()["error"]["fields"]
        assert not Project.objects.exists()
        bad_language = org_api.post("/api/v1/projects/", {**body, "required_qualifications": [], "required_languages": ["German!"]}, format="json")
        assert bad_language.status_code == 422 and not Project.objects.exists()

    def test_the_api_takes_and_shows_the_expert_terms(self, organization, org_api):
        qualification = make_qualification(organization)
        body = {"title": "Radiology", "instructions": "Read it.", "task_type": "ocr", "pay_per_task": "0.10", "estimated_seconds": 10,
                "required_qualifications": [qualification.slug], "required_languages": ["DE"], "min_gold_accuracy": "0.800", "min_gold_answers": 5}
        created = org_api.post("/api/v1/projects/", body, format="json")
        assert created.status_code == 201, created.json()
        out = created.json()
        assert out["required_qualifications"] == [qualification.slug] and out["required_languages"] == ["de"]
        assert out["min_gold_accuracy"] == "0.800" and out["min_gold_answers"] == 5
        patched = org_api.patch(f"/api/v1/projects/{out['id']}/", {"required_qualifications": []}, format="json")
        assert patched.json()["required_qualifications"] == []

    def test_claiming_refuses_with_the_reason_and_the_feed_links_the_test(self, organization, member, member_api, client):
        qualification = make_qualification(organization)
        project = expert_project(organization, qualification=qualification)
        response = member_api.post("/api/v1/work/next/", {"project": project.pk}, format="json")
        assert response.status_code == 204 and response["X-Coop-Reason"] == "qualification_required"
        assert member_api.post("/api/v1/work/next/", {}, format="json")["X-Coop-Reason"] == "no_open_projects"
        client.force_login(member)
        feed = client.get("/work/").content.decode()
        assert 'data-testid="qualification-needed"' in feed and f"/work/qualifications/{qualification.slug}/" in feed
        pass_test(member, qualification)
        claimed = member_api.post("/api/v1/work/next/", {"project": project.pk}, format="json")
        assert claimed.status_code == 200 and claimed.json()["project"]["id"] == project.pk

    def test_adversarial_an_expired_qualification_stops_claims(self, organization, member):
        from datetime import timedelta

        from django.utils import timezone

        from marketplace.expert.models import QualificationGrant

        qualification = make_qualification(organization, valid_days=10)
        project = expert_project(organization, qualification=qualification)
        pass_test(member, qualification)
        assert claiming.work_next(worker=member, project=project).assignment is not None
        QualificationGrant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        assert claiming.work_next(worker=member, project=project).reason == "qualification_required"

    def test_languages_are_read_from_the_members_profile(self, organization):
        project = expert_project(organization, languages=["de"])
        english = factories.make_member(languages=["en"])
        german = factories.make_member(languages=["en", "de"])
        assert claiming.work_next(worker=english, project=project).reason == "language_required"
        assert claiming.work_next(worker=german, project=project).assignment is not None


def gold_project(organization, **fields):
    """Half the work is gold (answers t<i>), the minimum applies after 2 gold answers."""
    project = factories.make_project(
        organization, tasks=0, publish=False, pay_per_task="0.1000", estimated_seconds=12, gold_ratio="0.5",
        min_gold_accuracy="0.5", min_gold_answers=2, **fields,
    )
    importing.tasks_import(project=project, rows=enumerate(factories.task_rows("ocr", 12, gold_every=2), start=1))
    factories.make_active_dua(organization)
    factories.fund_project(project)
    from marketplace.services import projects

    return projects.project_publish(project=project)


def answer_next(member, project, *, right: bool):
    lease = claiming.work_next(worker=member, project=project).assignment
    assert lease is not None
    text = lease.task.gold["text"] if (lease.is_gold and right) else "wrong"
    submission.assignment_submit(worker=member, assignment_id=lease.pk, payload={"text": text}, idempotency_key=f"k{lease.pk}")
    return lease


class TestGoldAccuracy:
    def test_adversarial_below_the_minimum_after_n_gold_answers_no_more_tasks_told_why(self, organization, member, member_api, client):
        project = gold_project(organization)
        golds = 0
        while golds < 2:  # wrong on every gold task
            golds += answer_next(member, project, right=False).is_gold
        hold = GoldAccuracyHold.objects.get(worker=member, project=project)
        assert (hold.gold_answered, hold.gold_correct, hold.status) == (2, 0, "in_force")
        assert member.notifications.filter(kind="marketplace.accuracy_hold").exists()
        response = member_api.post("/api/v1/work/next/", {"project": project.pk}, format="json")
        assert response.status_code == 204 and response["X-Coop-Reason"] == "gold_accuracy_below_minimum"
        client.force_login(member)
        assert 'data-testid="accuracy-hold"' in client.get("/work/").content.decode()
        page = client.get("/work/accuracy/").content.decode()
        assert "Held off this project" in page and "Appeal to the members" in page
        mine = member_api.get("/api/v1/work/accuracy/").json()
        assert mine[0]["held"] is True and mine[0]["gold_answered"] == 2 and mine[0]["min_gold_accuracy"] == "0.500"

    def test_before_n_gold_answers_nobody_is_held(self, organization, member):
        project = gold_project(organization)
        while not answer_next(member, project, right=False).is_gold:
            pass
        assert not GoldAccuracyHold.objects.exists()
        assert claiming.work_next(worker=member, project=project).assignment is not None

    def test_an_upheld_appeal_lifts_the_hold_and_counts_afresh(self, organization, member, client):
        project = gold_project(organization)
        voters = [factories.make_member() for _ in range(3)]
        golds = 0
        while golds < 2:
            golds += answer_next(member, project, right=False).is_gold
        client.force_login(member)
        client.post(f"/work/accuracy/{project.pk}/appeal/", {"reason": "The gold answers had typos; see task img-0."})
        appeal = Proposal.objects.get(kind="appeal", effect_key="appeal_accuracy_hold")
        assert appeal.subject == GoldAccuracyHold.objects.get()
        client.force_login(voters[0])
        assert client.get(f"/governance/proposals/{appeal.pk}/").status_code == 200  # the deciders read the case
        decide(appeal, "yes")
        assert GoldAccuracyHold.objects.get().status == "lifted"
        assert claiming.work_next(worker=member, project=project).assignment is not None
        assert voters  # the members, not the appellant, decided

    def test_a_member_above_the_minimum_keeps_working(self, organization, member):
        project = gold_project(organization)
        for _ in range(5):
            answer_next(member, project, right=True)
        assert not GoldAccuracyHold.objects.exists()

    def test_bad_minimums_are_refused(self, organization):
        for bad in ({"min_gold_accuracy": "1.5"}, {"min_gold_accuracy": "0"}, {"min_gold_answers": 0}):
            with pytest.raises(ApplicationError):
                factories.make_project(organization, tasks=0, publish=False, **bad)
        assert not Project.objects.exists()


def test_min_gold_accuracy_is_counted_exactly(organization, member):
    """2 of 3 is 0.667 rounded, but below a 0.667 minimum: no rounding decides a hold."""
    from marketplace.expert.eligibility import GoldStanding

    assert GoldStanding(3, 2, D("0.667"), 3, None).below
    assert not GoldStanding(3, 2, D("0.666"), 3, None).below


def test_the_client_console_sets_and_shows_the_expert_terms(organization, client_user, client):
    qualification = make_qualification(organization)
    client.force_login(client_user)
    form = client.get("/client/projects/new/").content.decode()
    assert qualification.name in form and "required_languages" in form
    response = client.post("/client/projects/new/", {
        "title": "Radiology", "task_type": "ocr", "instructions": "Read it.", "pay_per_task": "0.2000", "estimated_seconds": "12",
        "overlap": "1", "max_overlap": "2", "agreement_target": "0.66", "gold_ratio": "0.1", "review_period_hours": "72",
        "required_qualifications": [qualification.slug], "required_languages": "de, EN", "min_gold_accuracy": "0.8", "min_gold_answers": "5",
    })
    project = Project.objects.get()
    assert response.status_code == 302
    assert list(project.required_qualifications.all()) == [qualification] and project.required_languages == ["de", "en"]
    assert project.min_gold_accuracy == D("0.800") and project.min_gold_answers == 5
    edit = client.get(f"/client/projects/{project.pk}/edit/").content.decode()
    assert 'value="de, en"' in edit
    bad = client.post(f"/client/projects/{project.pk}/edit/", {
        "title": "Radiology", "instructions": "Read it.", "pay_per_task": "0.2000", "estimated_seconds": "12", "overlap": "1",
        "max_overlap": "2", "agreement_target": "0.66", "gold_ratio": "0.1", "review_period_hours": "72", "required_languages": "German!",
    })
    assert bad.status_code == 200 and "Not a language code" in bad.content.decode()
    project.refresh_from_db()
    assert project.required_languages == ["de", "en"]


def test_the_labeling_page_says_why_not(organization, member, client):
    qualification = make_qualification(organization)
    project = expert_project(organization, qualification=qualification)
    client.force_login(member)
    page = client.get(f"/work/projects/{project.pk}/label/", follow=True).content.decode()
    assert "take its test (paid) first" in page


def test_members_and_the_client_see_the_expert_terms(organization, member, client_user, client):
    qualification = make_qualification(organization)
    project = expert_project(organization, qualification=qualification, languages=["de"], min_gold_accuracy="0.9", min_gold_answers=4)
    client.force_login(member)
    terms = client.get(f"/work/projects/{project.pk}/").content.decode()
    assert 'data-testid="expert-terms"' in terms and "Radiology reports" in terms and "90 %" in terms
    client.force_login(client_user)
    assert "Radiology reports" in client.get(f"/client/projects/{project.pk}/").content.decode()
