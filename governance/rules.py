"""The co-op's voting rules per proposal kind, the policies members vote on, and due-process settings.

Each kind has defaults (method, threshold, quorum, duration, secrecy) that a
steward may override at creation only within the limits written here:
another allowed method or threshold, a quorum at least the kind's minimum,
a duration inside the kind's range, secrecy switched on (never off where the
kind requires it). Changing these limits is itself a bylaw matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings

from coop.labels import PURPOSES as LABELLED_PURPOSES

from .models import PolicyValue, ProposalKind, Threshold, VotingMethod

K, M, T = ProposalKind, VotingMethod, Threshold


@dataclass(frozen=True)
class KindRule:
    method: str
    threshold: str  # "" for score and ranked ballots
    quorum_pct: Decimal
    duration: timedelta
    secret: bool
    allowed_methods: tuple[str, ...]
    allowed_thresholds: tuple[str, ...]
    min_quorum_pct: Decimal
    min_duration: timedelta = timedelta(days=2)
    max_duration: timedelta = timedelta(days=30)
    secret_required: bool = False


DAY = timedelta(days=1)

KIND_RULES: dict[str, KindRule] = {
    K.CONTRACT_RATIFICATION: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(30), 7 * DAY, False, (M.YES_NO,), (T.MAJORITY, T.TWO_THIRDS, T.CONSENT), Decimal(20)
    ),
    K.DUA_RATIFICATION: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(30), 7 * DAY, False, (M.YES_NO,), (T.MAJORITY, T.TWO_THIRDS, T.CONSENT), Decimal(20)
    ),
    K.PAY_FLOOR_CHANGE: KindRule(
        M.SCORE, "", Decimal(30), 7 * DAY, False, (M.SCORE, M.YES_NO), (T.MAJORITY, T.TWO_THIRDS), Decimal(20)
    ),
    K.COOP_FEE_CHANGE: KindRule(
        M.SCORE, "", Decimal(30), 7 * DAY, False, (M.SCORE, M.YES_NO), (T.MAJORITY, T.TWO_THIRDS), Decimal(20)
    ),
    K.MEMBER_ADMISSION: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(20), 7 * DAY, True, (M.YES_NO,), (T.MAJORITY, T.TWO_THIRDS, T.CONSENT), Decimal(10)
    ),
    K.SUSPENSION: KindRule(
        M.YES_NO, T.TWO_THIRDS, Decimal(30), 7 * DAY, True, (M.YES_NO,), (T.TWO_THIRDS,), Decimal(30), secret_required=True
    ),
    K.APPEAL: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(20), 7 * DAY, True, (M.YES_NO,), (T.MAJORITY,), Decimal(20), DAY, 14 * DAY, True
    ),
    K.RATE_CUT_RELAUNCH: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(20), 5 * DAY, False, (M.YES_NO,), (T.MAJORITY, T.TWO_THIRDS), Decimal(20)
    ),
    K.PROJECT_RESUME: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(20), 5 * DAY, False, (M.YES_NO,), (T.MAJORITY, T.TWO_THIRDS), Decimal(20)
    ),
    K.BYLAW_AMENDMENT: KindRule(
        M.YES_NO, T.TWO_THIRDS, Decimal(50), 14 * DAY, False, (M.YES_NO,), (T.TWO_THIRDS,), Decimal(50), 7 * DAY
    ),
    K.GENERAL_MOTION: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(20), 7 * DAY, False, (M.YES_NO,), (T.MAJORITY, T.TWO_THIRDS, T.CONSENT), Decimal(10)
    ),
    K.STEWARD_ELECTION: KindRule(
        M.RANKED, "", Decimal(30), 14 * DAY, True, (M.RANKED,), (), Decimal(30), 7 * DAY, 30 * DAY, True
    ),
    K.STEWARD_RECALL: KindRule(
        M.YES_NO, T.TWO_THIRDS, Decimal(30), 7 * DAY, True, (M.YES_NO,), (T.TWO_THIRDS,), Decimal(30), secret_required=True
    ),
    K.SUSPENSION_REVIEW: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(20), 7 * DAY, True, (M.YES_NO,), (T.MAJORITY,), Decimal(20), DAY, 14 * DAY, True
    ),
    K.CONTRACT_TERMINATION: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(30), 7 * DAY, False, (M.YES_NO,), (T.MAJORITY, T.TWO_THIRDS), Decimal(20)
    ),
    K.POLICY_CHANGE: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(30), 7 * DAY, False, (M.YES_NO,), (T.MAJORITY, T.TWO_THIRDS), Decimal(20)
    ),
    K.AMENDMENT: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(10), 7 * DAY, False, (M.YES_NO,), (T.MAJORITY,), Decimal(0), DAY, 30 * DAY
    ),
    # A benefit claim decided by a drawn panel or by all members: secret, as appeals are (no pressure on the deciders).
    K.BENEFIT_CLAIM: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(20), 5 * DAY, True, (M.YES_NO,), (T.MAJORITY,), Decimal(20), DAY, 14 * DAY, True
    ),
    # Expert work (marketplace/expert/): a minimum hourly pay per skill, like the pay floor; a qualification granted
    # without the test, by all members or a panel of peers who hold it (secret: no pressure on the deciders).
    K.RATE_CARD_CHANGE: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(30), 7 * DAY, False, (M.YES_NO,), (T.MAJORITY, T.TWO_THIRDS), Decimal(20)
    ),
    K.QUALIFICATION_GRANT: KindRule(
        M.YES_NO, T.MAJORITY, Decimal(20), 5 * DAY, True, (M.YES_NO,), (T.MAJORITY, T.TWO_THIRDS), Decimal(20), DAY, 14 * DAY
    ),
}

# What a member may raise (it goes to ballot once co-sponsored, policy `proposal_cosponsors`).
# Stewards may open any kind directly; ratifications, admissions, appeals and relaunch votes are
# opened by the services they belong to.
MEMBER_KINDS: tuple[str, ...] = (
    K.GENERAL_MOTION,
    K.BYLAW_AMENDMENT,
    K.PAY_FLOOR_CHANGE,
    K.COOP_FEE_CHANGE,
    K.POLICY_CHANGE,
    K.CONTRACT_TERMINATION,
    K.STEWARD_ELECTION,
    K.STEWARD_RECALL,
    K.SUSPENSION_REVIEW,
)
# Motions whose text members may amend before the main question is decided.
AMENDABLE_KINDS = frozenset({K.GENERAL_MOTION, K.BYLAW_AMENDMENT})
# The longest discussion period before a member's proposal goes to a vote.
MAX_DISCUSSION = timedelta(days=14)

# A panel appeal: the drawn panel decides by simple majority of yes + no; more than half of the panel must vote.
PANEL_QUORUM_PCT = Decimal("50.01")


@dataclass(frozen=True)
class PolicyDef:
    key: str
    label: str
    unit: str
    minimum: Decimal
    maximum: Decimal
    places: int
    founding: Decimal  # the value seeded by migration 0002


POLICIES: dict[str, PolicyDef] = {
    PolicyValue.Key.PAY_FLOOR_HOURLY: PolicyDef(
        PolicyValue.Key.PAY_FLOOR_HOURLY, "Pay floor", "USD per hour", Decimal("1.00"), Decimal("500.00"), 2, Decimal("20.00")
    ),
    PolicyValue.Key.COOP_FEE_RATE: PolicyDef(
        PolicyValue.Key.COOP_FEE_RATE, "Co-op fee", "share of client payments", Decimal(0), Decimal("0.5"), 4, Decimal("0.05")
    ),
    PolicyValue.Key.PROPOSAL_COSPONSORS: PolicyDef(
        PolicyValue.Key.PROPOSAL_COSPONSORS, "Co-sponsors a member's proposal needs", "members", Decimal(1), Decimal(100), 0,
        Decimal(3),
    ),
    PolicyValue.Key.PROXY_LIMIT: PolicyDef(
        PolicyValue.Key.PROXY_LIMIT, "Proxies one delegate may hold", "members", Decimal(0), Decimal(50), 0, Decimal(5)
    ),
    PolicyValue.Key.INTERIM_SUSPENSION_DAYS: PolicyDef(
        PolicyValue.Key.INTERIM_SUSPENSION_DAYS, "Longest interim suspension", "days", Decimal(1), Decimal(14), 0, Decimal(7)
    ),
    # Days after a rejection in which the worker may appeal it; refunds keep back what such appeals could cost.
    PolicyValue.Key.APPEAL_WINDOW_DAYS: PolicyDef(
        PolicyValue.Key.APPEAL_WINDOW_DAYS, "Days to appeal a rejected answer", "days", Decimal(1), Decimal(90), 0, Decimal(14)
    ),
    # The benefits fund (marketplace/benefits/rules.py reads these). Kinds are switched off by a yearly limit of 0.
    PolicyValue.Key.BENEFITS_SHARE_OF_FEE: PolicyDef(
        PolicyValue.Key.BENEFITS_SHARE_OF_FEE, "Benefits share of the co-op fee", "share of each fee", Decimal(0), Decimal(1), 4, Decimal("0.20")
    ),
    PolicyValue.Key.BENEFITS_MIN_ANSWERS: PolicyDef(
        PolicyValue.Key.BENEFITS_MIN_ANSWERS, "Accepted answers in 90 days for benefits", "answers", Decimal(0), Decimal(10000), 0, Decimal(20)
    ),
    PolicyValue.Key.BENEFITS_MIN_HOURS: PolicyDef(
        PolicyValue.Key.BENEFITS_MIN_HOURS, "Hours of accepted work in 90 days for benefits", "hours", Decimal(0), Decimal(1000), 1, Decimal(10)
    ),
    PolicyValue.Key.BENEFITS_DAY_PAY_CAP: PolicyDef(
        PolicyValue.Key.BENEFITS_DAY_PAY_CAP, "Most a benefit day pays", "USD per day", Decimal(0), Decimal(2000), 2, Decimal("100.00")
    ),
    PolicyValue.Key.BENEFITS_SICK_DAYS: PolicyDef(
        PolicyValue.Key.BENEFITS_SICK_DAYS, "Paid sick days a year", "days per member", Decimal(0), Decimal(365), 0, Decimal(10)
    ),
    PolicyValue.Key.BENEFITS_PARENTAL_DAYS: PolicyDef(
        PolicyValue.Key.BENEFITS_PARENTAL_DAYS, "Paid parental-leave days a year", "days per member", Decimal(0), Decimal(365), 0, Decimal(30)
    ),
    PolicyValue.Key.BENEFITS_HARDSHIP_LIMIT: PolicyDef(
        PolicyValue.Key.BENEFITS_HARDSHIP_LIMIT, "Hardship support a year", "USD per member", Decimal(0), Decimal(100000), 2, Decimal("300.00")
    ),
    PolicyValue.Key.BENEFITS_EQUIPMENT_LIMIT: PolicyDef(
        PolicyValue.Key.BENEFITS_EQUIPMENT_LIMIT, "Equipment support a year", "USD per member", Decimal(0), Decimal(100000), 2, Decimal("200.00")
    ),
    PolicyValue.Key.BENEFITS_AUTO_APPROVE_MAX: PolicyDef(
        PolicyValue.Key.BENEFITS_AUTO_APPROVE_MAX, "Largest claim approved by the rules alone", "USD", Decimal(0), Decimal(100000), 2, Decimal("150.00")
    ),
    PolicyValue.Key.BENEFITS_VOTE_THRESHOLD: PolicyDef(
        PolicyValue.Key.BENEFITS_VOTE_THRESHOLD, "Claims above this go to all members", "USD", Decimal(0), Decimal(1000000), 2, Decimal("1000.00")
    ),
}

# Proposal kinds that change a policy, and which one.
POLICY_KINDS: dict[str, str] = {
    K.PAY_FLOOR_CHANGE: PolicyValue.Key.PAY_FLOOR_HOURLY,
    K.COOP_FEE_CHANGE: PolicyValue.Key.COOP_FEE_RATE,
}

# Kinds whose passing is recorded and has no automatic effect.
RECORDED_ONLY_KINDS = frozenset({K.BYLAW_AMENDMENT, K.GENERAL_MOTION})

# Permitted-purpose codes of a data-use agreement.
PURPOSES: dict[str, str] = LABELLED_PURPOSES  # coop.labels: the same words on every page

# Appeal types and the effect each registers under (effect key "appeal_<type>").
APPEAL_TYPES = ("suspension", "rejection")


def appeal_mode() -> str:
    """'proposal' (all members vote) or 'panel' (N randomly drawn members decide). Setting GOVERNANCE_APPEAL_MODE."""
    mode = getattr(settings, "GOVERNANCE_APPEAL_MODE", "proposal")
    return mode if mode in ("proposal", "panel") else "proposal"


def appeal_duration() -> timedelta:
    """How long members (or the panel) have to decide an appeal. Setting GOVERNANCE_APPEAL_DAYS, default 7."""
    return timedelta(days=int(getattr(settings, "GOVERNANCE_APPEAL_DAYS", 7)))


def panel_size() -> int:
    """Members drawn for an appeal panel. Setting GOVERNANCE_APPEAL_PANEL_SIZE, default 5 (odd, so no ties)."""
    return max(1, int(getattr(settings, "GOVERNANCE_APPEAL_PANEL_SIZE", 5)))


REMINDER_BEFORE_CLOSE = timedelta(hours=24)
DIGEST_EVERY = timedelta(hours=24)
