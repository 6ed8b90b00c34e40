"""The earnings ledger: exact double entry, append-only, idempotent posting, payouts, statements and concurrency."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP
from decimal import Decimal as D
from functools import partial

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from coop.errors import ApplicationError, Conflict, Forbidden
from marketplace.ledger import payouts, selectors, services
from marketplace.ledger.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction, Payout
from marketplace.models import Answer
from marketplace.services import claiming, projects, submission
from tests import factories
from tests.concurrency import run_threads
from tests.conftest import requires_postgres

K = AccountKind
ZERO = D("0")


# --- Helpers ------------------------------------------------------------------------------------


def accepted_answers(project, workers) -> list[Answer]:
    """Each worker takes and answers one task; with overlap 1 consensus accepts it at once."""
    answers = []
    for worker in workers:
        claim = claiming.work_next(worker=worker, project=project)
        answer, _ = submission.assignment_submit(
            worker=worker,
            assignment_id=claim.assignment.pk,
            payload=factories.answer_for(project.task_type),
            idempotency_key=f"k{claim.assignment.pk}",
        )
        answers.append(Answer.objects.select_related("task__project", "worker").get(pk=answer.pk))
    assert {a.status for a in answers} == {Answer.Status.ACCEPTED}
    return answers


def make_project(organization, tasks=3):
    return factories.make_project(organization, task_type="classification", tasks=tasks, overlap=1, max_overlap=1)


def account_balances() -> dict[LedgerAccount, D]:
    """Every account's balance on its normal side, in one query."""
    accounts = LedgerAccount.objects.annotate(raw=selectors.scaled_sum("entries__amount"))
    return {a: selectors.from_scaled(a.raw) * (1 if a.is_debit_normal else -1) for a in accounts}


def assert_books_balance() -> dict[LedgerAccount, D]:
    """Debits equal credits per currency, no account is overdrawn, and the bank holds exactly what is owed."""
    assert all(total == 0 for total in selectors.trial_balance().values()), selectors.trial_balance()
    balances = account_balances()
    assert [(a, b) for a, b in balances.items() if b < 0] == []
    for currency in {a.currency for a in balances}:
        bank = sum((b for a, b in balances.items() if a.currency == currency and a.kind == K.COOP_BANK), ZERO)
        assert bank == sum((b for a, b in balances.items() if a.currency == currency and a.kind != K.COOP_BANK), ZERO)
    return balances


@pytest.fixture(autouse=True)
def ledger_by_hand(monkeypatch):
    """These tests drive the ledger's services by hand, so the marketplace's automatic funding at publication
    and paying at acceptance (tested end to end in test_payment.py) are switched off here."""
    from marketplace.services import consensus, review

    for module in (consensus, submission, review):
        monkeypatch.setattr(module, "answers_pay", lambda answers, **kwargs: 0)
    monkeypatch.setattr(projects, "escrow_ensure", lambda project, **kwargs: D(0))
    monkeypatch.setattr(factories, "fund_project", lambda project, **kwargs: None)


@pytest.fixture
def project(organization):
    return make_project(organization)


@pytest.fixture
def answer(project, member):
    return accepted_answers(project, [member])[0]


@pytest.fixture
def funded(organization, steward, project):
    """Acme deposited 100.00 and put 50.00 into the project's escrow."""
    services.deposit_record(organization=organization, amount=D("100.00"), reference="BANK-1", recorded_by=steward)
    services.escrow_fund(project=project, amount=D("50.00"), event_key="fund:1")
    return project


def codes(excinfo) -> str:
    return excinfo.value.code


# --- Posting ------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestPosting:
    def test_money_flows_from_deposit_to_payout_and_the_books_balance(self, organization, steward, funded, answer, member):
        assert selectors.client_cash_balance(organization) == D("50.00")
        assert selectors.escrow_balance(funded) == D("50.00")
        posted = services.earning_post(answer=answer, amount=D("0.0375"), fee_rate=D("0.15"))
        assert posted.event_key == f"earning:answer:{answer.pk}" and posted.project == funded and posted.user == member
        # The fee is 0.0375 × 0.15 = 0.005625 → 0.0056 (half-up), paid from escrow on top of the worker's pay.
        assert sorted(posted.entries.values_list("account__kind", "amount")) == [
            (K.COOP_FEES, D("-0.0056")),
            (K.PROJECT_ESCROW, D("0.0431")),
            (K.WORKER_EARNINGS, D("-0.0375")),
        ]
        assert selectors.escrow_balance(funded) == D("49.9569")
        assert selectors.worker_balance(member)["available"] == D("0.0375")
        assert selectors.account_balance(services.account_for(kind=K.COOP_BANK)) == D("100.00")
        assert selectors.trial_balance() == {"USD": ZERO}
        assert_books_balance()

    @pytest.mark.parametrize(
        "amounts, code",
        [
            ([D("1.00"), D("-0.99")], "unbalanced"),
            ([1.0, -1.0], "float_amount"),
            ([D("1.00"), -1.0], "float_amount"),
            ([D("0"), D("0")], "zero_amount"),
            ([1, -1], "invalid_amount"),
            ([D("0.00001"), D("-0.00001")], "invalid_amount"),
            ([D("NaN"), D("1")], "invalid_amount"),
            ([D("1E+12"), D("-1E+12")], "invalid_amount"),
            ([D("1.00")], "too_few_entries"),
        ],
    )
    def test_bad_entries_are_refused_and_nothing_is_written(self, organization, amounts, code):
        accounts = [services.account_for(kind=K.COOP_BANK), services.account_for(kind=K.CLIENT_CASH, organization=organization)]
        with pytest.raises(ApplicationError) as excinfo:
            services.ledger_post(event_key="bad", kind="deposit", entries=list(zip(accounts, amounts, strict=False)))
        assert codes(excinfo) == code and excinfo.value.message
        assert LedgerTransaction.objects.count() == 0 and LedgerEntry.objects.count() == 0

    def test_structural_mistakes_are_refused(self, organization):
        bank = services.account_for(kind=K.COOP_BANK)
        euro_bank = services.account_for(kind=K.COOP_BANK, currency="EUR")
        cash = services.account_for(kind=K.CLIENT_CASH, organization=organization)
        unsaved = LedgerAccount(kind=K.COOP_FEES)
        gone = LedgerAccount(pk=987654, kind=K.COOP_FEES)
        cases = [
            ("unbalanced", [(bank, D("1")), (euro_bank, D("-1"))]),  # sums to zero overall, not per currency
            ("invalid_entry", [(bank, D("1")), (bank, D("-1"))]),
            ("invalid_entry", [(bank, D("1")), (unsaved, D("-1"))]),
            ("invalid_entry", [(bank, D("1")), ("cash", D("-1"))]),
            ("unknown_account", [(bank, D("1")), (gone, D("-1"))]),
        ]
        for code, entries in cases:
            with pytest.raises(ApplicationError) as excinfo:
                services.ledger_post(event_key="bad", kind="deposit", entries=entries)
            assert codes(excinfo) == code, entries
        with pytest.raises(ApplicationError) as excinfo:
            services.ledger_post(event_key="bad", kind="gift", entries=[(bank, D("1")), (cash, D("-1"))])
        assert codes(excinfo) == "invalid_kind"
        with pytest.raises(ApplicationError):
            services.ledger_post(event_key="  ", kind="deposit", entries=[(bank, D("1")), (cash, D("-1"))])
        assert LedgerTransaction.objects.count() == 0 and LedgerEntry.objects.count() == 0

    def test_the_same_event_posts_once(self, organization, steward, funded, answer):
        bank, cash = services.account_for(kind=K.COOP_BANK), services.account_for(kind=K.CLIENT_CASH, organization=organization)
        first = services.ledger_post(event_key="correction:1", kind="correction", entries=[(bank, D("1.5")), (cash, D("-1.5"))])
        again = services.ledger_post(
            event_key="correction:1", kind="correction", entries=[(cash, D("-1.5000")), (bank, D("1.5"))]
        )
        assert again.pk == first.pk and first.entries.count() == 2
        with pytest.raises(Conflict) as excinfo:
            services.ledger_post(event_key="correction:1", kind="correction", entries=[(bank, D("2")), (cash, D("-2"))])
        assert codes(excinfo) == "event_conflict"

        earning = services.earning_post(answer=answer, amount=D("0.10"), fee_rate=D("0.1"))
        assert services.earning_post(answer=answer, amount=D("0.10"), fee_rate=D("0.1")).pk == earning.pk
        assert LedgerTransaction.objects.filter(kind="earning").count() == 1 and earning.entries.count() == 3
        with pytest.raises(Conflict):
            services.earning_post(answer=answer, amount=D("0.20"), fee_rate=D("0.1"))
        # Deposits are identified by the bank reference; escrow fundings by the caller's key.
        again = services.deposit_record(organization=organization, amount=D("100.00"), reference="BANK-1", recorded_by=steward)
        assert LedgerTransaction.objects.filter(kind="deposit").count() == 1 and again.reference == "BANK-1"
        services.escrow_fund(project=funded, amount=D("50.00"), event_key="fund:1")
        assert selectors.escrow_balance(funded) == D("49.89")  # 50 − 0.10 − 0.01 fee, funded once
        assert_books_balance()

    def test_a_retry_after_the_money_is_spent_still_returns_the_first_posting(self, organization, steward, project, answer):
        services.deposit_record(organization=organization, amount=D("1.10"), reference="B", recorded_by=steward)
        services.escrow_fund(project=project, amount=D("1.10"), event_key="fund:a")
        first = services.earning_post(answer=answer, amount=D("1.00"), fee_rate=D("0.1"))
        assert selectors.escrow_balance(project) == 0
        assert services.earning_post(answer=answer, amount=D("1.00"), fee_rate=D("0.1")).pk == first.pk
        assert services.escrow_fund(project=project, amount=D("1.10"), event_key="fund:a").kind == "escrow_fund"

    def test_accounts_are_one_per_kind_owner_and_currency(self, organization, member, project):
        first = services.account_for(kind=K.CLIENT_CASH, organization=organization)
        assert services.account_for(kind=K.CLIENT_CASH, organization=organization).pk == first.pk
        assert services.account_for(kind=K.CLIENT_CASH, organization=organization, currency="EUR").pk != first.pk
        assert services.account_for(kind=K.COOP_FEES).pk == services.account_for(kind=K.COOP_FEES).pk
        for bad in (
            {"kind": K.CLIENT_CASH, "user": member},
            {"kind": K.WORKER_EARNINGS, "user": member, "project": project},
            {"kind": K.COOP_BANK, "organization": organization},
            {"kind": "piggy_bank"},
        ):
            with pytest.raises(ApplicationError) as excinfo:
                services.account_for(**bad)
            assert codes(excinfo) == "invalid_account"
        with pytest.raises(ApplicationError):
            services.account_for(kind=K.COOP_BANK, currency="usd")
        # The database enforces the same rules.
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerAccount.objects.create(kind=K.CLIENT_CASH, user=member)
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerAccount.objects.create(kind=K.COOP_FEES)


# --- Escrow -------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestEscrow:
    def test_funding_needs_the_clients_cash(self, organization, steward, project):
        with pytest.raises(ApplicationError) as excinfo:
            services.escrow_fund(project=project, amount=D("0.01"))
        assert codes(excinfo) == "insufficient_funds"
        services.deposit_record(organization=organization, amount=D("20.00"), reference="B1", recorded_by=steward)
        services.escrow_fund(project=project, amount=D("12.5"))
        with pytest.raises(ApplicationError) as excinfo:
            services.escrow_fund(project=project, amount=D("7.5001"))
        assert codes(excinfo) == "insufficient_funds" and excinfo.value.extra == {"available": "7.5000", "required": "7.5001"}
        services.escrow_fund(project=project, amount=D("7.5"))
        assert selectors.client_cash_balance(organization) == 0 and selectors.escrow_balance(project) == D("20")
        assert_books_balance()

    def test_only_stewards_record_deposits(self, organization, member, client_user):
        for user in (member, client_user, None):
            with pytest.raises(Forbidden):
                services.deposit_record(organization=organization, amount=D("5"), reference="X", recorded_by=user)
        assert LedgerTransaction.objects.count() == 0

    def test_earnings_need_escrow_and_an_accepted_answer(self, organization, steward, project, member):
        first, second = accepted_answers(project, [member, factories.make_member()])
        with pytest.raises(ApplicationError) as excinfo:
            services.earning_post(answer=first, amount=D("0.10"), fee_rate=D("0"))
        assert codes(excinfo) == "escrow_insufficient"
        services.deposit_record(organization=organization, amount=D("0.21"), reference="B", recorded_by=steward)
        services.escrow_fund(project=project, amount=D("0.21"))
        services.earning_post(answer=first, amount=D("0.10"), fee_rate=D("0.05"))  # 0.105 from escrow, 0.105 left
        with pytest.raises(ApplicationError) as excinfo:
            services.earning_post(answer=second, amount=D("0.1001"), fee_rate=D("0.05"))  # needs 0.1051
        assert codes(excinfo) == "escrow_insufficient" and excinfo.value.extra["required"] == "0.1051"
        assert LedgerTransaction.objects.filter(kind="earning").count() == 1
        services.earning_post(answer=second, amount=D("0.10"), fee_rate=D("0.05"))  # exactly what is left
        assert selectors.escrow_balance(project) == 0
        Answer.objects.filter(pk=second.pk).update(status=Answer.Status.REJECTED)
        with pytest.raises(Conflict) as excinfo:
            services.top_up_post(answer=second, amount=D("0.01"), fee_rate=D("0"))
        assert codes(excinfo) == "answer_not_accepted"
        for bad_rate in (D("1"), D("-0.1"), 0.1):
            with pytest.raises(ApplicationError) as excinfo:
                services.earning_post(answer=first, amount=D("0.10"), fee_rate=bad_rate)
            assert codes(excinfo) == "invalid_fee_rate"

    def test_fee_rounds_half_up_to_four_places(self):
        assert services.fee_for(D("0.0125"), D("0.1")) == D("0.0013")  # 0.00125
        assert services.fee_for(D("0.0124"), D("0.1")) == D("0.0012")  # 0.00124
        assert services.fee_for(D("3.3333"), D("0.15")) == D("0.5000")  # 0.499995

    def test_top_ups_post_each_time_unless_keyed(self, funded, answer, member):
        services.earning_post(answer=answer, amount=D("0.10"), fee_rate=D("0"))
        one = services.top_up_post(answer=answer, amount=D("0.0125"), fee_rate=D("0.1"))
        two = services.top_up_post(answer=answer, amount=D("0.0125"), fee_rate=D("0.1"))
        assert (one.event_key, two.event_key) == (f"top_up:answer:{answer.pk}:1", f"top_up:answer:{answer.pk}:2")
        keyed = services.top_up_post(answer=answer, amount=D("0.05"), fee_rate=D("0"), event_key="floor-raise:7:answer:1")
        assert (
            services.top_up_post(answer=answer, amount=D("0.05"), fee_rate=D("0"), event_key="floor-raise:7:answer:1").pk
            == keyed.pk
        )
        assert selectors.worker_balance(member)["lifetime_earned"] == D("0.1750")
        assert selectors.escrow_balance(funded) == D("50") - D("0.175") - D("0.0026")
        assert_books_balance()

    def test_unspent_escrow_is_refunded_once_when_the_project_ends(self, organization, funded, answer):
        late = accepted_answers(funded, [factories.make_member()])[0]
        services.earning_post(answer=answer, amount=D("0.10"), fee_rate=D("0.1"))
        with pytest.raises(Conflict) as excinfo:
            services.escrow_refund(project=funded)
        assert codes(excinfo) == "project_active"
        projects.project_cancel(project=funded)
        refund = services.escrow_refund(project=funded)
        assert refund.entries.get(account__kind=K.PROJECT_ESCROW).amount == D("49.89")
        assert services.escrow_refund(project=funded).pk == refund.pk
        assert LedgerTransaction.objects.filter(kind="refund").count() == 1
        assert selectors.escrow_balance(funded) == 0
        assert selectors.client_cash_balance(organization) == D("99.89")
        with pytest.raises(Conflict) as excinfo:
            services.escrow_fund(project=funded, amount=D("1"))
        assert codes(excinfo) == "project_closed"
        # An answer reviewed after the refund is no longer covered by escrow.
        with pytest.raises(ApplicationError) as excinfo:
            services.earning_post(answer=late, amount=D("0.10"), fee_rate=D("0.1"))
        assert codes(excinfo) == "escrow_insufficient"
        assert_books_balance()

    def test_nothing_to_refund_is_none(self, project):
        projects.project_cancel(project=project)
        assert services.escrow_refund(project=project) is None
        assert LedgerTransaction.objects.count() == 0


# --- Payouts ------------------------------------------------------------------------------------


def pay_worker(organization, steward, project, answer, amount: D) -> None:
    """Fund the project and credit `amount` to the answer's worker (no fee)."""
    services.deposit_record(organization=organization, amount=amount, reference=f"B-{answer.pk}-{amount}", recorded_by=steward)
    services.escrow_fund(project=project, amount=amount)
    services.top_up_post(answer=answer, amount=amount, fee_rate=D("0"))


@pytest.mark.django_db
class TestPayouts:
    def test_payouts_round_down_to_cents_and_the_remainder_carries(self, organization, steward, project, answer, member):
        pay_worker(organization, steward, project, answer, D("10.0375"))
        payout = payouts.payout_request(worker=member)
        assert payout.amount == D("10.03") and payout.status == Payout.Status.REQUESTED
        assert payout.request_transaction.kind == "payout_request"
        balance = selectors.worker_balance(member)
        assert (balance["available"], balance["pending_payout"], balance["paid_total"]) == (D("0.0075"), D("10.03"), 0)
        payouts.payout_mark_paid(payout=payout, reference="MPESA-123", steward=steward)
        balance = selectors.worker_balance(member)
        assert (balance["available"], balance["pending_payout"], balance["paid_total"]) == (D("0.0075"), 0, D("10.03"))
        assert balance["lifetime_earned"] == D("10.0375")
        assert selectors.account_balance(services.account_for(kind=K.COOP_BANK)) == D("0.0075")
        # The carried 0.0075 joins the next earnings: 9.9925 + 0.0075 = 10.00 exactly.
        pay_worker(organization, steward, project, answer, D("9.9925"))
        assert payouts.payout_request(worker=member).amount == D("10.00")
        assert selectors.worker_balance(member)["available"] == 0
        assert_books_balance()

    def test_threshold_and_balance_refusals(self, organization, steward, project, answer, member):
        pay_worker(organization, steward, project, answer, D("10.0099"))
        for amount, code in [
            (D("10.02"), "insufficient_balance"),
            (D("9.999"), "below_payout_minimum"),
            (D("0"), "zero_amount"),
            (D("-10"), "invalid_amount"),
            (10.0, "float_amount"),
        ]:
            with pytest.raises(ApplicationError) as excinfo:
                payouts.payout_request(worker=member, amount=amount)
            assert codes(excinfo) == code, amount
        assert Payout.objects.count() == 0
        assert payouts.payout_request(worker=member, amount=D("10.005")).amount == D("10.00")
        assert selectors.worker_balance(member)["available"] == D("0.0099")
        with pytest.raises(ApplicationError) as excinfo:
            payouts.payout_request(worker=factories.make_member())
        assert codes(excinfo) == "below_payout_minimum" and payouts.PAYOUT_MINIMUM == D("10.00")

    def test_one_open_payout_per_worker(self, organization, steward, project, answer, member):
        pay_worker(organization, steward, project, answer, D("30"))
        first = payouts.payout_request(worker=member, amount=D("10"))
        with pytest.raises(Conflict) as excinfo:
            payouts.payout_request(worker=member, amount=D("10"))
        assert codes(excinfo) == "payout_open"
        with pytest.raises(IntegrityError), transaction.atomic():  # the partial unique index says the same
            Payout.objects.create(worker=member, amount=D("10"))
        payouts.payout_mark_paid(payout=first, reference="T-1", steward=steward)
        second = payouts.payout_request(worker=member, amount=D("10"))
        payouts.payout_cancel(payout=second, actor=member)
        assert payouts.payout_request(worker=member).amount == D("20.00")
        assert Payout.objects.filter(worker=member).count() == 3

    def test_adversarial_a_steward_cannot_mark_their_own_payout_paid(self, organization, steward, project):
        other_steward = factories.make_steward()
        answer = accepted_answers(project, [steward])[0]
        pay_worker(organization, other_steward, project, answer, D("15"))
        payout = payouts.payout_request(worker=steward)
        with pytest.raises(Forbidden) as excinfo:
            payouts.payout_mark_paid(payout=payout, reference="SELF-1", steward=steward)
        assert excinfo.value.code == "own_payout"
        assert Payout.objects.get(pk=payout.pk).status == Payout.Status.REQUESTED
        assert payouts.payout_mark_paid(payout=payout, reference="T-1", steward=other_steward).status == "paid"

    def test_only_stewards_mark_payouts_paid_and_paying_is_idempotent(self, organization, steward, project, answer, member):
        pay_worker(organization, steward, project, answer, D("12"))
        payout = payouts.payout_request(worker=member)
        with pytest.raises(Forbidden):
            payouts.payout_mark_paid(payout=payout, reference="T-9", steward=member)
        with pytest.raises(ApplicationError):
            payouts.payout_mark_paid(payout=payout, reference="  ", steward=steward)
        paid = payouts.payout_mark_paid(payout=payout, reference="T-9", steward=steward)
        assert (paid.status, paid.reference, paid.decided_by, paid.settle_transaction.reference) == (
            "paid",
            "T-9",
            steward,
            "T-9",
        )
        assert (
            payouts.payout_mark_paid(payout=payout, reference="T-9", steward=steward).settle_transaction_id
            == paid.settle_transaction_id
        )
        with pytest.raises(Conflict) as excinfo:
            payouts.payout_mark_paid(payout=payout, reference="T-10", steward=steward)
        assert codes(excinfo) == "payout_already_paid"
        with pytest.raises(Conflict):
            payouts.payout_cancel(payout=payout, actor=steward)
        assert LedgerTransaction.objects.filter(kind="payout_paid").count() == 1
        assert selectors.worker_balance(member)["paid_total"] == D("12.00")
        # The member is told once, with the transfer reference (the idempotent repeat sends nothing more).
        sent = member.notifications.filter(kind="payout.paid")
        assert sent.count() == 1 and "T-9" in sent.get().body and "12.00" in sent.get().title

    def test_cancelled_payouts_return_to_the_balance(self, organization, steward, project, answer, member):
        pay_worker(organization, steward, project, answer, D("15.5"))
        payout = payouts.payout_request(worker=member, amount=D("12"))
        with pytest.raises(Forbidden):
            payouts.payout_cancel(payout=payout, actor=factories.make_member())
        payouts.payout_cancel(payout=payout, actor=steward)
        assert payouts.payout_cancel(payout=payout, actor=member).status == "cancelled"
        with pytest.raises(Conflict) as excinfo:
            payouts.payout_mark_paid(payout=payout, reference="T", steward=steward)
        assert codes(excinfo) == "payout_cancelled"
        assert selectors.worker_balance(member) == {
            "currency": "USD",
            "available": D("15.5"),
            "pending_payout": 0,
            "paid_total": 0,
            "lifetime_earned": D("15.5"),
        }
        assert_books_balance()


# --- Append-only --------------------------------------------------------------------------------


@pytest.mark.django_db
class TestAppendOnly:
    def test_entries_and_transactions_cannot_be_changed_or_deleted(self, organization, steward):
        posted = services.deposit_record(organization=organization, amount=D("5"), reference="B", recorded_by=steward)
        entry = posted.entries.first()
        entry.amount = D("500")
        for attempt in (entry.save, entry.delete, posted.save, posted.delete):
            with pytest.raises(Conflict) as excinfo:
                attempt()
            assert codes(excinfo) == "ledger_append_only"
        for queryset in (LedgerEntry.objects.all(), LedgerTransaction.objects.all()):
            with pytest.raises(Conflict):
                queryset.update(description="x") if queryset.model is LedgerTransaction else queryset.update(amount=D("1"))
            with pytest.raises(Conflict):
                queryset.delete()
        impostor = LedgerEntry(pk=entry.pk, transaction=posted, account=services.account_for(kind=K.COOP_FEES), amount=D("500"))
        with pytest.raises(IntegrityError), transaction.atomic():
            impostor.save()  # an INSERT with a taken id, never an UPDATE of the original row
        assert selectors.client_cash_balance(organization) == D("5")

    @requires_postgres
    def test_postgresql_refuses_raw_updates_and_deletes(self, organization, steward):
        posted = services.deposit_record(organization=organization, amount=D("5"), reference="B", recorded_by=steward)
        statements = [
            ("UPDATE marketplace_ledgerentry SET amount = 500 WHERE transaction_id = %s", [posted.pk]),
            ("DELETE FROM marketplace_ledgerentry WHERE transaction_id = %s", [posted.pk]),
            ("UPDATE marketplace_ledgertransaction SET description = 'x' WHERE id = %s", [posted.pk]),
            ("DELETE FROM marketplace_ledgertransaction WHERE id = %s", [posted.pk]),
        ]
        for sql, params in statements:
            with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
        assert selectors.client_cash_balance(organization) == D("5") and LedgerEntry.objects.count() == 2


# --- Statements and admin -----------------------------------------------------------------------


@pytest.mark.django_db
class TestStatements:
    def test_project_statement_lists_every_movement_with_totals(
        self, organization, steward, funded, member, django_assert_num_queries
    ):
        first, second = accepted_answers(funded, [member, factories.make_member()])
        services.earning_post(answer=first, amount=D("0.0375"), fee_rate=D("0.15"))
        services.earning_post(answer=second, amount=D("0.0375"), fee_rate=D("0.15"))
        services.top_up_post(answer=first, amount=D("0.01"), fee_rate=D("0.1"))
        projects.project_cancel(project=funded)
        services.escrow_refund(project=funded)
        with django_assert_num_queries(2):
            statement = selectors.project_statement(funded)
        assert [row["kind"] for row in statement["rows"]] == ["escrow_fund", "earning", "earning", "top_up", "refund"]
        assert statement["totals"] == {
            "funded": "50.0000",
            "earnings": "0.0750",
            "top_ups": "0.0100",
            "fees": "0.0122",  # 0.0056 + 0.0056 + 0.0010
            "refunded": "49.9028",
            "corrections": "0.0000",
            "escrow_balance": "0.0000",
        }
        assert statement["rows"][1] | {"date": None} == {
            "date": None,
            "kind": "earning",
            "description": f"Accepted answer in “{funded.title}” (task {first.task.external_id})",
            "event_key": f"earning:answer:{first.pk}",
            "reference": "",
            "answer": first.pk,
            "worker": member.pk,
            "escrow_change": "-0.0431",
            "worker_amount": "0.0375",
            "fee": "0.0056",
        }
        import json

        json.dumps(statement)
        assert selectors.project_statement(make_project(organization, tasks=1))["rows"] == []

    def test_worker_statement_has_a_running_balance_and_a_date_range(self, organization, steward, project, answer, member):
        pay_worker(organization, steward, project, answer, D("6"))
        pay_worker(organization, steward, project, answer, D("6.0050"))
        payout = payouts.payout_request(worker=member)
        statement = selectors.worker_statement(member)
        assert [(r["kind"], r["amount"], r["balance"]) for r in statement["rows"]] == [
            ("top_up", "6.0000", "6.0000"),
            ("top_up", "6.0050", "12.0050"),
            ("payout_request", "-12.0000", "0.0050"),
        ]
        assert statement["payouts"] == [
            {
                "id": payout.pk,
                "amount": "12.0000",
                "status": "requested",
                "reference": "",
                "requested_at": payout.created_at.isoformat(),
            }
        ]
        tomorrow = timezone.localdate() + timedelta(days=1)
        later = selectors.worker_statement(member, date_from=tomorrow)
        assert (later["opening_balance"], later["closing_balance"], later["rows"], later["payouts"]) == (
            "0.0050",
            "0.0050",
            [],
            [],
        )
        today = selectors.worker_statement(member, date_from=timezone.localdate(), date_to=timezone.localdate())
        assert today["opening_balance"] == "0.0000" and len(today["rows"]) == 3
        assert selectors.worker_statement(member, date_to=timezone.localdate() - timedelta(days=1))["rows"] == []

    def test_balance_selectors_cost_one_query(self, funded, answer, member, organization, django_assert_num_queries):
        services.earning_post(answer=answer, amount=D("0.5"), fee_rate=D("0.1"))
        with django_assert_num_queries(1):
            assert selectors.worker_balance(member)["available"] == D("0.5")
        with django_assert_num_queries(1):
            assert selectors.trial_balance() == {"USD": 0}
        with django_assert_num_queries(1):
            assert selectors.escrow_balance(funded) == D("49.45")
        with django_assert_num_queries(1):
            assert selectors.client_cash_balance(organization) == D("50")

    def test_the_admin_shows_the_ledger_and_changes_nothing(self, client, steward, funded, answer, member):
        services.earning_post(answer=answer, amount=D("0.5"), fee_rate=D("0.1"))
        steward.is_superuser = True  # not even an operator may edit money
        steward.save(update_fields=["is_superuser"])
        client.force_login(steward)
        for model in ("ledgeraccount", "ledgertransaction", "ledgerentry", "payout"):
            url = f"/admin/marketplace/{model}/"
            assert client.get(url).status_code == 200, url
            assert client.get(url, {"q": "a"}).status_code == 200, url
            assert client.get(f"{url}add/").status_code == 403, url
        page = client.get("/admin/marketplace/ledgeraccount/", {"kind__exact": "project_escrow"}).content.decode()
        assert "49.4500" in page
        posted = LedgerTransaction.objects.get(kind="earning")
        assert client.get(f"/admin/marketplace/ledgertransaction/{posted.pk}/change/").status_code == 200
        assert client.post(f"/admin/marketplace/ledgertransaction/{posted.pk}/delete/", {"post": "yes"}).status_code == 403
        assert LedgerTransaction.objects.filter(pk=posted.pk).exists()


# --- Property: the books always balance ---------------------------------------------------------


@pytest.fixture
def world(steward):
    """Two clients with a project each; three workers, each with one accepted answer per project."""
    organizations = [factories.make_organization() for _ in range(2)]
    project_list = [make_project(o) for o in organizations]
    workers = [factories.make_member() for _ in range(3)]
    answers = [a for p in project_list for a in accepted_answers(p, workers)]
    return {"steward": steward, "orgs": organizations, "projects": project_list, "workers": workers, "answers": answers}


class Books:
    """What the ledger must say, computed independently in plain Decimal arithmetic."""

    def __init__(self, world):
        self.world = world
        self.cash = [ZERO, ZERO]
        self.escrow = [ZERO, ZERO]
        self.closed: set[int] = set()
        self.earned_entries: dict[int, tuple[D, D]] = {}  # answer index -> (worker amount, fee)
        self.earned = [ZERO] * 3
        self.available = [ZERO] * 3
        self.pending = [ZERO] * 3
        self.paid = [ZERO] * 3
        self.open: list[Payout | None] = [None] * 3
        self.deposits = 0
        self.fees = self.bank = self.fund = ZERO

    def expect(self, name, code, action):
        """Run the service; it must succeed when code is None, else refuse with that code."""
        event(f"{name}: {code or 'done'}")  # --hypothesis-show-statistics shows how often each path ran
        if code is None:
            return action()
        with pytest.raises(ApplicationError) as excinfo:
            action()
        assert excinfo.value.code == code
        return None

    def apply(self, step):
        name, index, *args = step
        world = self.world
        if name == "deposit":
            self.deposits += 1
            services.deposit_record(
                organization=world["orgs"][index], amount=args[0], reference=f"B-{self.deposits}", recorded_by=world["steward"]
            )
            self.cash[index] += args[0]
            self.bank += args[0]
        elif name == "fund":
            (amount,) = args
            code = "project_closed" if index in self.closed else "insufficient_funds" if self.cash[index] < amount else None
            self.expect(name, code, lambda: services.escrow_fund(project=world["projects"][index], amount=amount))
            if code is None:
                self.cash[index] -= amount
                self.escrow[index] += amount
        elif name in ("earn", "top_up"):
            amount, fee_rate = args
            answer = world["answers"][index]
            project_index, worker_index = divmod(index, 3)
            fee = (amount * fee_rate).quantize(D("0.0001"), rounding=ROUND_HALF_UP)
            repeat = name == "earn" and index in self.earned_entries
            if repeat:
                code = None if self.earned_entries[index] == (amount, fee) else "event_conflict"
            else:
                code = "escrow_insufficient" if self.escrow[project_index] < amount + fee else None
            service = services.earning_post if name == "earn" else services.top_up_post
            self.expect(name, code, lambda: service(answer=answer, amount=amount, fee_rate=fee_rate))
            if code is None and not repeat:
                self.earned_entries.setdefault(index, (amount, fee)) if name == "earn" else None
                self.escrow[project_index] -= amount + fee
                # The benefits fund takes its share (policy benefits_share_of_fee) of every fee, in the same posting.
                share = (fee * D("0.20")).quantize(D("0.0001"), rounding=ROUND_HALF_UP)
                self.fees += fee - share
                self.fund += share
                self.earned[worker_index] += amount
                self.available[worker_index] += amount
        elif name == "payout":
            (amount,) = args
            requested = self.available[index] if amount is None else amount
            if self.open[index] is not None:
                code = "payout_open"
            elif requested > self.available[index]:
                code = "insufficient_balance"
            elif requested.quantize(D("0.01"), rounding=ROUND_DOWN) < D("10"):
                code = "below_payout_minimum"
            else:
                code = None
            payout = self.expect(name, code, lambda: payouts.payout_request(worker=world["workers"][index], amount=amount))
            if payout is not None:
                assert payout.amount == requested.quantize(D("0.01"), rounding=ROUND_DOWN)
                self.open[index] = payout
                self.available[index] -= payout.amount
                self.pending[index] += payout.amount
        elif name in ("pay", "cancel") and self.open[index] is not None:
            payout, self.open[index] = self.open[index], None
            self.pending[index] -= payout.amount
            if name == "pay":
                payouts.payout_mark_paid(payout=payout, reference=f"T-{payout.pk}", steward=world["steward"])
                self.paid[index] += payout.amount
                self.bank -= payout.amount
            else:
                payouts.payout_cancel(payout=payout, actor=world["workers"][index])
                self.available[index] += payout.amount
        elif name == "refund":
            project = world["projects"][index]
            if index not in self.closed:
                projects.project_cancel(project=project)
                self.closed.add(index)
            services.escrow_refund(project=project)
            self.cash[index] += self.escrow[index]
            self.escrow[index] = ZERO

    def check(self):
        balances = {(a.kind, a.organization_id or a.project_id or a.user_id): b for a, b in assert_books_balance().items()}
        world = self.world
        for i in range(2):
            assert balances.get((K.CLIENT_CASH, world["orgs"][i].pk), ZERO) == self.cash[i]
            assert balances.get((K.PROJECT_ESCROW, world["projects"][i].pk), ZERO) == self.escrow[i]
        for i, worker in enumerate(world["workers"]):
            balance = selectors.worker_balance(worker)
            assert (balance["available"], balance["pending_payout"], balance["paid_total"], balance["lifetime_earned"]) == (
                self.available[i],
                self.pending[i],
                self.paid[i],
                self.earned[i],
            )
            # Earned minus paid out (or on its way out) is what the worker can still withdraw.
            assert balance["available"] == balance["lifetime_earned"] - balance["pending_payout"] - balance["paid_total"]

    def check_selectors(self):
        for i in range(2):
            assert selectors.client_cash_balance(self.world["orgs"][i]) == self.cash[i]
            assert selectors.escrow_balance(self.world["projects"][i]) == self.escrow[i]
        by_kind = selectors.balances_by_kind()
        assert (by_kind.get(("USD", K.COOP_BANK), ZERO), by_kind.get(("USD", K.COOP_FEES), ZERO)) == (self.bank, self.fees)
        assert by_kind.get(("USD", K.BENEFITS), ZERO) == self.fund


money = st.decimals(min_value=D("0.0001"), max_value=D("400"), places=4)
# Per-task rates: sub-cent ones, and ones large enough for workers to reach the payout minimum.
BIG_RATES = st.decimals(min_value=D("6"), max_value=D("15"), places=4)
rates = st.one_of(st.decimals(min_value=D("0.0001"), max_value=D("0.05"), places=4), BIG_RATES, BIG_RATES)
fee_rates = st.decimals(min_value=D("0"), max_value=D("0.3"), places=4)


def as_step(draw: tuple) -> tuple:
    name, i, amount, rate, fee_rate, payout_amount = draw
    if name in ("deposit", "fund"):
        return (name, i % 2, amount)
    if name in ("earn", "top_up"):
        return (name, i % 6, rate, fee_rate)
    if name == "payout":
        return (name, i % 3, payout_amount)
    return (name, i % (2 if name == "refund" else 3))


# Weighted by repetition: mostly paying for work and paying it out, sometimes ending a project.
NAMES = ["earn", "earn", "earn", "top_up", "top_up", "deposit", "fund", "payout", "payout", "pay", "pay", "cancel", "refund"]
PAYOUT_AMOUNTS = st.none() | st.decimals(min_value=D("9.99"), max_value=D("20"), places=4)
STEPS = st.tuples(st.sampled_from(NAMES), st.integers(0, 5), money, rates, fee_rates, PAYOUT_AMOUNTS).map(as_step)
OPENING = st.tuples(
    st.decimals(min_value=D("100"), max_value=D("2000"), places=4), st.decimals(min_value=D("50"), max_value=D("400"), places=4)
)


@pytest.mark.django_db
# No shrinking: each example replays through the database, and shrinking could outlast pytest's 300 s timeout;
# a failure prints its (unshrunk) steps at once.
@hypothesis_settings(
    max_examples=50,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    opening=st.tuples(OPENING, OPENING),
    first_pay=st.lists(st.tuples(rates, fee_rates), min_size=6, max_size=6),
    steps=st.lists(STEPS, min_size=3, max_size=20),
)
def test_the_books_balance_after_every_step(world, opening, first_pay, steps):
    """Random deposits, fundings, earnings, top-ups, payouts and refunds: after every step the ledger agrees with
    plain Decimal bookkeeping, debits equal credits, and no account is overdrawn."""
    prelude = [
        (name, i, amount) for i, (deposit, fund) in enumerate(opening) for name, amount in (("deposit", deposit), ("fund", fund))
    ]
    prelude += [("earn", i, rate, fee_rate) for i, (rate, fee_rate) in enumerate(first_pay)]  # every answer is paid once
    with transaction.atomic():  # each example starts from the same world
        books = Books(world)
        for step in prelude + steps:
            books.apply(step)
            books.check()
        books.check_selectors()
        transaction.set_rollback(True)


# --- PostgreSQL: real concurrency ---------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_eight_threads_posting_one_earning_make_one_transaction(self, organization, steward, member):
        project = make_project(organization)
        answer = accepted_answers(project, [member])[0]
        services.deposit_record(organization=organization, amount=D("1"), reference="B", recorded_by=steward)
        services.escrow_fund(project=project, amount=D("1"))
        earning = partial(services.earning_post, answer=answer, amount=D("0.5"), fee_rate=D("0.1"))
        results, errors = run_threads([earning] * 8)
        assert errors == [] and len(results) == 8 and len({posted.pk for posted in results}) == 1
        assert LedgerTransaction.objects.filter(kind="earning").count() == 1
        assert LedgerEntry.objects.filter(transaction__kind="earning").count() == 3
        assert selectors.escrow_balance(project) == D("0.45")
        # Without any lock, the unique event key alone decides a race of raw posts.
        bank, cash = services.account_for(kind=K.COOP_BANK), services.account_for(kind=K.CLIENT_CASH, organization=organization)
        entries = [(bank, D("0.01")), (cash, D("-0.01"))]
        results, errors = run_threads([partial(services.ledger_post, event_key="race", kind="correction", entries=entries)] * 8)
        assert errors == [] and len({posted.pk for posted in results}) == 1
        assert LedgerTransaction.objects.filter(kind="correction").count() == 1
        assert_books_balance()

    def test_concurrent_fundings_never_overdraw_the_client(self, organization, steward):
        project_list = [make_project(organization, tasks=1) for _ in range(2)]
        services.deposit_record(organization=organization, amount=D("100"), reference="B", recorded_by=steward)
        fundings = [partial(services.escrow_fund, project=project_list[i % 2], amount=D("30")) for i in range(10)]
        results, errors = run_threads(fundings)
        assert len(results) == 3 and {e.code for e in errors} == {"insufficient_funds"} and len(errors) == 7
        assert selectors.client_cash_balance(organization) == D("10")
        assert sum(selectors.escrow_balance(p) for p in project_list) == D("90")
        assert_books_balance()

    def test_concurrent_payout_requests_open_one_payout(self, organization, steward, member):
        project = make_project(organization)
        answer = accepted_answers(project, [member])[0]
        pay_worker(organization, steward, project, answer, D("25"))
        results, errors = run_threads([partial(payouts.payout_request, worker=member, amount=D("20"))] * 6)
        assert len(results) == 1 and [e.code for e in errors] == ["payout_open"] * 5
        assert selectors.worker_balance(member)["available"] == D("5")
        assert_books_balance()

    def test_refunds_racing_fundings_neither_deadlock_nor_strand_money(self, organization, steward):
        # A refund locks the escrow and then writes to the client's cash account, which a funding locks
        # first: the account locks are FOR NO KEY UPDATE so the refund's foreign-key check never waits on them.
        services.deposit_record(organization=organization, amount=D("1000"), reference="B", recorded_by=steward)
        for _ in range(4):
            project = make_project(organization, tasks=1)
            services.escrow_fund(project=project, amount=D("10"))
            projects.project_cancel(project=project)
            refund = partial(services.escrow_refund, project=project)
            _, errors = run_threads([refund] + [partial(services.escrow_fund, project=project, amount=D("1"))] * 5)
            assert [getattr(e, "code", e) for e in errors] == ["project_closed"] * 5
            assert selectors.escrow_balance(project) == 0
        assert selectors.client_cash_balance(organization) == D("1000")
        assert_books_balance()


def test_the_escrow_checkpoint_catch_up_equals_the_full_sum_across_checkpoints(organization, steward):
    """spendable_balance adds the entries after the escrow's checkpoint (plain SQL on PostgreSQL, the ORM on
    SQLite) and advances the checkpoint every CHECKPOINT_EVERY entries: at every step it equals the full sum."""
    from django.db.models import Count, Max

    from marketplace.ledger import posting

    project = factories.make_project(organization, tasks=1)
    escrow = services.account_for(kind=AccountKind.PROJECT_ESCROW, project=project, currency=project.currency)
    cash = services.account_for(kind=AccountKind.CLIENT_CASH, organization=organization, currency=project.currency)
    amounts = [D("0.0001"), D("12.3456"), D("-0.0003"), D("99999.9999"), D("-7.5000")] * 25  # 125 entries: two checkpoints
    for i, amount in enumerate(amounts):
        services.ledger_post(event_key=f"t:{i}", kind="correction", entries=[(cash, amount), (escrow, -amount)],
                             description="test", created_by=steward)
        with transaction.atomic():
            locked = services.lock_account(escrow)
            assert services.spendable_balance(locked) == selectors.account_balance(escrow)
        fresh = LedgerEntry.objects.filter(account=escrow, id__gt=0).aggregate(total=selectors.scaled_sum(), last=Max("id"), count=Count("id"))
        assert posting._entries_since(escrow.pk, 0) == (fresh["total"], fresh["last"], fresh["count"])
    escrow.refresh_from_db()
    assert escrow.checkpoint_entry_id > 0  # the checkpoint moved on


@requires_postgres
@pytest.mark.django_db(transaction=True)  # committed rows, so other connections see them
def test_adversarial_the_payment_holds_the_escrow_locked_and_reads_the_accounts_the_orm_reads(organization):
    from django.db.models import Q
    from django.db.utils import OperationalError

    project = factories.make_project(organization, tasks=2, overlap=1)
    workers = [factories.make_member() for _ in range(2)]
    for worker in workers:
        services.account_for(kind=AccountKind.WORKER_EARNINGS, user=worker, currency=project.currency)
    services.account_for(kind=AccountKind.COOP_FEES, currency=project.currency)
    services.account_for(kind=AccountKind.PROJECT_ESCROW, project=project, currency=project.currency)

    def try_lock():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM marketplace_ledgeraccount WHERE id = %s FOR NO KEY UPDATE NOWAIT", [escrow.pk])

    ids = {worker.pk for worker in workers}
    with transaction.atomic():
        escrow, accounts = services._payment_accounts(project, ids)
        assert escrow.kind == AccountKind.PROJECT_ESCROW and escrow.project_id == project.pk
        _, errors = run_threads([try_lock])
        assert len(errors) == 1 and isinstance(errors[0], OperationalError)  # a second payer waits behind this one
        # the accounts it credits are only read: another payer may lock them meanwhile
        _, errors = run_threads([lambda: _lock_nowait([a.pk for a in accounts])])
        assert errors == []
    orm = LedgerAccount.objects.filter(
        Q(kind=AccountKind.WORKER_EARNINGS, user_id__in=ids) | Q(kind__in=(AccountKind.COOP_FEES, AccountKind.BENEFITS)),
        currency=project.currency,
    )
    assert {a.pk for a in accounts} == set(orm.values_list("pk", flat=True)) and len(accounts) == 3
    assert escrow == LedgerAccount.objects.get(kind=AccountKind.PROJECT_ESCROW, project=project)
    other = factories.make_project(organization, tasks=1, overlap=1, publish=False)
    assert services._payment_accounts(other, ids)[0] is None  # no escrow yet: the payment creates it


def _lock_nowait(ids):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM marketplace_ledgeraccount WHERE id = ANY(%s) FOR NO KEY UPDATE NOWAIT", [ids])


@requires_postgres
@pytest.mark.django_db
def test_the_payment_statement_writes_the_rows_the_orm_bulk_inserts_write(organization, steward):
    """On PostgreSQL a payment's transactions and entries are one hand-written statement; the same payment through
    the ORM's two bulk inserts (SQLite's path) writes the same rows, in the same order."""
    from types import SimpleNamespace

    services.deposit_record(organization=organization, amount=D("100.00"), reference="BANK-2", recorded_by=steward)
    written = {}
    for path in ("statement", "orm"):
        project = make_project(organization, tasks=2)
        services.escrow_fund(project=project, amount=D("20.00"), event_key=f"fund:{path}")
        answers = accepted_answers(project, [factories.make_member(), factories.make_member()])
        items = [(a, D("0.1234"), "earning", f"earning:{path}:{i}") for i, a in enumerate(answers)]
        with pytest.MonkeyPatch.context() as patch:
            if path == "orm":
                patch.setattr(services, "connection", SimpleNamespace(vendor="sqlite"))  # the ledger takes its ORM paths
            assert services.escrow_pay_accepted(project=project, items=items, fee_rate=D("0.10"), share_rate=D("0.25")) == 2
        posted = LedgerTransaction.objects.filter(project=project, kind="earning") | LedgerTransaction.objects.filter(
            event_key__startswith=f"benefits:earning:{path}:"
        )
        written[path] = [
            (
                t.event_key.replace(path, "-"),
                t.kind,
                t.description.replace(project.title, "-").replace(path, "-"),
                t.answer_id is not None,
                [(e.account.kind, e.amount) for e in t.entries.order_by("id")],
            )
            for t in posted.order_by("id")
        ]
        entry_ids = list(LedgerEntry.objects.filter(transaction__in=posted).order_by("id").values_list("transaction__event_key", flat=True))
        assert entry_ids == sorted(entry_ids, key=lambda key: [t.event_key for t in posted.order_by("id")].index(key))
    assert written["statement"] == written["orm"]
    assert len(written["statement"]) == 4  # two earnings, two benefits shares
    assert written["statement"][0][4] == [(K.PROJECT_ESCROW, D("0.1357")), (K.WORKER_EARNINGS, D("-0.1234")), (K.COOP_FEES, D("-0.0123"))]
    assert_books_balance()


@requires_postgres
@pytest.mark.django_db
def test_a_payment_statement_with_a_key_already_posted_writes_nothing(organization, steward, funded, answer):
    services.escrow_pay_accepted(project=funded, items=[(answer, D("0.50"), "earning", "earning:twice")], fee_rate=D("0.10"))
    before = (LedgerTransaction.objects.count(), LedgerEntry.objects.count())
    other = accepted_answers(funded, [factories.make_member()])[0]
    items = [(other, D("0.50"), "earning", "earning:fresh"), (answer, D("0.50"), "earning", "earning:twice")]
    with pytest.raises(IntegrityError), transaction.atomic():
        services.escrow_pay_accepted(project=funded, items=items, fee_rate=D("0.10"), fresh=True)  # fresh: no check first
    assert (LedgerTransaction.objects.count(), LedgerEntry.objects.count()) == before
