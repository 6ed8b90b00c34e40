"""Paying for work: escrow that covers every planned answer, earnings at acceptance, and the measured-pay review.

Rules (documented for clients and workers alike):

* Planned answers = regular tasks × the project's maximum overlap, plus the
  gold checks workers are expected to answer alongside them
  (⌈planned regular answers × r / (1 − r)⌉ for gold ratio r, when the project
  has gold tasks). Escrow must hold, for every planned answer not yet decided,
  pay per task plus the co-op's fee, and for every accepted answer what it is
  still owed. Publication, resumption and imports into a live project move the
  shortfall from the client's cash into escrow, or are refused.
* An accepted answer is paid the project's current pay per task, in the same
  transaction that accepts it (event key "earning:answer:<id>"). If the pay
  per task was raised after an answer was paid, the answer gets a top-up to
  the new rate ("top_up:answer:<id>:to:<pay>"). Both post once, however often
  a job retries.
* If escrow cannot pay an accepted answer, the acceptance still stands, the
  answer stays owed, and the project pauses until the client funds it; the
  periodic settlement pays every owed answer as soon as escrow allows.
* Measured pay: once a project has PAY_REVIEW_MIN_ANSWERS accepted answers with
  recorded active time, the median active seconds per accepted answer (each
  capped at the lease length, so an abandoned tab cannot drag it) gives the
  real hourly pay. Below the floor, the pay per task is raised to the smallest
  rate that meets the floor at the measured time, every accepted answer is
  topped up, and the client is told; if escrow and the client's cash cannot
  cover it, the project pauses (the top-ups stay owed and are paid first when
  money arrives).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from coop.errors import ApplicationError
from coop.exports import chunked
from coop.services.notifications import notification_send_to_organization
from governance.selectors import policies_current
from marketplace.error_codes import MarketplaceErrorCode

from ..ledger.models import AccountKind, LedgerEntry, LedgerTransaction, TransactionKind
from ..ledger.selectors import client_cash_balance, escrow_balance, from_scaled, paid_by_answer, scaled_sum
from ..ledger.services import PLACES, escrow_fund, escrow_pay_accepted, escrow_refund, fee_for
from ..models import Answer, Assignment, PayRaise, Project, Task
from ..pay import current_appeal_window_days, current_fee_rate, current_pay_floor, hourly_rate, minimum_pay_per_task
from .pausing import project_pause

logger = logging.getLogger(__name__)
S = Project.Status
S_PAUSE = Project.PauseKind
A = Answer.Status
PAID_KINDS = (TransactionKind.EARNING, TransactionKind.TOP_UP)
ESCROW_SHORT = "escrow_short"


# --- What the project needs ---------------------------------------------------------------------


def planned_answers(project: Project) -> int:
    regular = Task.objects.filter(project=project, is_gold=False).count()
    planned = regular * project.max_overlap
    ratio = Decimal(project.gold_ratio)
    if ratio > 0 and Task.objects.filter(project=project, is_gold=True).exists():
        planned += math.ceil(Decimal(planned) * ratio / (1 - ratio))
    return planned


def cost_per_answer(pay: Decimal, fee_rate: Decimal) -> Decimal:
    return pay + fee_for(pay, fee_rate)


def _owed(project: Project, fee_rate: Decimal) -> tuple[Decimal, int]:
    """(what accepted answers are still owed, fee included; how many accepted answers there are).

    Pay per task only ever rises and nothing is paid above it, so when the
    project's payments add up to accepted answers × pay, nothing is owed (two
    queries); otherwise the answers are checked one chunk at a time.
    """
    accepted = Answer.objects.filter(task__project=project, status=A.ACCEPTED).count()
    paid_total = -from_scaled(
        LedgerEntry.objects.filter(
            transaction__project=project, transaction__kind__in=PAID_KINDS, account__kind=AccountKind.WORKER_EARNINGS
        ).aggregate(total=scaled_sum())["total"]
    )
    if paid_total == accepted * project.pay_per_task:
        return Decimal(0), accepted
    owed, accepted = Decimal(0), 0
    ids = Answer.objects.filter(task__project=project, status=A.ACCEPTED).values_list("pk", flat=True).order_by("pk")
    for chunk in chunked(ids.iterator(chunk_size=2000), 2000):
        paid = paid_by_answer(chunk)
        accepted += len(chunk)
        for answer_id in chunk:
            missing = project.pay_per_task - paid.get(answer_id, Decimal(0))
            if missing > 0:
                owed += cost_per_answer(missing, fee_rate)
    return owed, accepted


def escrow_required(project: Project, fee_rate: Decimal | None = None) -> dict:
    """What escrow must hold now: owed accepted work + every planned answer not yet decided, fee included."""
    fee_rate = current_fee_rate() if fee_rate is None else fee_rate
    owed, accepted = _owed(project, fee_rate)
    closed_rejections = (
        Answer.objects.filter(task__project=project, status=A.REJECTED)
        .exclude(appeal_status=Answer.AppealStatus.PENDING)
        .count()
    )
    planned = planned_answers(project)
    remaining = max(planned - accepted - closed_rejections, 0)
    required = (owed + remaining * cost_per_answer(project.pay_per_task, fee_rate)).quantize(PLACES)
    return {
        "planned_answers": planned,
        "remaining_answers": remaining,
        "owed": owed.quantize(PLACES),
        "fee_rate": fee_rate,
        "required": required,
        "escrow": escrow_balance(project),
    }


def escrow_ensure(project: Project, *, event_key: str | None = None, dry_run: bool = False) -> Decimal:
    """Move the shortfall between escrow and what the project needs from the client's cash. Returns the shortfall.

    Raises ApplicationError("insufficient_funds") naming what is needed and
    what the client holds; nothing moves then. `dry_run` checks without
    moving money. Call inside the caller's transaction with the project row locked.
    """
    need = escrow_required(project)
    shortfall = need["required"] - need["escrow"]
    if shortfall <= 0:
        return Decimal(0)
    available = client_cash_balance(project.organization, project.currency)
    if available < shortfall:
        raise ApplicationError(
            f"Escrow must hold {project.currency} {need['required']} for this project "
            f"({need['remaining_answers']} planned answers × {project.pay_per_task} plus the co-op's "
            f"{need['fee_rate'] * 100:.2f}% fee{', plus work already accepted and owed' if need['owed'] else ''}); "
            f"it holds {need['escrow']} and your organization's balance is {available}. "
            f"Deposit at least {shortfall - available} more.",
            code=MarketplaceErrorCode.INSUFFICIENT_FUNDS,
            extra={
                "required": str(need["required"]),
                "escrow": str(need["escrow"]),
                "available": str(available),
                "shortfall": str(shortfall - available),
                "planned_answers": need["planned_answers"],
            },
        )
    if not dry_run:
        escrow_fund(project=project, amount=shortfall, event_key=event_key)
    return shortfall


def closing_reserve(project: Project, *, fee_rate: Decimal | None = None, now=None) -> tuple[Decimal, int]:
    """(what a closing project's escrow must keep besides owed work, for how many answers): live leases
    (their holders may finish and are paid), answers and appeals pending, and rejections still appealable.
    Each at the current pay plus the fee."""
    fee_rate = current_fee_rate() if fee_rate is None else fee_rate
    now = now or timezone.now()
    opened_after = now - timedelta(days=current_appeal_window_days())
    answers = Answer.objects.filter(task__project=project)
    count = (
        Assignment.objects.filter(project=project, state=Assignment.State.LEASED).count()
        + answers.filter(status=A.PENDING).count()
        + answers.filter(status=A.REJECTED, appeal_status=Answer.AppealStatus.PENDING).count()
        + answers.filter(status=A.REJECTED, appeal_status=Answer.AppealStatus.NONE, decided_at__gt=opened_after).count()
    )
    return (count * cost_per_answer(project.pay_per_task, fee_rate)).quantize(PLACES), count


def escrow_cover_owed(project: Project) -> None:
    """Before a project closes: escrow must cover accepted work still owed and everything that may still be
    accepted (closing_reserve), since a closed project's escrow takes no more money.

    Moves the shortfall from the client's cash, or raises ApplicationError("insufficient_funds").
    """
    fee_rate = current_fee_rate()
    owed, _ = _owed(project, fee_rate)
    reserve, _ = closing_reserve(project, fee_rate=fee_rate)
    needed = owed.quantize(PLACES) + reserve
    shortfall = needed - escrow_balance(project)
    if shortfall <= 0:
        return
    available = client_cash_balance(project.organization, project.currency)
    if available < shortfall:
        raise ApplicationError(
            f"This project still owes or may owe {project.currency} {needed} (accepted work, live leases, answers "
            f"and appeals pending, rejections still appealable) that escrow does not hold; "
            f"deposit at least {shortfall - available} more before closing it.",
            code=MarketplaceErrorCode.INSUFFICIENT_FUNDS,
            extra={"owed": str(owed.quantize(PLACES)), "reserve": str(reserve), "shortfall": str(shortfall - available)},
        )
    escrow_fund(project=project, amount=shortfall)


# --- Paying accepted answers ----------------------------------------------------------------------


def _settle(
    project: Project, answers: list[Answer], fee_rate: Decimal, *, just_accepted: bool = False, share_rate=None, fresh: bool = False
) -> int:
    """Pay each accepted answer up to the project's pay per task: an earning first, later a top-up to a raised rate.

    `just_accepted`: the answers were accepted in this transaction, so each is owed its earning and nothing
    else (escrow_pay_accepted skips any already posted); this spares reading what they were paid. `fresh`:
    they were pending until now, so nothing of theirs can have been posted (see escrow_pay_accepted).
    """
    if just_accepted:
        items = [(a, project.pay_per_task, TransactionKind.EARNING, f"earning:answer:{a.pk}") for a in answers]
        return escrow_pay_accepted(project=project, items=items, fee_rate=fee_rate, share_rate=share_rate, fresh=fresh)
    paid = paid_by_answer(a.pk for a in answers)
    pay = project.pay_per_task
    items = []
    for answer in answers:
        already = paid.get(answer.pk, Decimal(0))
        if already == 0:
            items.append((answer, pay, TransactionKind.EARNING, f"earning:answer:{answer.pk}"))
        elif already < pay:
            items.append((answer, pay - already, TransactionKind.TOP_UP, f"top_up:answer:{answer.pk}:to:{pay}"))
    return escrow_pay_accepted(project=project, items=items, fee_rate=fee_rate) if items else 0


def answers_pay(answers: Iterable[int | Answer], *, fresh: bool = False) -> int:
    """Pay accepted answers what they are owed at their project's current rate. Returns how many were paid.

    Call inside the transaction that accepted them. When a project's escrow
    runs short nothing of it is written (the check comes before any write), the
    pay stays owed, the acceptance stands, and the project is paused after the commit.
    Pass ids, or the Answer objects the caller just accepted under the task's lock (with `task.project`
    loaded): those are not read again. `fresh`: the caller accepted them from pending (or created them
    accepted) in this transaction, so none can have been paid yet: the check for earlier postings is skipped.
    """
    given = list(answers)
    if given and all(isinstance(a, Answer) for a in given):
        answers = sorted((a for a in given if a.status == A.ACCEPTED), key=lambda a: a.pk)
    else:
        ids = [a.pk if isinstance(a, Answer) else a for a in given]
        answers = list(Answer.objects.filter(pk__in=ids, status=A.ACCEPTED).select_related("task__project").order_by("pk"))
    by_project: dict[int, list[Answer]] = {}
    for answer in answers:
        by_project.setdefault(answer.task.project_id, []).append(answer)
    if not by_project:
        return 0
    rates = policies_current(["coop_fee_rate", "benefits_share_of_fee"])  # both in one query
    fee_rate, share_rate = rates["coop_fee_rate"], rates["benefits_share_of_fee"]
    posted = 0
    for project_answers in by_project.values():
        project = project_answers[0].task.project
        try:
            posted += _settle(project, project_answers, fee_rate, just_accepted=True, share_rate=share_rate, fresh=fresh)
        except ApplicationError as error:
            if error.code != "escrow_insufficient":
                raise
            logger.warning("Escrow of project %s cannot pay accepted work: %s", project.pk, error.message)
            transaction.on_commit(lambda pk=project.pk: project_pause_unfunded(project_id=pk))
    return posted


def project_settle(project: Project) -> bool:
    """Pay every accepted answer of the project what it is owed, oldest first. True when nothing is left owed.

    When escrow runs short it pays answers one by one while it can and returns
    False, leaving the rest owed (the caller pauses the project, or keeps its
    escrow instead of refunding it).
    """
    fee_rate = current_fee_rate()
    ids = Answer.objects.filter(task__project=project, status=A.ACCEPTED).order_by("pk").values_list("pk", flat=True)
    for chunk in chunked(ids.iterator(chunk_size=500), 500):
        answers = list(Answer.objects.filter(pk__in=chunk).select_related("task__project", "worker").order_by("pk"))
        try:
            with transaction.atomic():
                _settle(project, answers, fee_rate)
        except ApplicationError as error:
            if error.code != "escrow_insufficient":
                raise
            for answer in answers:  # as much as escrow allows, one answer at a time
                try:
                    with transaction.atomic():
                        _settle(project, [answer], fee_rate)
                except ApplicationError as error:
                    if error.code != "escrow_insufficient":
                        raise
                    return False
    return True


def unpaid_projects() -> list[int]:
    """Projects with accepted answers that no earning pays yet."""
    paid = LedgerTransaction.objects.filter(kind=TransactionKind.EARNING).values("answer_id")
    return list(
        Answer.objects.filter(status=A.ACCEPTED).exclude(pk__in=paid).values_list("task__project_id", flat=True).distinct()
    )


def earnings_settle_due() -> int:
    """Periodic: pay accepted answers left owed (escrow was short, or a job died). Idempotent; returns projects settled."""
    settled = 0
    for project_id in unpaid_projects():
        if project_settle(Project.objects.get(pk=project_id)):
            settled += 1
        else:
            project_pause_unfunded(project_id=project_id)
    return settled


def project_pause_unfunded(*, project_id: int) -> bool:
    """Pause a live project whose escrow cannot pay accepted work, and tell the client. Idempotent."""

    project = Project.objects.get(pk=project_id)
    if project.status != S.PUBLISHED:
        return False
    project_pause(project=project, reason="Escrow cannot pay accepted work: deposit funds, then resume.", by=S_PAUSE.FUNDS)
    _notify_client(
        project,
        kind="project.escrow_short",
        title=f"“{project.title}” is paused: its escrow cannot pay accepted work",
        body="Deposit funds with the co-op, then resume the project; owed work is paid first.",
    )
    return True


def _notify_client(project: Project, *, kind: str, title: str, body: str) -> None:
    notification_send_to_organization(organization=project.organization, kind=kind, title=title, body=body)


# --- Measured pay ---------------------------------------------------------------------------------


def measured_seconds(project: Project) -> tuple[int | None, int]:
    """(median active seconds per accepted answer, sample size); median None below the minimum sample.

    Answers with no recorded time (0 s: submitted through an API client that
    does not report it) are left out; each is capped at the lease length.
    """
    cap = project.lease_seconds
    times = Answer.objects.filter(task__project=project, status=A.ACCEPTED, active_seconds__gt=0)
    count = times.count()
    if count < settings.PAY_REVIEW_MIN_ANSWERS:
        return None, count
    ordered = times.order_by("active_seconds").values_list("active_seconds", flat=True)
    middle = list(ordered[(count - 1) // 2 : count // 2 + 1])
    median = Decimal(sum(min(t, cap) for t in middle)) / len(middle)
    return max(1, int(median.to_integral_value())), count


def adopt_measured_time(project: Project, seconds: int | None) -> None:
    """After a pay raise the posted time per task is the members' measured median when that is longer than the
    client's estimate, so the posted hourly pay is what members really earn (the caller saves the project)."""
    if seconds is not None and seconds > project.estimated_seconds:
        project.estimated_seconds, project.time_measured = seconds, True


@transaction.atomic
def project_pay_review(*, project_id: int) -> PayRaise | None:
    """Raise a live project's pay if its measured hourly pay is below the floor; top up accepted work. Idempotent."""
    project = Project.objects.select_for_update(of=("self",)).select_related("organization").get(pk=project_id)
    if project.status not in (S.PUBLISHED, S.PAUSED):
        return None
    seconds, sample = measured_seconds(project)
    if seconds is None:
        return None
    floor = current_pay_floor()
    measured = hourly_rate(project.pay_per_task, seconds)
    if measured >= floor:
        return None
    new_pay = minimum_pay_per_task(floor, seconds)
    if new_pay <= project.pay_per_task:
        return None
    raise_ = PayRaise.objects.create(
        project=project,
        old_pay_per_task=project.pay_per_task,
        new_pay_per_task=new_pay,
        measured_seconds=seconds,
        sample_size=sample,
        pay_floor_hourly=floor,
        measured_hourly_pay=measured,
    )
    project.pay_per_task = new_pay
    adopt_measured_time(project, seconds)
    project.save(update_fields=["pay_per_task", "estimated_seconds", "time_measured", "updated_at"])
    body = (
        f"Members took a median of {seconds} s per task (over {sample} accepted answers), so "
        f"{raise_.old_pay_per_task} per task paid {project.currency} {measured}/hour, below the co-op's floor of "
        f"{floor}/hour. Pay per task is now {new_pay}, and accepted work has been topped up from escrow."
    )
    try:
        with transaction.atomic():
            escrow_ensure(project, event_key=f"escrow_fund:pay_raise:{raise_.pk}")
    except ApplicationError as error:
        if error.code != "insufficient_funds":
            raise
        body += f" {error.message} The project is paused until then."
        if project.status == S.PUBLISHED:
            transaction.on_commit(lambda: _pause_after_raise(project.pk))
    project_settle(project)  # what escrow cannot pay stays owed; the pause above waits for the client's deposit
    _notify_client(project, kind="project.pay_raised", title=f"Pay for “{project.title}” was raised to the floor", body=body)
    from .webhooks import webhook_enqueue

    webhook_enqueue(
        project=project,
        event="project.pay_raised",
        event_key=f"project.pay_raised:{raise_.pk}",
        payload={
            "project_id": project.pk,
            "old_pay_per_task": str(raise_.old_pay_per_task),
            "new_pay_per_task": str(new_pay),
            "measured_seconds": seconds,
            "pay_floor_hourly": str(floor),
        },
    )
    return raise_


def _pause_after_raise(project_id: int) -> None:

    project = Project.objects.get(pk=project_id)
    if project.status == S.PUBLISHED:
        project_pause(
            project=project, reason="Pay was raised to the floor and escrow cannot cover it: deposit funds, then resume.", by=S_PAUSE.FUNDS
        )


def live_projects_for_pay_review() -> list[int]:
    return list(Project.objects.filter(status__in=(S.PUBLISHED, S.PAUSED)).values_list("pk", flat=True))


# --- Closing the books of a project ---------------------------------------------------------------


def refund_due_projects_of(project_ids: Iterable[int] | None = None) -> list[int]:
    """Closed, funded projects with nothing that could still be paid from escrow now: no pending answer or
    appeal, and no live lease (a member holding one may still finish it and is paid)."""
    undecided = Q(status=A.PENDING) | Q(appeal_status=Answer.AppealStatus.PENDING)
    busy = Answer.objects.filter(undecided).values("task__project_id")
    leased = Assignment.objects.filter(state=Assignment.State.LEASED).values("project_id")
    funded = LedgerTransaction.objects.filter(kind=TransactionKind.ESCROW_FUND).values("project_id")
    projects = Project.objects.filter(status__in=(S.COMPLETED, S.CANCELLED), pk__in=funded).exclude(pk__in=busy).exclude(pk__in=leased)
    if project_ids is not None:
        projects = projects.filter(pk__in=list(project_ids))
    return list(projects.values_list("pk", flat=True))


def project_close_books(*, project_id: int) -> bool:
    """A closed project: pay what is owed, refund unspent escrow but what open appeals could cost; returns whether it refunded.

    While rejections are still appealable their cost stays in escrow and the
    project stays completed/cancelled; the periodic job refunds the rest once
    the window has passed, and the project is then closed (lifecycle: books closed).
    """
    if project_id not in refund_due_projects_of([project_id]):
        return False
    project = Project.objects.get(pk=project_id)
    if not project_settle(project):
        logger.warning("Closed project %s still owes accepted work its escrow cannot pay; nothing is refunded", project.pk)
        return False
    reserve, may_still_cost = closing_reserve(project)  # here: only rejections still inside the appeal window
    refunded = escrow_balance(project) > reserve and escrow_refund(project=project, keep=reserve) is not None
    if not may_still_cost:
        Project.objects.filter(pk=project.pk, status__in=(S.COMPLETED, S.CANCELLED)).update(status=S.CLOSED)
    return refunded


def escrow_refund_due() -> int:
    """Periodic: pay anything owed, then return unspent escrow of closed projects to their clients. Idempotent."""
    refunded = 0
    for project_id in refund_due_projects_of():
        refunded += project_close_books(project_id=project_id)
    return refunded
