"""The portable benefits fund, through the services: the fee share, claims and their decision, payouts, privacy, portability.

Rules are set the way a passed vote sets them (a PolicyValue row in force
now); one test changes a rule through a real policy_change vote.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from coop.errors import ApplicationError
from governance import services as governance
from governance.models import Elector, GovernanceLog, PolicyValue, Proposal
from marketplace.benefits import selectors as benefits
from marketplace.benefits import services
from marketplace.benefits.models import BenefitClaim
from marketplace.ledger import selectors as ledger
from marketplace.ledger.models import AccountKind, LedgerTransaction
from marketplace.ledger.services import account_for
from marketplace.models import Answer
from tests import factories
from tests.conftest import requires_postgres
from tests.marketplace.money import answer, assert_books_balance, funded_project

pytestmark = pytest.mark.django_db
S = BenefitClaim.Status
TODAY = dt.date.today


def rule(key: str, value) -> None:
    """A benefit rule in force from now, as the effect of a passed policy vote records it."""
    PolicyValue.objects.create(key=key, value=D(str(value)), effective_from=timezone.now() - dt.timedelta(seconds=1))


def fund_total() -> D:
    return benefits.fund_balance("USD")


def earn(organization, steward, worker, *, pay="10.00", answers=3, seconds=600) -> list:
    """`worker` does `answers` accepted answers (overlap 1: accepted and paid at submit) of a new project."""
    project = funded_project(organization, steward, pay=pay, seconds=seconds, tasks=answers, escrow="900.00")
    return [answer(project, worker, active_seconds=seconds) for _ in range(answers)]


@pytest.fixture
def fed(organization, steward):
    """A fund fed by 3 answers at 200.00 of another worker, with the fee at 50 % and all of it for the fund: 300.00."""
    rule("coop_fee_rate", "0.5")
    rule("benefits_share_of_fee", "1")
    earn(organization, steward, factories.make_member(), pay="200.00", answers=3)
    rule("coop_fee_rate", "0.05")
    rule("benefits_share_of_fee", "0.20")
    assert fund_total() == D("300.0000")


@pytest.fixture
def claimant(organization, steward):
    """An eligible member (3 accepted answers, the rule asks for 3) who earned 30.00 today: a day's pay of 30.00."""
    rule("benefits_min_answers", 3)
    worker = factories.make_member(display_name="Ama Claimant")
    earn(organization, steward, worker)
    return worker


def sick(member, days=2, start=None, **extra):
    start = start or TODAY()
    return services.benefit_claim_file(
        member=member,
        kind="sick_days",
        start_date=start,
        end_date=start + dt.timedelta(days=days - 1),
        statement="Down with the flu, doctor said rest.",
        **extra,
    )


# --- The fund in the ledger -------------------------------------------------------------------------


def test_every_fee_posts_its_share_to_the_fund_in_the_same_event_and_once(organization, steward, member):
    [paid] = earn(organization, steward, member, pay="10.00", answers=1)
    earning = LedgerTransaction.objects.get(kind="earning", answer=paid)
    share = LedgerTransaction.objects.get(event_key=f"benefits:{earning.event_key}")
    # Fee 10.00 × 5 % = 0.50; the fund's 20 % of it is 0.10, moved out of the co-op's fee revenue.
    assert sorted(share.entries.values_list("account__kind", "amount")) == [("benefits", D("-0.1000")), ("coop_fees", D("0.1000"))]
    assert share.user == member and share.created_at >= earning.created_at
    assert fund_total() == D("0.1000")
    assert ledger.balances_by_kind()[("USD", AccountKind.COOP_FEES)] == D("0.4000")
    # A replayed payment posts nothing twice.
    from marketplace.ledger.services import earning_post

    earning_post(answer=paid, amount=D("10.00"), fee_rate=D("0.05"))
    assert LedgerTransaction.objects.filter(kind="benefits_share").count() == 1
    assert_books_balance()


def test_the_share_follows_the_members_vote(organization, steward, member):
    rule("benefits_share_of_fee", "0.5")
    earn(organization, steward, member, pay="10.00", answers=1)
    assert fund_total() == D("0.2500")


def test_a_policy_change_vote_sets_a_benefit_rule(steward):
    voters = [factories.make_member() for _ in range(3)]
    proposal = governance.proposal_create(
        actor=steward, kind="policy_change", title="More sick days", payload={"key": "benefits_sick_days", "value": "15"}
    )
    for voter in voters:
        governance.ballot_cast(proposal=proposal, user=voter, choice="yes")
    governance.proposal_close(proposal=proposal, now=proposal.closes_at)
    from governance.selectors import policy_current

    assert policy_current("benefits_sick_days", at=proposal.closes_at + dt.timedelta(seconds=1)) == D(15)


# --- Claims: the rules approve small ones ------------------------------------------------------------


def test_a_small_sick_day_claim_is_approved_by_the_rules_and_paid_to_earnings(fed, claimant):
    before = ledger.worker_balance(claimant)["available"]
    claim = sick(claimant, days=2)
    assert (claim.status, claim.route, claim.days, claim.day_pay, claim.amount) == (S.PAID, "rules", 2, D("30.00"), D("60.00"))
    assert "Approved by the rules" in claim.decision_reasons and "2 days at USD 30.00" in claim.decision_reasons
    assert ledger.worker_balance(claimant)["available"] == before + D("60.00")
    assert fund_total() == D("300.0000") + D("0.3000") - D("60.00")  # plus the claimant's own 3 fees' shares
    assert claim.paid_transaction.kind == "benefit_payout"
    assert_books_balance()


def test_a_day_is_the_median_of_earning_days_capped(fed, claimant):
    rule("benefits_day_pay_cap", "25.00")
    claim = sick(claimant, days=1)
    assert claim.day_pay == D("25.00") and claim.amount == D("25.00")


def test_amount_claims_are_checked_against_the_yearly_limit(fed, claimant):
    claim = services.benefit_claim_file(
        member=claimant, kind="equipment", start_date=TODAY(), end_date=TODAY(), statement="My headset broke mid-shift.", amount=D("120.00")
    )
    assert claim.status == S.PAID and claim.amount == D("120.00")
    with pytest.raises(ApplicationError) as refused:
        services.benefit_claim_file(
            member=claimant, kind="equipment", start_date=TODAY(), end_date=TODAY(), statement="A new keyboard as well.", amount=D("90.00")
        )
    assert refused.value.code == "beyond_yearly_limit" and "USD 80.00 of the USD 200.00" in refused.value.message


# --- Bad input changes nothing --------------------------------------------------------------------


def test_adversarial_a_claim_outside_eligibility_says_why(fed, organization, steward):
    rule("benefits_min_answers", 5)
    rule("benefits_min_hours", 100)
    newcomer = factories.make_member()
    earn(organization, steward, newcomer, answers=2, seconds=600)
    with pytest.raises(ApplicationError) as refused:
        sick(newcomer)
    assert refused.value.code == "not_eligible"
    hours = (D(sum(Answer.objects.filter(worker=newcomer).values_list("active_seconds", flat=True))) / 3600).quantize(D("0.1"))
    assert f"2 accepted answers and {hours} hours" in refused.value.message and "5 answers or 100.0 hours" in refused.value.message
    assert BenefitClaim.objects.count() == 0 and fund_total() == D("300.0000") + D("0.2000")


def test_adversarial_a_self_declared_applicant_is_not_eligible(fed, applicant):
    with pytest.raises(ApplicationError) as refused:
        sick(applicant)
    assert refused.value.code == "not_eligible" and "active members" in refused.value.message


def test_adversarial_overlapping_dates_are_refused(fed, claimant):
    first = sick(claimant, days=3, start=TODAY() - dt.timedelta(days=5))
    with pytest.raises(ApplicationError) as refused:
        services.benefit_claim_file(
            member=claimant,
            kind="parental_leave",
            start_date=TODAY() - dt.timedelta(days=3),
            end_date=TODAY(),
            statement="Our baby arrived early this week.",
        )
    assert refused.value.code == "overlapping_dates" and f"#{first.pk}" in refused.value.message
    assert BenefitClaim.objects.count() == 1


def test_adversarial_a_claim_beyond_the_yearly_limit_says_what_is_left(fed, claimant):
    rule("benefits_sick_days", 3)
    sick(claimant, days=2, start=TODAY() - dt.timedelta(days=10))
    paid_before = ledger.worker_balance(claimant)["available"]
    with pytest.raises(ApplicationError) as refused:
        sick(claimant, days=2)
    assert refused.value.code == "beyond_yearly_limit" and "1 of the 3 sick days" in refused.value.message
    assert ledger.worker_balance(claimant)["available"] == paid_before and BenefitClaim.objects.count() == 1


def test_adversarial_bad_dates_and_an_empty_statement_are_refused(fed, claimant):
    for start, end, code in [("2026-13-01", "2026-12-01", "invalid_dates"), (TODAY(), TODAY() - dt.timedelta(days=1), "invalid_dates")]:
        with pytest.raises(ApplicationError) as refused:
            services.benefit_claim_file(member=claimant, kind="sick_days", start_date=start, end_date=end, statement="Ill for days, sorry.")
        assert refused.value.code == code
    with pytest.raises(ApplicationError) as refused:
        services.benefit_claim_file(member=claimant, kind="sick_days", start_date=TODAY(), end_date=TODAY(), statement="ill")
    assert refused.value.code == "statement_required"
    with pytest.raises(ApplicationError) as refused:
        services.benefit_claim_file(member=claimant, kind="pension", start_date=TODAY(), end_date=TODAY(), statement="Ill for days, sorry.")
    assert refused.value.code == "invalid_kind"
    rule("benefits_equipment_limit", 0)
    with pytest.raises(ApplicationError) as refused:
        services.benefit_claim_file(
            member=claimant, kind="equipment", start_date=TODAY(), end_date=TODAY(), statement="A chair for my back.", amount=D("50")
        )
    assert refused.value.code == "kind_off"
    assert BenefitClaim.objects.count() == 0


# --- Larger claims: a panel or the members decide ----------------------------------------------------------


@pytest.fixture
def others(db):
    return [factories.make_member() for _ in range(6)]


def test_a_mid_sized_claim_goes_to_a_panel_that_never_includes_the_claimant(fed, claimant, others, settings):
    settings.GOVERNANCE_APPEAL_PANEL_SIZE = 3
    rule("benefits_auto_approve_max", "20.00")
    claim = sick(claimant, days=2)
    assert (claim.status, claim.route) == (S.PENDING, "panel")
    proposal = claim.proposal
    panel = list(Elector.objects.filter(proposal=proposal).values_list("membership__user_id", flat=True))
    assert len(panel) == 3 and claimant.pk not in panel
    assert proposal.decided_by == Proposal.DecidedBy.PANEL and proposal.secret
    for user_id in panel:
        governance.ballot_cast(proposal=proposal, user=factories.User.objects.get(pk=user_id), choice="yes")
    governance.proposal_close(proposal=proposal, now=proposal.closes_at)
    claim.refresh_from_db()
    assert claim.status == S.PAID and claim.decision_reasons == f"Approved by the panel drawn for it in vote #{proposal.pk} (3 yes, 0 no, 0 abstain)."
    assert_books_balance()


def test_adversarial_a_panel_member_who_is_the_claimant_cannot_decide(fed, claimant, others, settings):
    """However the draw falls, the claimant is never on their own panel, cannot vote on it, and cannot see it as a decider."""
    settings.GOVERNANCE_APPEAL_PANEL_SIZE = 50  # everyone who can be drawn is
    rule("benefits_auto_approve_max", "20.00")
    claim = sick(claimant, days=2)
    electors = set(Elector.objects.filter(proposal=claim.proposal).values_list("membership__user_id", flat=True))
    assert claimant.pk not in electors and {o.pk for o in others} <= electors
    with pytest.raises(ApplicationError):
        governance.ballot_cast(proposal=claim.proposal, user=claimant, choice="yes")
    assert not benefits.can_decide(claimant, claim) and benefits.claims_to_decide(claimant).count() == 0
    assert benefits.can_see_private(others[0], claim) and benefits.can_see_private(claimant, claim)


def test_a_large_claim_goes_to_all_members_and_a_failed_vote_rejects_it_with_reasons(fed, claimant, others):
    rule("benefits_auto_approve_max", "10.00")
    rule("benefits_vote_threshold", "50.00")
    claim = sick(claimant, days=2)
    assert claim.route == "members" and claim.proposal.decided_by == Proposal.DecidedBy.MEMBERS
    for voter in others:
        governance.ballot_cast(proposal=claim.proposal, user=voter, choice="no")
    governance.proposal_close(proposal=claim.proposal, now=claim.proposal.closes_at)
    claim.refresh_from_db()
    assert claim.status == S.REJECTED and "Not approved by the members" in claim.decision_reasons
    assert claim.paid_transaction is None and fund_total() == D("300.3000")


def test_private_details_never_reach_the_governance_log_or_the_proposal(fed, claimant, others):
    rule("benefits_auto_approve_max", "10.00")
    claim = sick(claimant, days=2, evidence_note="Clinic letter ref 4471, diagnosis: influenza")
    text = " ".join(f"{e.summary} {e.data}" for e in GovernanceLog.objects.all())
    proposal = claim.proposal
    for private in ("flu", "doctor", "4471", "influenza", "Ama Claimant", "sick"):
        assert private not in text and private not in proposal.title and private not in proposal.body
    assert claim.evidence.note.startswith("Clinic letter")


def test_decisions_are_logged_with_only_the_decision_and_amount(fed, claimant):
    claim = sick(claimant, days=1)
    entry = GovernanceLog.objects.get(action="benefit_claim.decided")
    assert entry.summary == f"Benefit claim #{claim.pk} approved: USD 30.00"
    assert entry.data == {"decision": "approved", "amount": "30.0000", "currency": "USD"}


# --- Never beyond the fund; queued oldest first ------------------------------------------------------------


def test_a_short_fund_queues_approved_claims_oldest_first(organization, steward, claimant):
    # The fund holds only the claimant's own 3 shares (0.30): nothing can be paid yet.
    first = sick(claimant, days=2, start=TODAY() - dt.timedelta(days=20))
    second = services.benefit_claim_file(
        member=claimant, kind="equipment", start_date=TODAY(), end_date=TODAY(), statement="A replacement charger.", amount=D("5.00")
    )
    assert (first.status, second.status) == (S.APPROVED, S.APPROVED)
    assert fund_total() == D("0.3000")
    # 40.00 comes in: enough for the small second claim, but the older one is first in line, so nothing is paid.
    rule("coop_fee_rate", "0.5")
    rule("benefits_share_of_fee", "1")
    earn(organization, steward, factories.make_member(), pay="80.00", answers=1)
    assert services.benefit_claims_pay_queued(currency="USD") == 0
    earn(organization, steward, factories.make_member(), pay="80.00", answers=1)  # 80.30 now
    assert services.benefit_claims_pay_queued(currency="USD") == 2
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == (S.PAID, S.PAID) and fund_total() == D("15.3000")
    assert_books_balance()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_adversarial_double_approval_in_parallel_threads_pays_once(fed, claimant):
    from tests.concurrency import run_threads

    rule("benefits_auto_approve_max", "10.00")
    claim = sick(claimant, days=2)
    assert claim.status == S.PENDING
    results, errors = run_threads(
        [lambda: services.benefit_claim_decide(claim=claim, approve=True, reasons="Approved by the panel.") for _ in range(4)]
    )
    assert len(results) == 1 and [e.code for e in errors] == ["already_decided"] * 3
    assert LedgerTransaction.objects.filter(kind="benefit_payout").count() == 1
    claim.refresh_from_db()
    assert claim.status == S.PAID and fund_total() == D("300.3000") - D("60.00")
    assert_books_balance()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_adversarial_the_same_claim_sent_four_times_at_once_is_filed_once(fed, claimant):
    from tests.concurrency import run_threads

    results, errors = run_threads([lambda: sick(claimant, days=2) for _ in range(4)])
    assert len(results) == 1 and sorted(e.code for e in errors) == ["overlapping_dates"] * 3
    assert BenefitClaim.objects.count() == 1 and LedgerTransaction.objects.filter(kind="benefit_payout").count() == 1
    assert_books_balance()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_adversarial_parallel_payouts_never_overdraw_the_fund(organization, steward):
    from tests.concurrency import run_threads

    rule("benefits_min_answers", 1)
    rule("coop_fee_rate", "0.5")
    rule("benefits_share_of_fee", "1")
    members = [factories.make_member() for _ in range(4)]
    for member in members:
        earn(organization, steward, member, pay="20.00", answers=1)  # 10.00 each into the fund: 40.00
    rule("benefits_share_of_fee", "0")
    claims = [sick(member, days=1) for member in members]  # 20.00 each: only two can be paid
    assert sum(c.status == S.PAID for c in claims) == 2
    run_threads([lambda: services.benefit_claims_pay_queued(currency="USD") for _ in range(4)])
    assert fund_total() == D("0.0000") and LedgerTransaction.objects.filter(kind="benefit_payout").count() == 2
    assert_books_balance()


# --- Portability and transparency -----------------------------------------------------------------------------


def test_the_contributions_record_says_what_my_work_gave_and_what_i_drew(fed, claimant):
    sick(claimant, days=1)
    record = benefits.contributions_record(claimant)["currencies"]["USD"]
    assert record["contributed"] == D("0.3000") and record["drawn"] == D("30.00")
    assert record["claims"] == [{"kind": "sick_days", "count": 1, "days": 1, "amount": D("30.0000")}]


def test_transparency_suppresses_small_cells(fed, organization, steward):
    rule("benefits_min_answers", 1)
    workers = [factories.make_member() for _ in range(5)]
    for worker in workers:
        earn(organization, steward, worker, pay="10.00", answers=1)
    for worker in workers:
        sick(worker, days=1)
    services.benefit_claim_file(
        member=workers[0], kind="equipment", start_date=TODAY(), end_date=TODAY(), statement="Replacement mouse.", amount=D("15.00")
    )
    page = benefits.fund_transparency("USD")
    cells = {row["kind"]: row for row in page["claims_paid_by_kind"]}
    assert (cells["sick_days"]["count"], cells["sick_days"]["amount"]) == (5, D("50.0000"))
    assert cells["equipment"]["suppressed"] and cells["equipment"]["count"] is None and cells["equipment"]["amount"] is None
    assert page["balance"] == fund_total() and page["inflow"] - page["outflow"] == page["balance"]
    assert page["outflow"] == D("65.0000")
    assert any(row["key"] == "benefits_min_answers" and row["value"] == 1 for row in page["rule_history"])


# --- Property: the fund's balance is inflows − payouts and the books balance --------------------------------------

@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from(["fee", "claim"]), st.integers(0, 2), st.sampled_from(["3.5000", "47.0000", "120.5500"])), min_size=1, max_size=7))
def test_fund_balance_is_inflows_minus_payouts_after_random_fees_and_claims(organization, steward, steps):
    rule("benefits_min_answers", 1)
    rule("coop_fee_rate", "0.3")
    rule("benefits_share_of_fee", "0.4")
    members = [factories.make_member() for _ in range(3)]
    before = benefits.fund_flows("USD")  # hypothesis runs its examples on one database: count from here
    last = LedgerTransaction.objects.order_by("-id").values_list("id", flat=True).first() or 0
    inflow = D(0)
    start = TODAY() - dt.timedelta(days=200)
    for index, (step, who, pay) in enumerate(steps):
        if step == "fee":
            earn(organization, steward, members[who], pay=pay, answers=1)
            fee = (D(pay) * D("0.3")).quantize(D("0.0001"), rounding=ROUND_HALF_UP)
            inflow += (fee * D("0.4")).quantize(D("0.0001"), rounding=ROUND_HALF_UP)
        else:
            day = start + dt.timedelta(days=index)
            try:
                sick(members[who], days=1, start=day)
            except ApplicationError as error:
                assert error.code in ("not_eligible", "no_recent_earnings", "beyond_yearly_limit")
    services.benefit_claims_pay_queued(currency="USD")  # as the scheduled job does: fees since the last approval pay the queue
    paid = sum((c.amount for c in BenefitClaim.objects.filter(status=S.PAID, paid_transaction_id__gt=last)), D(0))
    flows = benefits.fund_flows("USD")
    assert (flows["inflow"] - before["inflow"], flows["outflow"] - before["outflow"]) == (inflow, paid)
    assert fund_total() == before["balance"] + inflow - paid >= 0
    # Approved claims wait only because the fund cannot cover the oldest of them.
    queued = BenefitClaim.objects.filter(status=S.APPROVED).order_by("created_at", "id").first()
    assert queued is None or queued.amount > fund_total()
    assert_books_balance()


# --- Pages and APIs (HTTP only: the services above do the work) ------------------------------------------------


def _api(user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_claims_api_files_a_claim_and_refuses_bad_input_with_a_reason(fed, claimant):
    api = _api(claimant)
    body = {"kind": "sick_days", "start_date": str(TODAY()), "end_date": str(TODAY()), "statement": "Migraine, could not work."}
    created = api.post("/api/v1/work/benefits/claims/", body, format="json")
    assert created.status_code == 201, created.content
    assert (created.json()["status"], created.json()["amount"]) == ("paid", "30.0000")
    again = api.post("/api/v1/work/benefits/claims/", body, format="json")
    assert again.status_code == 422 and again.json()["error"]["code"] == "overlapping_dates"
    typo = api.post("/api/v1/work/benefits/claims/", {**body, "amout": "5"}, format="json")
    assert typo.status_code == 400 and "amout" in typo.json()["error"]["fields"]
    floaty = api.post("/api/v1/work/benefits/claims/", {**body, "kind": "hardship", "amount": 12.5}, format="json")
    assert floaty.status_code == 400
    assert [c["id"] for c in api.get("/api/v1/work/benefits/claims/").json()] == [created.json()["id"]]
    assert BenefitClaim.objects.count() == 1


def test_the_fund_api_and_page_show_the_figures_with_small_cells_withheld(fed, claimant, client):
    sick(claimant, days=1)
    body = _api(claimant).get("/api/v1/benefits/fund/").json()
    assert body["balance"] == str(fund_total()) and body["small_cell"] == 5
    sick_row = next(row for row in body["claims_paid_by_kind"] if row["kind"] == "sick_days")
    assert sick_row["suppressed"] is True and sick_row["count"] is None and sick_row["amount"] is None
    assert body["rules"]["benefits_share_of_fee"] == "0.2000"
    client.force_login(claimant)
    page = client.get("/work/benefits/fund/").content.decode()
    assert "fewer than 5" in page and "Share of the co-op fee set aside for the benefits fund" in page
    assert f"USD {fund_total():.2f}" in page


def test_the_claim_page_shows_private_details_only_to_the_claimant_and_the_deciders(fed, claimant, others, client, steward, settings):
    settings.GOVERNANCE_APPEAL_PANEL_SIZE = 2
    rule("benefits_auto_approve_max", "10.00")
    claim = sick(claimant, days=2, evidence_note="Clinic letter ref 4471")
    panel = set(Elector.objects.filter(proposal=claim.proposal).values_list("membership__user_id", flat=True))
    assert claimant.pk not in panel
    # The panel is drawn at random from every member but the claimant: the steward and the worker who fed the
    # fund may be on it as well as any of the six others, so the decider is whoever sits on it besides the steward.
    decider = factories.User.objects.get(pk=next(pk for pk in sorted(panel) if pk != steward.pk))
    outsider = next(o for o in others if o.pk not in panel)
    url = f"/work/benefits/claims/{claim.pk}/"
    for user, sees in ((claimant, True), (decider, True), (steward, steward.pk in panel)):
        client.force_login(user)
        page = client.get(url)
        assert page.status_code == 200
        assert ("Down with the flu" in page.content.decode()) is sees and ("4471" in page.content.decode()) is sees
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    vote_page = client.get(f"/governance/proposals/{claim.proposal.pk}/").content.decode()  # members may read the vote itself
    assert "USD 60.00" in vote_page and "flu" not in vote_page and "4471" not in vote_page and "Ama Claimant" not in vote_page
    client.force_login(decider)
    assert f"Claim #{claim.pk}" in client.get("/work/benefits/").content.decode()


def test_the_benefits_page_files_a_claim_and_shows_the_reason_when_refused(fed, claimant, client):
    client.force_login(claimant)
    form = {"kind": "sick_days", "start_date": str(TODAY()), "end_date": str(TODAY()), "statement": "Fever since the night."}
    response = client.post("/work/benefits/", form)
    assert response.status_code == 302
    claim = BenefitClaim.objects.get()
    assert claim.status == S.PAID
    refused = client.post("/work/benefits/", form)
    assert refused.status_code == 400 and "overlap your claim" in refused.content.decode()


def test_the_records_page_links_the_contributions_record_download(fed, claimant, client):
    sick(claimant, days=1)
    client.force_login(claimant)
    assert 'data-testid="benefits-record"' in client.get("/work/records/").content.decode()
    download = client.get("/work/benefits/record/?format=csv")
    text = b"".join(download.streaming_content).decode()
    assert text.splitlines()[0] == "currency,item,kind,count,days,amount"
    assert "USD,contributed,,3,,0.3000" in text and "USD,drawn,sick_days,1,1,30.0000" in text
    api = _api(claimant).get("/api/v1/work/benefits/record/?format=json")
    assert api.status_code == 200


def test_every_kind_of_fee_feeds_the_fund_and_a_correction_does_not(organization, steward, member):
    """ledger_post itself takes the share of any fee line (dividends, bonuses, test pay…), not just the marketplace path."""
    from marketplace.ledger.services import deposit_record, ledger_post

    deposit_record(organization=organization, amount=D("10.00"), reference="DIV-1", recorded_by=steward)
    cash = account_for(kind=AccountKind.CLIENT_CASH, organization=organization)
    earnings = account_for(kind=AccountKind.WORKER_EARNINGS, user=member)
    fees = account_for(kind=AccountKind.COOP_FEES)
    entries = [(cash, D("1.0000")), (earnings, D("-0.1250")), (fees, D("-0.8750"))]
    for kind in ("dividend", "bonus", "correction"):
        ledger_post(event_key=f"{kind}:test", kind=kind, entries=entries, organization=organization)
        ledger_post(event_key=f"{kind}:test", kind=kind, entries=entries, organization=organization)  # a retry
    share = LedgerTransaction.objects.get(event_key="benefits:dividend:test")
    assert sorted(share.entries.values_list("account__kind", "amount")) == [("benefits", D("-0.1750")), ("coop_fees", D("0.1750"))]
    assert set(LedgerTransaction.objects.filter(kind="benefits_share").values_list("event_key", flat=True)) == {
        "benefits:dividend:test",
        "benefits:bonus:test",
    }
    assert fund_total() == D("0.3500")
    assert_books_balance()


def test_evidence_files_reach_only_the_claimant_and_the_deciders(fed, claimant, others, client, settings):
    settings.GOVERNANCE_APPEAL_PANEL_SIZE = 2
    rule("benefits_auto_approve_max", "10.00")
    claim = sick(claimant, days=2, evidence_file=("letter.pdf", "application/pdf", b"%PDF-1.4 clinic letter"))
    panel = set(Elector.objects.filter(proposal=claim.proposal).values_list("membership__user_id", flat=True))
    url = f"/work/benefits/claims/{claim.pk}/evidence/"
    deciders = list(factories.User.objects.filter(pk__in=panel))  # drawn at random: not always among the six others
    assert len(deciders) == 2 and claimant.pk not in panel
    for user in [*others, *deciders]:
        client.force_login(user)
        response = client.get(url)
        if user.pk in panel:
            assert response.status_code == 200 and response.content == b"%PDF-1.4 clinic letter"
            assert response["Content-Disposition"].startswith("attachment")
        else:
            assert response.status_code == 404
    with pytest.raises(ApplicationError) as refused:
        sick(claimant, days=1, start=TODAY() - dt.timedelta(days=30), evidence_file=("x.html", "text/html", b"<script>"))
    assert refused.value.code == "invalid_evidence"


def test_adversarial_members_with_an_undecided_claim_of_their_own_are_kept_off_a_panel(
    fed, claimant, others, organization, steward, settings
):
    """No "you approve mine, I approve yours": a claimant whose claim waits is not drawn to decide another."""
    settings.GOVERNANCE_APPEAL_PANEL_SIZE = 50
    rule("benefits_auto_approve_max", "10.00")
    waiting = others[0]
    earn(organization, steward, waiting)
    first = sick(waiting, days=2)
    second = sick(claimant, days=2)
    electors = set(Elector.objects.filter(proposal=second.proposal).values_list("membership__user_id", flat=True))
    assert first.status == second.status == S.PENDING
    assert waiting.pk not in electors and claimant.pk not in electors and {o.pk for o in others[1:]} <= electors


def test_stewards_see_what_waits_without_private_details_and_the_job_pays_the_queue(organization, steward, claimant, client):
    from marketplace.benefits.tasks import benefits_pay_queue

    claim = sick(claimant, days=1)  # approved, but the fund holds 0.30
    assert claim.status == S.APPROVED
    client.force_login(steward)
    page = client.get("/stewards/benefits/").content.decode()
    assert f">{claim.pk}<" in page and "USD 30.00" in page and "flu" not in page
    rule("coop_fee_rate", "0.5")
    rule("benefits_share_of_fee", "1")
    earn(organization, steward, factories.make_member(), pay="80.00", answers=1)
    benefits_pay_queue.fn()  # what the scheduler runs every 15 minutes
    claim.refresh_from_db()
    assert claim.status == S.PAID


def test_the_fund_api_and_my_claims_cost_a_fixed_number_of_queries(fed, claimant, django_assert_max_num_queries):
    sick(claimant, days=1)
    api = _api(claimant)
    with django_assert_max_num_queries(18):
        assert api.get("/api/v1/benefits/fund/").status_code == 200
    with django_assert_max_num_queries(6):
        assert api.get("/api/v1/work/benefits/claims/").status_code == 200
