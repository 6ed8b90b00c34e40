"""Proposals: created with the kind's rules. Opening a vote (the electorate frozen) is proposal_opening.py; opening
and closing on schedule (tally and effect) and withdrawal are proposal_lifecycle.py.

The lock protocol between ballots and the close is in proposal_lifecycle.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, Conflict
from coop.models import Membership, User
from coop.validation import decimal_or_error, require_steward
from governance.error_codes import GovernanceErrorCode

from ..models import Proposal, ProposalKind, ProposalStatus, VotingMethod
from ..rules import KIND_RULES, POLICIES, POLICY_KINDS
from .audit import log_write
from .policies import policy_clean_value
from .proposal_opening import proposal_open, proposal_url  # noqa: F401  (proposal_url: re-exported)

K = ProposalKind


def _require_steward(actor: User | None) -> None:
    require_steward(actor, "Only stewards can put proposals to the members.", system=True)


def _decimal(value, *, field: str) -> Decimal:
    return decimal_or_error(value, field=field, message=f"{field} must be a number.")


def _rules(kind: str, *, method, threshold, quorum_pct, duration, secret, results_hidden) -> dict:
    """The kind's defaults with the overrides the co-op allows (see governance.rules)."""
    rule = KIND_RULES[kind]
    method = method or rule.method
    if method not in rule.allowed_methods:
        message = f"This kind of proposal is decided by: {', '.join(rule.allowed_methods)}."
        raise ApplicationError(message, code=CoopErrorCode.METHOD_NOT_ALLOWED, fields={"method": [message]})
    if method == VotingMethod.YES_NO:
        threshold = threshold or (rule.threshold if rule.method == VotingMethod.YES_NO else rule.allowed_thresholds[0])
        if threshold not in rule.allowed_thresholds:
            message = f"Allowed thresholds for this kind: {', '.join(rule.allowed_thresholds)}."
            raise ApplicationError(message, code=GovernanceErrorCode.THRESHOLD_NOT_ALLOWED, fields={"threshold": [message]})
    elif threshold:
        raise ApplicationError("Only yes/no ballots have a threshold.", fields={"threshold": ["Only for yes/no ballots."]})
    else:
        threshold = ""
    quorum = rule.quorum_pct if quorum_pct in (None, "") else _decimal(quorum_pct, field="quorum_pct")
    if not rule.min_quorum_pct <= quorum <= 100:
        message = f"The quorum must be between {rule.min_quorum_pct}% and 100% for this kind."
        raise ApplicationError(message, code=GovernanceErrorCode.QUORUM_OUT_OF_RANGE, fields={"quorum_pct": [message]})
    duration = rule.duration if duration is None else duration
    if not isinstance(duration, timedelta) or not rule.min_duration <= duration <= rule.max_duration:
        message = f"Voting must last between {rule.min_duration.days or 1} and {rule.max_duration.days} days for this kind."
        raise ApplicationError(message, code=GovernanceErrorCode.DURATION_OUT_OF_RANGE, fields={"duration": [message], "duration_days": [message]})
    secret = rule.secret if secret is None else bool(secret)
    if rule.secret_required and not secret:
        raise ApplicationError("This kind of vote is always secret.", code=GovernanceErrorCode.SECRET_REQUIRED, fields={"secret": ["Required."]})
    results_hidden = True if results_hidden is None else bool(results_hidden)
    if secret and not results_hidden:
        raise ApplicationError(
            "A secret ballot cannot show a running tally: it would reveal who just voted what.",
            code=GovernanceErrorCode.SECRET_HIDES_RESULTS,
            fields={"results_hidden": ["Must stay hidden for a secret ballot."]},
        )
    return {
        "method": method,
        "threshold": threshold,
        "quorum_pct": quorum,
        "duration": duration,
        "secret": secret,
        "results_hidden": results_hidden,
    }


def _score_range(kind: str, *, score_min, score_max) -> dict:
    definition = POLICIES[POLICY_KINDS[kind]]
    low = (
        definition.minimum
        if score_min in (None, "")
        else policy_clean_value(key=definition.key, value=score_min, field="score_min")
    )
    high = (
        definition.maximum
        if score_max in (None, "")
        else policy_clean_value(key=definition.key, value=score_max, field="score_max")
    )
    if low >= high:
        raise ApplicationError(
            "The lowest allowed number must be below the highest.", fields={"score_min": ["Must be below the maximum."]}
        )
    return {"score_min": low, "score_max": high, "score_places": definition.places}


def _candidates(candidates, seats) -> dict:
    candidates = list(candidates or [])
    if not candidates:
        raise ApplicationError("An election needs candidates.", fields={"candidates": ["Required."]})
    ids = [c.pk for c in candidates]
    if len(set(ids)) != len(ids):
        raise ApplicationError("Each candidate can stand once.", fields={"candidates": ["Duplicate candidate."]})
    inactive = [c.display_name for c in Membership.objects.filter(pk__in=ids).exclude(status=Membership.Status.ACTIVE)]
    if inactive:
        raise ApplicationError(f"Only active members can stand: {', '.join(inactive)}.", fields={"candidates": ["Not active."]})
    seats = int(seats or 1)
    if not 1 <= seats <= len(candidates):
        raise ApplicationError("Seats must be between 1 and the number of candidates.", fields={"seats": ["Out of range."]})
    order = list(candidates)
    secrets.SystemRandom().shuffle(order)  # the ballot order is drawn by lot; it is also the final tie-break
    return {"choices": [{"key": str(c.pk), "label": c.display_name} for c in order], "seats": seats}


def proposal_create(
    *,
    actor: User | None,
    kind: str,
    title: str,
    body: str = "",
    payload: dict | None = None,
    contract=None,
    dua=None,
    membership: Membership | None = None,
    subject: models.Model | None = None,
    candidates: list[Membership] | None = None,
    seats: int | None = None,
    method: str | None = None,
    threshold: str | None = None,
    quorum_pct=None,
    duration: timedelta | None = None,
    opens_at: datetime | None = None,
    secret: bool | None = None,
    results_hidden: bool | None = None,
    score_min=None,
    score_max=None,
    now: datetime | None = None,
) -> Proposal:
    """A steward (or the system, actor=None) puts a question to the members directly.

    Ratifications go through contract_propose / dua_propose (they also move the
    agreement to "proposed"); appeals through appeal_file; suspensions need a
    reason and evidence (suspension_propose); members' own proposals through
    governance.services.initiative. `now` is the clock, for tests.
    """
    dedicated = {
        K.CONTRACT_RATIFICATION: ("contract_propose", GovernanceErrorCode.USE_CONTRACT_PROPOSE),
        K.DUA_RATIFICATION: ("dua_propose", GovernanceErrorCode.USE_DUA_PROPOSE),
        K.SUSPENSION: ("suspension_propose", GovernanceErrorCode.USE_SUSPENSION_PROPOSE),
        K.APPEAL: ("appeal_file", GovernanceErrorCode.USE_APPEAL_FILE),
    }
    if kind in dedicated:
        service, code = dedicated[kind]
        raise ApplicationError(
            f"{ProposalKind(kind).label} has its own service ({service}): it checks what this kind needs.", code=code
        )
    _require_steward(actor)
    if kind == K.CONTRACT_TERMINATION and (contract is None or contract.status != "active"):
        raise ApplicationError("Choose an active contract to end.", fields={"contract": ["Not an active contract."]})
    return proposal_create_unchecked(
        creator=actor,
        kind=kind,
        title=title,
        body=body,
        payload=payload,
        contract=contract,
        dua=dua,
        membership=membership,
        subject=subject,
        candidates=candidates,
        seats=seats,
        method=method,
        threshold=threshold,
        quorum_pct=quorum_pct,
        duration=duration,
        opens_at=opens_at,
        secret=secret,
        results_hidden=results_hidden,
        score_min=score_min,
        score_max=score_max,
        now=now,
    )


@transaction.atomic
def proposal_create_unchecked(
    *,
    creator: User | None,
    kind: str,
    title: str,
    body: str = "",
    payload: dict | None = None,
    effect_key: str | None = None,
    contract=None,
    dua=None,
    membership: Membership | None = None,
    subject: models.Model | None = None,
    candidates: list[Membership] | None = None,
    seats: int | None = None,
    electorate: list[Membership] | None = None,
    decided_by: str = Proposal.DecidedBy.MEMBERS,
    method=None,
    threshold=None,
    quorum_pct=None,
    duration=None,
    opens_at=None,
    secret=None,
    results_hidden=None,
    score_min=None,
    score_max=None,
    sponsors_required: int = 0,
    discussion_period: timedelta = timedelta(0),
    conflicted: Iterable[int] = (),
    amends: Proposal | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Validate and create a proposal of any kind; the public services check who may do it first.

    `sponsors_required` > 0 makes a member's draft that waits for co-sponsors
    (governance.services.initiative); `discussion_period` delays the opening
    of the vote; `conflicted` lists memberships kept off the electorate (the
    parties to the case: they may comment, never decide).
    """
    now = now or timezone.now()
    if kind not in KIND_RULES:
        raise ApplicationError(f"Unknown kind of proposal {kind!r}.", fields={"kind": ["Unknown."]})
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ApplicationError("A title of 1 to 200 characters is required.", fields={"title": ["Required."]})
    payload = dict(payload or {})
    if membership is not None:
        membership = Membership.objects.select_related("user").get(pk=membership.pk)  # fresh status, not the caller's copy
    rules = _rules(
        kind,
        method=method,
        threshold=threshold,
        quorum_pct=quorum_pct,
        duration=duration,
        secret=secret,
        results_hidden=results_hidden,
    )
    extra: dict = {}
    if rules["method"] == VotingMethod.SCORE:
        extra.update(_score_range(kind, score_min=score_min, score_max=score_max))
    if kind in POLICY_KINDS and rules["method"] == VotingMethod.YES_NO:
        payload["value"] = str(policy_clean_value(key=POLICY_KINDS[kind], value=payload.get("value")))
    if rules["method"] == VotingMethod.RANKED:
        extra.update(_candidates(candidates, seats))
    if kind == K.MEMBER_ADMISSION and (membership is None or membership.status != Membership.Status.APPLIED):
        raise ApplicationError("Choose an applicant whose application is waiting.", fields={"membership": ["Not an applicant."]})
    if kind == K.RATE_CUT_RELAUNCH and subject is None:
        raise ApplicationError("A relaunch vote is about a project.", fields={"subject": ["Required."]})
    if kind == K.STEWARD_ELECTION:
        payload["outgoing"] = [int(pk) for pk in payload.get("outgoing", [])]
    opens_at = opens_at or now + discussion_period
    if opens_at < now - timedelta(minutes=1):
        raise ApplicationError("The vote cannot open in the past.", fields={"opens_at": ["In the past."]})
    if electorate is not None and opens_at > now:
        raise ApplicationError("A panel is drawn when its vote opens.")
    proposal = Proposal(
        kind=kind,
        title=title,
        body=(body or "").strip(),
        payload=payload,
        effect_key=effect_key or kind,
        method=rules["method"],
        threshold=rules["threshold"],
        quorum_pct=rules["quorum_pct"],
        secret=rules["secret"],
        results_hidden=rules["results_hidden"],
        decided_by=decided_by,
        contract=contract,
        dua=dua,
        membership=membership,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=str(subject.pk) if subject is not None else "",
        opens_at=opens_at,
        closes_at=opens_at + rules["duration"],
        voting_period=rules["duration"],
        discussion_period=discussion_period,
        sponsors_required=sponsors_required,
        status=ProposalStatus.DRAFT if sponsors_required else ProposalStatus.SCHEDULED,
        conflicted=sorted({int(pk) for pk in conflicted}),
        amends=amends,
        created_by=creator,
        created_at=now,
        **extra,
    )
    try:
        with transaction.atomic():
            proposal.save()
    except IntegrityError as exc:
        raise Conflict("A vote on this is already scheduled or open.", code=GovernanceErrorCode.ALREADY_OPEN) from exc
    log_write(
        actor=creator,
        action="proposal.created",
        obj=proposal,
        summary=f"{proposal.get_kind_display()}: {title}",
        data={
            "kind": kind,
            "method": proposal.method,
            "threshold": proposal.threshold,
            "quorum_pct": str(proposal.quorum_pct),
            "secret": proposal.secret,
            "opens_at": opens_at.isoformat(),
            "closes_at": proposal.closes_at.isoformat(),
        },
    )
    if opens_at <= now and not sponsors_required:
        proposal_open(proposal, now=now, electorate=electorate)
    return proposal
