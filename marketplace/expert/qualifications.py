"""Qualifications: tests of gold items taken as paid work, grants by test or by the members' vote, and a signed export.

Money rule: a test is paid work. Its pay is fixed when the member starts it, at least what the pay floor in
force then gives for the test's time (pay_floor × estimated seconds / 3600, rounded up to 1/100 of a cent),
and is posted through the ledger when the member submits, pass or fail, once per attempt (event key
"test_pay:attempt:<id>"). A sponsored test is paid from the sponsoring client's cash with the co-op fee on
top; a co-op test from the co-op's fees. Starting refuses when the payer cannot cover it; if a sponsor's
cash ran out meanwhile, the co-op pays (the member is never left unpaid for a finished test).

Grants: only a passed attempt (source "test") or a passed proposal (source "vote"/"panel") creates a grant;
the database refuses any other row (models.QualificationGrant). No steward can grant one silently.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict, Forbidden, NotFound
from coop.models import ClientOrganization, Membership, User
from coop.validation import check_text, decimal_or_error
from governance.error_codes import GovernanceErrorCode
from marketplace.error_codes import MarketplaceErrorCode

from ..ledger.models import AccountKind as K
from ..ledger.models import TransactionKind as T
from ..ledger.selectors import account_balance
from ..ledger.services import account_for, fee_for, ledger_post, lock_account
from ..models import TaskType
from ..pay import current_fee_rate, current_pay_floor, minimum_pay_per_task
from ..task_images import task_image_decode
from ..task_types import gold_value, validate_answer, validate_task_data
from .models import (
    Qualification,
    QualificationAttempt,
    QualificationAttemptAnswer,
    QualificationGrant,
    QualificationNomination,
    QualificationTestItem,
)
from .qualification_record import (  # noqa: F401  (re-exported: the signed export is part of this API)
    EXPORT_FORMAT,
    key_id,
    qualification_export,
    qualification_export_verify,
)

MAX_ITEMS = 200
# Item types a test can use: those graded by their answer alone (the newer types need per-project configuration).
ITEM_TYPES = (TaskType.OCR, TaskType.CLASSIFICATION, TaskType.PAIRWISE)
PANEL_MIN_HOLDERS = 3


# --- Defining a qualification and its test --------------------------------------------------------


def _item_spec(row: dict, index: int) -> SimpleNamespace:
    task_type = row.get("task_type")
    if task_type not in ITEM_TYPES:
        raise ApplicationError(
            f"Item {index}: task_type must be one of {', '.join(ITEM_TYPES)}.", fields={f"items[{index}].task_type": ["Unknown."]}
        )
    choices = row.get("choices") or []
    if task_type == TaskType.CLASSIFICATION and (
        not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c.strip() for c in choices)
    ):
        raise ApplicationError(f"Item {index}: a classification item needs 2 or more choices.", fields={f"items[{index}].choices": ["Required."]})
    return _spec(task_type, choices if task_type == TaskType.CLASSIFICATION else [], bool(row.get("case_sensitive")))


def _spec(task_type: str, choices: list, case_sensitive: bool) -> SimpleNamespace:
    """What the task-type rules read of a project, for one test item."""
    return SimpleNamespace(task_type=task_type, choices=choices, case_sensitive=case_sensitive, task_config={})


def _clean_item(row, index: int) -> tuple[dict, bytes | None]:
    if not isinstance(row, dict):
        raise ApplicationError(f"Item {index} must be an object.", fields={f"items[{index}]": ["Must be an object."]})
    unknown = set(row) - {"task_type", "data", "choices", "case_sensitive", "gold", "explanation"}
    if unknown:
        raise ApplicationError(f"Item {index}: unknown fields {', '.join(sorted(unknown))}.", fields={f"items[{index}]": ["Unknown fields."]})
    spec = _item_spec(row, index)
    try:
        data = validate_task_data(spec, row.get("data"))
        image = task_image_decode(row["data"]["image"])[0] if isinstance(row.get("data"), dict) and "image" in row["data"] else None
        if row.get("gold") in (None, "", {}):
            raise ApplicationError("Every test item needs its gold answer.")
        gold_value(spec, row["gold"])
        explanation = check_text(str(row.get("explanation") or "")[:5000], field="explanation")
    except ApplicationError as error:
        raise ApplicationError(f"Item {index}: {error.message}", fields={f"items[{index}]": [error.message]}) from None
    fields = {"task_type": spec.task_type, "choices": spec.choices, "case_sensitive": spec.case_sensitive}
    return {**fields, "data": data, "gold": row["gold"], "explanation": explanation}, image


def _decimal(value, *, field: str, places: int) -> Decimal:
    if isinstance(value, float):
        raise ApplicationError(f"'{field}' must be a string or integer, not a float.", fields={field: ["Not a float."]})
    return decimal_or_error(value, field=field, places=places)


def _may_define(actor: User | None, sponsor: ClientOrganization | None) -> None:
    if sponsor is not None:
        if actor is not None and actor.organization_id != sponsor.pk:
            raise Forbidden("Only the sponsoring client's users define its qualifications.", code=MarketplaceErrorCode.NOT_YOUR_ORGANIZATION)
        return
    if actor is None or not actor.is_steward:
        raise Forbidden("Co-op qualifications are defined by stewards; clients define their own.", code=CoopErrorCode.STEWARD_REQUIRED)


@transaction.atomic
def qualification_create(
    *,
    actor: User | None,
    name: str,
    items: list,
    pass_mark,
    test_pay,
    test_estimated_seconds: int,
    sponsor: ClientOrganization | None = None,
    slug: str = "",
    description: str = "",
    tier: str = "",
    retry_delay_hours: int = 24,
    valid_days: int | None = None,
) -> Qualification:
    """Define a qualification with its test (gold items of any task type). All or nothing.

    `actor` is a steward (a co-op qualification, paid by the co-op) or a user of the sponsoring client
    (None with a sponsor: the client's API token). Refused: no items, a pass mark outside (0, 100],
    test pay below the pay floor for the test's time, an item without a gold answer.
    """
    _may_define(actor, sponsor)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 120:
        errors["name"] = ["1 to 120 characters."]
    slug = slugify(slug or name)[:80]
    if not slug:
        errors["slug"] = ["Required."]
    elif Qualification.objects.filter(slug=slug).exists():
        errors["slug"] = [f"A qualification “{slug}” exists already."]
    mark = _decimal(pass_mark, field="pass_mark", places=2)
    if not 0 < mark <= 100:
        errors["pass_mark"] = ["A percentage above 0 and at most 100."]
    pay = _decimal(test_pay, field="test_pay", places=4)
    if not isinstance(test_estimated_seconds, int) or isinstance(test_estimated_seconds, bool) or not 1 <= test_estimated_seconds <= 4 * 3600:
        errors["test_estimated_seconds"] = ["Whole seconds from 1 to 14400."]
    elif pay < minimum_pay_per_task(current_pay_floor(), test_estimated_seconds):
        minimum = minimum_pay_per_task(current_pay_floor(), test_estimated_seconds)
        errors["test_pay"] = [f"A test is paid work: at least {minimum} for {test_estimated_seconds} s at the pay floor of {current_pay_floor()}/hour."]
    if not isinstance(retry_delay_hours, int) or isinstance(retry_delay_hours, bool) or not 0 <= retry_delay_hours <= 24 * 365:
        errors["retry_delay_hours"] = ["Whole hours from 0 to 8760."]
    if valid_days is not None and (not isinstance(valid_days, int) or isinstance(valid_days, bool) or not 1 <= valid_days <= 3650):
        errors["valid_days"] = ["Whole days from 1 to 3650, or empty for no expiry."]
    if not isinstance(items, list) or not items:
        errors["items"] = ["A test needs at least one gold item."]
    elif len(items) > MAX_ITEMS:
        errors["items"] = [f"At most {MAX_ITEMS} items."]
    if errors:
        raise ApplicationError("The qualification has errors.", code=MarketplaceErrorCode.INVALID_QUALIFICATION, fields=errors)
    cleaned = [_clean_item(row, index) for index, row in enumerate(items)]
    qualification = Qualification.objects.create(
        slug=slug, name=name, description=check_text((description or "")[:5000], field="description"),
        tier=slugify(tier or "")[:40], sponsor=sponsor, pass_mark=mark, retry_delay_hours=retry_delay_hours,
        valid_days=valid_days, test_pay=pay, test_estimated_seconds=test_estimated_seconds,
        created_by=actor if actor is not None and actor.pk else None,
    )
    written: list[str] = []
    try:
        for position, (fields, image) in enumerate(cleaned, start=1):
            item = QualificationTestItem(qualification=qualification, position=position, **fields)
            if image is not None:
                written.append(default_storage.save(f"qualifications/{uuid.uuid4().hex}.img", ContentFile(image)))
                item.image.name = written[-1]
            item.save()
    except Exception:
        for path in written:
            default_storage.delete(path)
        raise
    return qualification


# --- Holding one -----------------------------------------------------------------------------------


def grant_in_force(*, member: User, qualification: Qualification) -> QualificationGrant | None:
    from django.db.models import Q

    now = timezone.now()
    return (
        QualificationGrant.objects.filter(member=member, qualification=qualification)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-granted_at")
        .first()
    )


def _grant(*, member: User, qualification: Qualification, source: str, attempt=None, proposal=None) -> QualificationGrant:
    now = timezone.now()
    expires = now + timedelta(days=qualification.valid_days) if qualification.valid_days else None
    return QualificationGrant.objects.create(
        member=member, qualification=qualification, source=source, attempt=attempt, proposal=proposal, granted_at=now, expires_at=expires
    )


# --- Taking the test -------------------------------------------------------------------------------


def attempt_pay(qualification: Qualification) -> Decimal:
    """What a test started now pays: the qualification's pay, raised to the pay floor for its time if the floor rose."""
    return max(qualification.test_pay, minimum_pay_per_task(current_pay_floor(), qualification.test_estimated_seconds))


def _time_limit(qualification: Qualification) -> timedelta:
    return timedelta(seconds=max(600, min(qualification.test_estimated_seconds * 3, 4 * 3600)))


def _payer_accounts(qualification: Qualification):
    if qualification.sponsor_id:
        return account_for(kind=K.CLIENT_CASH, organization=qualification.sponsor, currency=qualification.currency)
    return account_for(kind=K.COOP_FEES, currency=qualification.currency)


def _cost(qualification: Qualification, pay: Decimal) -> Decimal:
    return pay + (fee_for(pay, current_fee_rate()) if qualification.sponsor_id else Decimal(0))


def _expire_if_due(attempt: QualificationAttempt, now) -> bool:
    if attempt.status == QualificationAttempt.Status.OPEN and attempt.expires_at <= now:
        QualificationAttempt.objects.filter(pk=attempt.pk, status=QualificationAttempt.Status.OPEN).update(status=QualificationAttempt.Status.EXPIRED)
        attempt.status = QualificationAttempt.Status.EXPIRED
        return True
    return False


def _retry_after(qualification: Qualification, member: User):
    """When the member may start again after their last finished, failed attempt (None: now)."""
    last = (
        QualificationAttempt.objects.filter(qualification=qualification, member=member)
        .exclude(status=QualificationAttempt.Status.OPEN)
        .exclude(passed=True)
        .order_by("-started_at", "-id")
        .first()
    )
    if last is None:
        return None
    ended = last.submitted_at or last.expires_at
    return ended + timedelta(hours=qualification.retry_delay_hours)


def attempt_start(*, member: User, qualification: Qualification) -> QualificationAttempt:
    """Start the test (or get back the attempt already open). Refused while the retry delay runs or while qualified.

    Twelve parallel starts end with one open attempt (a partial unique index); the losers get it.
    """
    if not member.is_member:
        raise Forbidden("Only active members take qualification tests.", code=CoopErrorCode.MEMBER_REQUIRED)
    now = timezone.now()
    open_attempt = QualificationAttempt.objects.filter(qualification=qualification, member=member, status=QualificationAttempt.Status.OPEN).first()
    if open_attempt is not None and not _expire_if_due(open_attempt, now):
        return open_attempt
    if not qualification.is_active:
        raise Conflict("This qualification takes no new tests.", code=MarketplaceErrorCode.QUALIFICATION_INACTIVE)
    if not qualification.items.exists():
        raise Conflict("This test has no gold items.", code=MarketplaceErrorCode.NO_TEST_ITEMS)
    if grant_in_force(member=member, qualification=qualification) is not None:
        raise Conflict(f"You hold “{qualification.name}” already.", code=MarketplaceErrorCode.ALREADY_QUALIFIED)
    retry_at = _retry_after(qualification, member)
    if retry_at is not None and retry_at > now:
        raise Conflict(
            f"You can take this test again from {retry_at:%Y-%m-%d %H:%M} UTC (a retry delay of {qualification.retry_delay_hours} h).",
            code=MarketplaceErrorCode.RETRY_LATER,
            extra={"retry_at": retry_at.isoformat()},
        )
    pay = attempt_pay(qualification)
    try:
        with transaction.atomic():
            payer = lock_account(_payer_accounts(qualification))
            available = account_balance(payer)
            if available < _cost(qualification, pay):
                who = qualification.sponsor.name if qualification.sponsor_id else "The co-op"
                raise ApplicationError(
                    f"{who} cannot pay for this test right now ({available} {qualification.currency} available); try later.",
                    code=MarketplaceErrorCode.TEST_UNFUNDED,
                )
            return QualificationAttempt.objects.create(
                qualification=qualification, member=member, started_at=now, expires_at=now + _time_limit(qualification),
                items_total=qualification.items.count(), pay=pay,
            )
    except IntegrityError:
        existing = QualificationAttempt.objects.filter(qualification=qualification, member=member, status=QualificationAttempt.Status.OPEN).first()
        if existing is None:
            raise
        return existing


def _pay_attempt(attempt: QualificationAttempt):
    """Post the test's pay once (event key test_pay:attempt:<id>). Locks the payer's account."""
    qualification = attempt.qualification
    currency = qualification.currency
    event_key = f"test_pay:attempt:{attempt.pk}"
    earnings = account_for(kind=K.WORKER_EARNINGS, user=attempt.member, currency=currency)
    fees = account_for(kind=K.COOP_FEES, currency=currency)
    description = f"Qualification test “{qualification.name}”"
    if qualification.sponsor_id:
        cash = lock_account(account_for(kind=K.CLIENT_CASH, organization=qualification.sponsor, currency=currency))
        fee = fee_for(attempt.pay, current_fee_rate())
        if account_balance(cash) >= attempt.pay + fee:
            entries = [(cash, attempt.pay + fee), (earnings, -attempt.pay)] + ([(fees, -fee)] if fee else [])
            return ledger_post(event_key=event_key, kind=T.TEST_PAY, entries=entries, description=description,
                               organization=qualification.sponsor, user=attempt.member)
        description += " (paid by the co-op: the sponsor's cash ran out)"
    fees = lock_account(fees)
    if account_balance(fees) < attempt.pay:
        raise ApplicationError("The test cannot be paid right now; your answers are kept until the time limit: submit again shortly.", code=MarketplaceErrorCode.TEST_UNFUNDED)
    return ledger_post(event_key=event_key, kind=T.TEST_PAY, entries=[(fees, attempt.pay), (earnings, -attempt.pay)],
                       description=description, user=attempt.member)


@transaction.atomic
def attempt_submit(*, member: User, attempt_id: int, answers: dict) -> QualificationAttempt:
    """Grade an attempt against the gold answers, pay it (pass or fail) and grant the qualification if it passed.

    `answers` maps each item id (as text or number) to an answer in the item's task type's shape. Every
    item must be answered; a bad answer is a clear error and nothing is written. Locks the attempt.
    """
    attempt = (
        QualificationAttempt.objects.select_for_update(of=("self",)).select_related("qualification__sponsor")
        .filter(pk=attempt_id, member=member).first()
    )
    if attempt is None:
        raise NotFound("No such test attempt.")
    if attempt.status == QualificationAttempt.Status.SUBMITTED:
        return attempt  # a retried submission: graded and paid once
    now = timezone.now()
    if attempt.status == QualificationAttempt.Status.EXPIRED or attempt.expires_at <= now:
        QualificationAttempt.objects.filter(pk=attempt.pk).update(status=QualificationAttempt.Status.EXPIRED)
        raise Conflict(f"The time for this test ran out at {attempt.expires_at:%Y-%m-%d %H:%M} UTC.", code=MarketplaceErrorCode.ATTEMPT_EXPIRED)
    if not isinstance(answers, dict):
        raise ApplicationError("'answers' must map each item id to an answer.", fields={"answers": ["Must be an object."]})
    items = list(attempt.qualification.items.all())
    given = {str(key): value for key, value in answers.items()}
    errors: dict[str, list[str]] = {}
    graded = []
    for item in items:
        payload = given.pop(str(item.pk), None)
        spec = _spec(item.task_type, item.choices, item.case_sensitive)
        if payload is None:
            errors[f"answers.{item.pk}"] = ["Not answered."]
            continue
        try:
            clean, value = validate_answer(spec, payload)
        except ApplicationError as error:
            errors[f"answers.{item.pk}"] = [error.message]
            continue
        graded.append(QualificationAttemptAnswer(attempt=attempt, item=item, payload=clean, correct=value == gold_value(spec, item.gold)))
    for key in given:
        errors[f"answers.{key}"] = ["Not an item of this test."]
    if errors:
        raise ApplicationError("Answer every item of the test.", code=MarketplaceErrorCode.INVALID_ANSWERS, fields=errors)
    QualificationAttemptAnswer.objects.bulk_create(graded)
    correct = sum(1 for a in graded if a.correct)
    attempt.items_total, attempt.items_correct = len(graded), correct
    attempt.score = (Decimal(100 * correct) / Decimal(len(graded))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    attempt.passed = Decimal(100 * correct) >= attempt.qualification.pass_mark * len(graded)  # exact, not the rounded score
    attempt.status = QualificationAttempt.Status.SUBMITTED
    attempt.submitted_at = now
    attempt.pay_transaction = _pay_attempt(attempt)
    attempt.save(update_fields=["items_total", "items_correct", "score", "passed", "status", "submitted_at", "pay_transaction"])
    if attempt.passed and grant_in_force(member=member, qualification=attempt.qualification) is None:
        _grant(member=member, qualification=attempt.qualification, source=QualificationGrant.Source.TEST, attempt=attempt)
    _notify(member, attempt)
    return attempt


def _notify(member: User, attempt: QualificationAttempt) -> None:
    from django.urls import reverse

    from coop.services.notifications import notification_send

    q = attempt.qualification
    outcome = "passed: you hold it now" if attempt.passed else f"not passed (the pass mark is {q.pass_mark} %)"
    notification_send(
        user=member, kind="qualification.attempt", title=f"Test “{q.name}”: {attempt.score} %, {outcome}",
        body=f"You were paid {attempt.pay} {q.currency} for the test.",
        url=reverse("marketplace:qualification_attempt", kwargs={"pk": attempt.pk}),
    )


# --- Granted by the members ------------------------------------------------------------------------


def qualification_nominate(*, nominator: User, candidate: User, qualification: Qualification, evidence: str, by_panel: bool = False):
    """Put a member forward for a qualification without its test; the members decide by a secret vote.

    With `by_panel`, a panel drawn from members who hold the qualification (peers, at least
    PANEL_MIN_HOLDERS of them) decides instead. The candidate and the nominator are kept off the
    electorate. No one — steward or not — can grant a qualification any other way.
    """
    from governance.models import Proposal, ProposalKind
    from governance.rules import PANEL_QUORUM_PCT, panel_size
    from governance.services.initiative import active_membership
    from governance.services.proposals import proposal_create_unchecked

    nominator_membership = active_membership(nominator, action="nominate members for a qualification")
    candidate_membership = Membership.objects.filter(user=candidate, status=Membership.Status.ACTIVE).first()
    if candidate_membership is None:
        raise ApplicationError("Only active members can be granted a qualification.", fields={"candidate": ["Not an active member."]})
    evidence = check_text((evidence or "").strip(), field="evidence")
    if len(evidence) < 20:
        raise ApplicationError("Say what shows the skill (at least 20 characters); the deciders read it.", fields={"evidence": ["Too short."]})
    if not qualification.is_active:
        raise Conflict("This qualification is retired.", code=MarketplaceErrorCode.QUALIFICATION_INACTIVE)
    if grant_in_force(member=candidate, qualification=qualification) is not None:
        raise Conflict(f"{candidate.display_name} holds “{qualification.name}” already.", code=MarketplaceErrorCode.ALREADY_QUALIFIED)
    from django.contrib.contenttypes.models import ContentType

    open_votes = Proposal.objects.filter(
        kind=ProposalKind.QUALIFICATION_GRANT, status__in=("draft", "scheduled", "open"),
        subject_type=ContentType.objects.get_for_model(QualificationNomination),
        subject_id__in=[str(pk) for pk in QualificationNomination.objects.filter(candidate=candidate, qualification=qualification).values_list("pk", flat=True)],
    )
    if open_votes.exists():  # one question at a time: no re-nominating until a low-turnout vote happens to pass
        raise Conflict(f"A vote on {candidate.display_name} for “{qualification.name}” is already open.", code=GovernanceErrorCode.ALREADY_OPEN)
    conflicted = {nominator_membership.pk, candidate_membership.pk}
    panel = None
    if by_panel:
        import secrets

        holders = list(
            Membership.objects.filter(
                status=Membership.Status.ACTIVE,
                user__in=QualificationGrant.objects.filter(qualification=qualification).filter(
                    _in_force_q()).values("member_id"),
            ).exclude(pk__in=conflicted).order_by("pk")
        )
        if len(holders) < PANEL_MIN_HOLDERS:
            raise Conflict(
                f"A peer panel needs at least {PANEL_MIN_HOLDERS} other holders of “{qualification.name}”; ask all members instead.",
                code=MarketplaceErrorCode.PANEL_TOO_SMALL,
            )
        panel = secrets.SystemRandom().sample(holders, k=min(panel_size(), len(holders)))
    with transaction.atomic():
        nomination = QualificationNomination.objects.create(
            qualification=qualification, candidate=candidate, nominated_by=nominator, evidence=evidence, decided_by_panel=panel is not None
        )
        proposal = proposal_create_unchecked(
            creator=nominator,
            kind=ProposalKind.QUALIFICATION_GRANT,
            title=f"Grant “{qualification.name}” to {candidate.display_name}?"[:200],
            body=f"{nominator.display_name} puts {candidate.display_name} forward for “{qualification.name}” without the test.\n\n{evidence}",
            payload={"qualification_id": qualification.pk, "qualification": qualification.name, "candidate_membership": candidate_membership.pk,
                     "nomination_id": nomination.pk, "panel": panel is not None},
            subject=nomination,
            electorate=panel,
            decided_by=Proposal.DecidedBy.PANEL if panel is not None else Proposal.DecidedBy.MEMBERS,
            quorum_pct=PANEL_QUORUM_PCT if panel is not None else None,
            conflicted=conflicted,
        )
    return proposal


def _in_force_q():
    from django.db.models import Q

    return Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())


def qualification_grant_by_vote(*, proposal) -> QualificationGrant:
    """The effect of a passed qualification_grant proposal (governance calls it in the closing transaction). Once per proposal."""
    nomination = QualificationNomination.objects.select_related("qualification", "candidate").get(pk=proposal.subject_id)
    existing = QualificationGrant.objects.filter(proposal=proposal).first()
    if existing is not None:
        return existing
    source = QualificationGrant.Source.PANEL if proposal.decided_by == "panel" else QualificationGrant.Source.VOTE
    return _grant(member=nomination.candidate, qualification=nomination.qualification, source=source, proposal=proposal)
