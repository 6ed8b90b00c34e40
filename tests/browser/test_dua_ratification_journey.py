"""Members ratify a data-use agreement in Chromium; the client's project, refused before, then publishes."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from governance import services as governance
from governance.models import Proposal
from marketplace.models import Project
from tests import factories
from tests.browser.conftest import in_thread, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _setup():
    steward = factories.make_steward("steward@example.org")
    members = [factories.make_member(f"voter{i}@example.org") for i in range(2)]
    organization = factories.make_organization("Vision Labs")
    today = timezone.localdate()
    contract = governance.contract_create(
        actor=steward,
        organization=organization,
        title="Vision Labs OCR",
        scope="Receipts OCR.",
        task_types=["ocr"],
        rate_card={"ocr": "0.08"},
        payment_terms="Escrow first.",
        term_start=today - dt.timedelta(days=1),
        term_end=today + dt.timedelta(days=200),
        termination_notice_days=30,
    )
    factories.ratify_by_vote(contract)
    dua = governance.dua_create(
        actor=steward, contract=contract, permitted_purposes=["model_training"], train_models=True, retention_days=30,
        signatories=[{"name": "Vic Vision", "role": "CEO", "date": str(today)}],
    )
    proposal = governance.dua_propose(actor=steward, dua=dua)
    project = factories.make_project(organization, tasks=2, publish=False, title="Receipts")
    factories.fund_project(project)  # the client has deposited what the project's escrow needs
    return members, proposal, project, factories.org_token(organization)


def test_members_ratify_a_dua_then_the_project_publishes(browser, page, asgi_live_server):
    members, proposal, project, token = in_thread(_setup)
    publish_url = f"{asgi_live_server.url}/api/v1/projects/{project.pk}/publish/"
    headers = {"Authorization": f"Bearer {token}"}

    refused = page.request.post(publish_url, headers=headers)
    assert refused.status == 422 and refused.json()["error"]["code"] == "no_active_dua"

    for member in members:
        context = browser.new_context(base_url=asgi_live_server.url)
        member_page = context.new_page()
        sign_in(member_page, member.email, factories.PASSWORD)
        member_page.goto("/governance/")
        member_page.get_by_role("link", name=re.compile("ratif", re.I)).first.click()
        member_page.get_by_label("Yes").check()
        member_page.get_by_role("button", name="Vote").click()
        member_page.wait_for_selector("[data-testid=vote-history]")
        context.close()

    # The scheduled job closes the ballot at its closing time.
    closed = in_thread(lambda: governance.proposal_close(proposal=Proposal.objects.get(pk=proposal.pk), now=proposal.closes_at))
    assert closed.outcome == "passed"

    published = page.request.post(publish_url, headers=headers)
    assert published.status == 200 and published.json()["status"] == "published"
    assert in_thread(lambda: Project.objects.get(pk=project.pk).dua_id) == proposal.dua_id
