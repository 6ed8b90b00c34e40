"""The project lifecycle: one state machine saying who may move a project where, and what must hold first.

    draft ──publish──▶ published ◀──resume── paused
      │  └─publish (cheaper relaunch)─▶ held ──members pass──▶ published
      │                                  └──members refuse / withdraw──▶ draft
    published ──pause──▶ paused          published ──every task labelled──▶ completed
    draft, held, published, paused ──cancel──▶ cancelled
    completed, cancelled ──books closed (nothing pending, escrow refunded)──▶ closed

Who may lift a pause depends on who paused (Project.pause_kind):

    client   the client's own pause          the client, a steward's decision or a member vote
    funds    escrow could not pay            the client (after depositing), a steward, a vote
    floor    below a newly raised floor      the client (after raising the pay), a steward, a vote
    members  members flagged it              only a steward's decision with a reason, or a member vote
    steward  a steward paused it             only a steward's decision with a reason, or a member vote

The client's `publish` never lifts a pause by the members or a steward.
Every way out of draft, held or paused into published runs `publish_checks`
against today's rules (an active contract and DUA covering the task type and
the project's sensitive-content categories, the pay floor now in force, the
contract's rate card) and then funds escrow: a resume is a publication.

The checks are plain calls, not a registry: a rule that holds only when some
app's ready() registered it is not a guarantee.
"""

from __future__ import annotations

from coop.errors import ApplicationError, Conflict
from coop.validation import decimal_or_none
from marketplace.error_codes import PROJECT_STATUS_CODES, MarketplaceErrorCode

from ..expert.eligibility import expert_rate_check
from ..models import Project, Task
from ..pay import current_pay_floor, minimum_pay_per_task

S = Project.Status
P = Project.PauseKind

CLIENT, STEWARD, MEMBERS, SYSTEM = "client", "steward", "members", "system"

# (from, to) -> who may make the move.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.DRAFT, S.PUBLISHED): frozenset({CLIENT}),
    (S.DRAFT, S.HELD): frozenset({CLIENT}),  # a cheaper near-identical relaunch waits for the members
    (S.HELD, S.PUBLISHED): frozenset({MEMBERS}),
    (S.HELD, S.DRAFT): frozenset({MEMBERS, CLIENT}),
    (S.PUBLISHED, S.PAUSED): frozenset({CLIENT, STEWARD, MEMBERS, SYSTEM}),
    (S.PAUSED, S.PUBLISHED): frozenset({CLIENT, STEWARD, MEMBERS}),  # and see LIFTS
    (S.PUBLISHED, S.COMPLETED): frozenset({SYSTEM}),
    (S.DRAFT, S.CANCELLED): frozenset({CLIENT, STEWARD}),
    (S.HELD, S.CANCELLED): frozenset({CLIENT, STEWARD}),
    (S.PUBLISHED, S.CANCELLED): frozenset({CLIENT, STEWARD}),
    (S.PAUSED, S.CANCELLED): frozenset({CLIENT, STEWARD}),
    (S.COMPLETED, S.CLOSED): frozenset({SYSTEM}),
    (S.CANCELLED, S.CLOSED): frozenset({SYSTEM}),
}

# pause kind -> who may lift it.
LIFTS: dict[str, frozenset[str]] = {
    P.CLIENT: frozenset({CLIENT, STEWARD, MEMBERS}),
    P.FUNDS: frozenset({CLIENT, STEWARD, MEMBERS}),
    P.FLOOR: frozenset({CLIENT, STEWARD, MEMBERS}),
    P.MEMBERS: frozenset({STEWARD, MEMBERS}),
    P.STEWARD: frozenset({STEWARD, MEMBERS}),
    "": frozenset({CLIENT, STEWARD, MEMBERS}),
}


def transition_check(project: Project, to: str, *, actor: str) -> None:
    """Raise unless `actor` may move `project` (locked by the caller) from its status to `to`."""
    allowed = TRANSITIONS.get((project.status, to))
    if allowed is None:
        raise Conflict(f"A {project.status} project cannot become {to}.", code=MarketplaceErrorCode.INVALID_STATUS)
    if actor not in allowed:
        raise Conflict(f"A {project.status} project cannot become {to} by the {actor}'s decision.", code=MarketplaceErrorCode.INVALID_STATUS)
    if project.status == S.PAUSED and to == S.PUBLISHED and actor not in LIFTS.get(project.pause_kind, frozenset()):
        raise Conflict(
            f"This project was paused ({project.get_pause_kind_display().lower()}: {project.status_reason}). "
            "Only a steward's decision with a reason, or a member vote, can resume it.",
            code=MarketplaceErrorCode.PAUSE_NEEDS_DECISION,
        )


def publish_checks(project: Project) -> None:
    """Everything a project must meet to be live, against today's rules. Sets project.dua. Raises ApplicationError."""
    if not Task.objects.filter(project=project, is_gold=False).exists():
        raise ApplicationError("Import tasks before publishing.", code=MarketplaceErrorCode.NO_TASKS)
    dua = dua_check(project)
    pay_floor_check(project)
    rate_card_check(project, dua)
    expert_rate_check(project)  # the members' rate card for the project's required qualifications
    project.dua = dua


def dua_check(project: Project):
    """An active contract and DUA cover the task type and every sensitive-content category of the project."""
    from governance.selectors import dua_covering

    dua = dua_covering(organization=project.organization, task_type=project.task_type)
    if dua is None:
        raise ApplicationError(
            f"There is no active contract and data-use agreement covering {project.get_task_type_display().lower()} "
            "work for your organization. Members must ratify one first.",
            code=MarketplaceErrorCode.NO_ACTIVE_DUA,
        )
    uncovered = sorted(set(project.sensitive_categories or []) - set(dua.sensitive_content_categories or []))
    if uncovered:
        raise ApplicationError(
            f"The project shows {', '.join(uncovered)} content, which the data-use agreement “{dua}” does not cover; "
            "the members must ratify an agreement that names it (with its welfare provisions) first.",
            code=MarketplaceErrorCode.DUA_SENSITIVE_NOT_COVERED,
            extra={"uncovered_categories": uncovered},
        )
    return dua


def pay_floor_check(project: Project) -> None:
    floor = current_pay_floor()
    rate = project.effective_hourly_pay
    if rate < floor:
        minimum = minimum_pay_per_task(floor, project.estimated_seconds)
        raise ApplicationError(
            f"Effective pay is {project.currency} {rate}/hour ({project.pay_per_task} per task of {project.estimated_seconds} s); "
            f"the co-op's pay floor is {project.currency} {floor}/hour. Pay at least {minimum} per task.",
            code=MarketplaceErrorCode.BELOW_PAY_FLOOR,
            extra={"pay_floor_hourly": str(floor), "effective_hourly_pay": str(rate), "minimum_pay_per_task": str(minimum)},
        )


def rate_card_check(project: Project, dua) -> None:
    """The ratified contract's rate card: a minimum pay per task for the project's task type, when it names one."""
    contract = dua.contract
    card = contract.rate_card if isinstance(contract.rate_card, dict) else {}
    raw = card.get(project.task_type)
    if raw in (None, ""):
        return
    minimum = decimal_or_none(raw)
    if minimum is None:
        return  # a malformed card cannot be ratified; never let it block or crash a publication
    if project.pay_per_task < minimum:
        raise ApplicationError(
            f"The rate card of contract “{contract}” sets at least {project.currency} {minimum} per "
            f"{project.get_task_type_display().lower()} task; this project pays {project.pay_per_task}.",
            code=MarketplaceErrorCode.BELOW_RATE_CARD,
            extra={"contract": contract.pk, "rate_card_minimum": str(minimum), "pay_per_task": str(project.pay_per_task)},
        )


def below_floor(project: Project, floor=None) -> bool:
    floor = current_pay_floor() if floor is None else floor
    return project.effective_hourly_pay < floor


# Statuses in which a lease already handed out may still be worked and submitted. A paused or
# cancelled project takes no new leases, but a member holding one finishes it within the lease and
# is paid (escrow keeps what live leases can cost: books close only when none is left).
LEASES_FINISH_IN = (S.PUBLISHED, S.PAUSED, S.CANCELLED, S.COMPLETED)


def submit_check(project: Project, assignment, *, now) -> None:
    """Raise unless an answer may be submitted on `assignment` (locked) in `project`'s status now."""
    if project.status not in LEASES_FINISH_IN:
        raise Conflict(f"This project is {project.status}; it takes no answers.", code=PROJECT_STATUS_CODES[project.status])
    if project.status != S.PUBLISHED and assignment.expires_at <= now:
        raise Conflict(
            f"This project is {project.status} and your lease ended at {assignment.expires_at:%Y-%m-%d %H:%M} UTC; "
            "only work within a lease is taken after that.",
            code=MarketplaceErrorCode.LEASE_ENDED,
        )


def lease_may_extend(project: Project) -> bool:
    """A heartbeat extends a lease only while the project is live: a cancelled project's leases end on time."""
    return project.status in (S.PUBLISHED, S.PAUSED)
