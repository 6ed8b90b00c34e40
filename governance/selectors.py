"""Reads of the governance app: policies, proposals and tallies, agreements and their enforcement, the log."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from coop.errors import NotFound
from coop.models import ClientOrganization, Membership, User
from governance.error_codes import GovernanceErrorCode

from . import tally
from .models import (
    AgreementStatus,
    Amendment,
    Choice,
    Comment,
    Contract,
    DataUseAgreement,
    Delegation,
    Elector,
    GovernanceLog,
    InterimSuspension,
    Participation,
    PolicyValue,
    Proposal,
    ProposalStatus,
    SecretBallot,
    Sponsorship,
    Vote,
    VotingMethod,
)
from .rules import POLICIES

S = AgreementStatus

# --- Policies ---------------------------------------------------------------------------------------


# Every claim reads the pay floor and every payment the fee and the benefits share: on PostgreSQL these reads are
# plain SQL (0.17 ms a read, against 0.63 ms for the same query built by the ORM); SQLite keeps the ORM, whose
# converters turn its stored decimals back into Decimal.
_POLICIES_SQL = (
    f"SELECT key, value FROM {PolicyValue._meta.db_table} WHERE key = ANY(%s) AND effective_from <= %s"
    " ORDER BY key, effective_from DESC, id DESC"
)


def _policy_rows(keys: list[str], at: dt.datetime | None) -> list[tuple[str, Decimal]]:
    """(key, value) of every recorded value of these policies from before `at`, newest first within a key."""
    at = at or timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_POLICIES_SQL, [list(keys), at])
            return cursor.fetchall()
    rows = PolicyValue.objects.filter(key__in=keys, effective_from__lte=at).order_by("key", "-effective_from", "-id")
    return list(rows.values_list("key", "value"))


def policy_value_sql() -> str:
    """One policy's value in force at a time, as a scalar subquery taking (key, at), for a read that folds it into
    its own statement (PostgreSQL: numeric comes back as Decimal); NULL before any recorded value, which
    `policy_or_founding` turns into the founding value, as `policy_current` does."""
    return (
        f"(SELECT v.value FROM {PolicyValue._meta.db_table} v WHERE v.key = %s AND v.effective_from <= %s"
        " ORDER BY v.effective_from DESC, v.id DESC LIMIT 1)"
    )


def policy_or_founding(key: str, value: Decimal | None) -> Decimal:
    """The value recorded for a policy, or before any recorded value (a database emptied by tests, a time before
    the founding) the policy's founding value, the one migration 0002 seeds."""
    if value is not None:
        return value
    if key not in POLICIES:
        raise NotFound(f"No value of policy {key!r} is in force at that time.", code=GovernanceErrorCode.POLICY_NOT_SET)
    return POLICIES[key].founding


def policy_current(key: str, at: dt.datetime | None = None) -> Decimal:
    """The value of a co-op policy at `at` (default now), e.g. policy_current("pay_floor_hourly") -> Decimal("20.00").

    Before any recorded value (a database emptied by tests, a time before the
    founding) the policy's founding value applies, the one migration 0002 seeds.
    """
    return policies_current([key], at)[key]


def policies_current(keys: list[str], at: dt.datetime | None = None) -> dict[str, Decimal]:
    """Several policies' values at `at` (default now) in one query: {key: value}, founding values as fallback."""
    values: dict[str, Decimal] = {}
    for key, value in _policy_rows(keys, at):
        values.setdefault(key, value)
    return {key: policy_or_founding(key, values.get(key)) for key in keys}


def policy_history(key: str) -> QuerySet[PolicyValue]:
    """Every value a policy has had, newest first, with the proposal that set it."""
    return PolicyValue.objects.filter(key=key).select_related("set_by").order_by("-effective_from", "-id")


# --- Proposals and tallies ----------------------------------------------------------------------------


def membership_of(user: User | None) -> Membership | None:
    if user is None or not user.pk:
        return None
    return Membership.objects.filter(user_id=user.pk).first()


def proposal_list(*, user: User | None = None, status: str | None = None, kind: str | None = None) -> QuerySet[Proposal]:
    """Proposals newest first; `status` "open" means scheduled or open (soonest closing first).

    Annotated for `user`: voted_named / voted_secret (has voted) and i_am_elector.
    """
    queryset = Proposal.objects.select_related("created_by", "created_by__membership").order_by("-created_at", "-id")
    if status == "open":
        queryset = queryset.filter(status__in=[ProposalStatus.SCHEDULED, ProposalStatus.OPEN]).order_by("closes_at", "id")
    elif status:
        queryset = queryset.filter(status=status)
    if kind:
        queryset = queryset.filter(kind=kind)
    membership = membership_of(user)
    membership_id = membership.pk if membership else 0
    return queryset.annotate(
        voted_named=Exists(Vote.objects.filter(proposal=OuterRef("pk"), membership_id=membership_id)),
        voted_secret=Exists(Participation.objects.filter(proposal=OuterRef("pk"), membership_id=membership_id)),
        i_am_elector=Exists(Elector.objects.filter(proposal=OuterRef("pk"), membership_id=membership_id)),
    )


def votes_waiting_for(user: User | None) -> list[Proposal]:
    """Open proposals on which `user` is an elector and has not voted yet, soonest closing first (dashboard card)."""
    membership = membership_of(user)
    if membership is None or membership.status != Membership.Status.ACTIVE:
        return []
    voted = Q(votes__membership=membership) | Q(participations__membership=membership)
    return list(
        Proposal.objects.filter(status=ProposalStatus.OPEN, electors__membership=membership)
        .exclude(voted)
        .order_by("closes_at")[:5]
    )


def proposal_get(pk: int) -> Proposal:
    proposal = (
        Proposal.objects.select_related("contract__organization", "dua__contract__organization", "membership", "created_by")
        .filter(pk=pk)
        .first()
    )
    if proposal is None:
        raise NotFound("No such proposal.")
    return proposal


def _ballots(proposal: Proposal) -> QuerySet:
    model = SecretBallot if proposal.secret else Vote
    return model.objects.filter(proposal=proposal)


def turnout(proposal: Proposal) -> int:
    model = Participation if proposal.secret else Vote
    return model.objects.filter(proposal=proposal).count()


def proxy_votes(proposal: Proposal) -> list[dict]:
    """Named ballots only: electors who did not vote and whose proxy did, each counted with the proxy's vote.

    The proxy in force now is used (a category-specific one over a general one);
    one level only: a proxy's own vote carries it, never a proxy's proxy. The
    delegate must be on the electorate too (a party to the case carries nobody).
    """
    if proposal.secret:
        return []
    votes = {
        row["membership_id"]: row
        for row in Vote.objects.filter(proposal=proposal).values("membership_id", "choice", "score", "ranking")
    }
    electors = set(Elector.objects.filter(proposal=proposal).values_list("membership_id", flat=True))
    waiting = electors - set(votes)
    if not waiting:
        return []
    chosen: dict[int, tuple[str, int]] = {}
    for delegator, delegate, category in Delegation.objects.filter(
        Q(category=proposal.kind) | Q(category=""), delegator_id__in=waiting, revoked_at__isnull=True
    ).values_list("delegator_id", "delegate_id", "category"):
        if delegator not in chosen or category:  # the category-specific proxy wins
            chosen[delegator] = (category, delegate)
    return [
        {"delegator": delegator, "delegate": delegate, **{k: votes[delegate][k] for k in ("choice", "score", "ranking")}}
        for delegator, (_, delegate) in sorted(chosen.items())
        if delegate in votes and delegate in electors
    ]


def proposal_tally(proposal: Proposal) -> dict:
    """The result of the votes cast so far, by the rules in governance.tally (Decimals, not yet JSON).

    Named ballots count proxy votes (proxy_votes) like the delegators' own,
    for the quorum and the result; the result says how many were by proxy.
    """
    ballots = _ballots(proposal)
    proxied = proxy_votes(proposal)
    common = {"electorate": proposal.electorate_size, "quorum_pct": proposal.quorum_pct}
    if proposal.method == VotingMethod.YES_NO:
        counts = ballots.aggregate(
            **{c: Count("pk", filter=Q(choice=c)) for c in (Choice.YES, Choice.NO, Choice.ABSTAIN, Choice.BLOCK)}
        )
        for row in proxied:
            counts[row["choice"]] += 1
        result = tally.tally_yes_no(**counts, threshold=proposal.threshold, **common)
        return {**result, **_proxy_summary(proxied)}
    rows = list(ballots.values_list("choice", "score", "ranking")) + [(r["choice"], r["score"], r["ranking"]) for r in proxied]
    abstain = sum(1 for choice, _, _ in rows if choice == Choice.ABSTAIN)
    if proposal.method == VotingMethod.SCORE:
        scores = [score for choice, score, _ in rows if choice == Choice.SCORE]
        return {**tally.tally_score(scores=scores, abstain=abstain, places=proposal.score_places, **common), **_proxy_summary(proxied)}
    rankings = [ranking for choice, _, ranking in rows if choice == Choice.RANKING]
    result = tally.tally_ranked(
        rankings=rankings, abstain=abstain, candidates=[c["key"] for c in proposal.choices], seats=proposal.seats, **common
    )
    result["labels"] = {c["key"]: c["label"] for c in proposal.choices}
    return {**result, **_proxy_summary(proxied)}


def _proxy_summary(proxied: list[dict]) -> dict:
    """How many counted by proxy, and (named ballots are public once closed) who for whom."""
    return {"by_proxy": len(proxied), "proxies": [{"delegator": r["delegator"], "delegate": r["delegate"]} for r in proxied]}


def as_json(data: dict) -> dict:
    """Decimals and dates as strings, as stored in Proposal.result."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def result_for_display(proposal: Proposal) -> dict | None:
    """The result when members may see it: the final one once closed, the running tally while open if not hidden."""
    if proposal.status == ProposalStatus.CLOSED:
        return proposal.result
    if proposal.status == ProposalStatus.OPEN and not proposal.results_hidden:
        running = as_json(proposal_tally(proposal))
        running.pop("proxies", None)  # who is represented by whom is shown once voting has closed
        return running
    return None


def eligibility(*, proposal: Proposal, user: User | None) -> dict:
    """Whether `user` may vote now, and why not: {"eligible", "code", "message"}."""
    membership = membership_of(user)
    if proposal.status != ProposalStatus.OPEN:
        return {"eligible": False, "code": "ballot_not_open", "message": "Voting is not open."}
    if membership is None:
        return {"eligible": False, "code": "not_a_member", "message": "Only members vote."}
    if membership.pk in (proposal.conflicted or ()):
        return {
            "eligible": False,
            "code": "party_to_the_case",
            "message": "You are a party to this case, so you do not vote on it; you can answer in the discussion.",
        }
    if not Elector.objects.filter(proposal=proposal, membership=membership).exists():
        return {
            "eligible": False,
            "code": "not_eligible",
            "message": "You were not on the electorate fixed when voting opened "
            "(members in good standing then, or the drawn panel).",
        }
    if membership.status != Membership.Status.ACTIVE:
        return {"eligible": False, "code": "not_in_good_standing", "message": "Only members in good standing vote."}
    return {"eligible": True, "code": "", "message": "You are on this vote's electorate."}


def has_voted(*, proposal: Proposal, membership: Membership | None) -> bool:
    if membership is None:
        return False
    model = Participation if proposal.secret else Vote
    return model.objects.filter(proposal=proposal, membership=membership).exists()


def my_vote(*, proposal: Proposal, user: User | None) -> Vote | None:
    """The member's named vote with its history (never anything for a secret ballot)."""
    membership = membership_of(user)
    if proposal.secret or membership is None:
        return None
    return Vote.objects.filter(proposal=proposal, membership=membership).prefetch_related("history").first()


def named_votes(proposal: Proposal) -> QuerySet[Vote]:
    """Who voted what, for a named ballot once it has closed (empty otherwise)."""
    if proposal.secret or proposal.status != ProposalStatus.CLOSED:
        return Vote.objects.none()
    return Vote.objects.filter(proposal=proposal).select_related("membership").order_by("membership__display_name")


# --- Agreements ---------------------------------------------------------------------------------------


def contract_list(*, organization: ClientOrganization | None = None, status: str | None = None) -> QuerySet[Contract]:
    queryset = Contract.objects.select_related("organization", "ratified_by").order_by("organization__name", "family", "-version")
    if organization is not None:
        queryset = queryset.filter(organization=organization)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def dua_list(*, organization: ClientOrganization | None = None, status: str | None = None) -> QuerySet[DataUseAgreement]:
    queryset = DataUseAgreement.objects.select_related("contract__organization", "ratified_by", "deletion_attested_by").order_by(
        "contract__organization__name", "family", "-version"
    )
    if organization is not None:
        queryset = queryset.filter(contract__organization=organization)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def agreement_versions(agreement) -> QuerySet:
    return type(agreement).objects.filter(family=agreement.family).order_by("-version")


def dua_covering(*, organization: ClientOrganization, task_type: str, at: dt.datetime | None = None) -> DataUseAgreement | None:
    """The active DUA under an active contract of `organization` that covers `task_type` on the date of `at`.

    The contract must be active, list the task type and have `at`'s date
    within its term; the DUA must be active and belong to that contract's
    family (any version). Statuses are today's; `at` moves only the date check.
    """
    day = timezone.localdate(at or timezone.now())
    contracts = Contract.objects.filter(organization=organization, status=S.ACTIVE, term_start__lte=day, term_end__gte=day)
    families = [c.family for c in contracts.only("family", "task_types") if task_type in c.task_types]
    if not families:
        return None
    return (
        DataUseAgreement.objects.filter(status=S.ACTIVE, contract__family__in=families)
        .select_related("contract__organization")
        .order_by("-activated_at", "-pk")
        .first()
    )


def dua_in_force(dua: DataUseAgreement) -> DataUseAgreement:
    """The version whose terms now govern data labelled under `dua`.

    A superseded version's obligations pass to the version that replaced it:
    the newest version of the family that has been in force (active, expired
    or terminated). Any other agreement governs itself.
    """
    if dua.status != S.SUPERSEDED:
        return dua
    successor = (
        DataUseAgreement.objects.filter(family=dua.family, status__in=[S.ACTIVE, S.EXPIRED, S.TERMINATED])
        .select_related("contract__organization")
        .order_by("-version")
        .first()
    )
    return successor or dua


def dua_deletion_attested(dua: DataUseAgreement) -> DataUseAgreement | None:
    """The version of `dua`'s family whose deletion the client attested, if any (the data is gone for every version)."""
    if dua.deletion_attested_at is not None:
        return dua
    if dua.version == 1:
        return None  # no earlier version: attestation needs a version in force, and this is the first
    return DataUseAgreement.objects.filter(family=dua.family, deletion_attested_at__isnull=False).order_by("deletion_attested_at").first()


def dua_retention_ends_on(dua: DataUseAgreement) -> dt.date | None:
    """The last day the client may keep the data: the day the agreement ended (or its contract's term ends) + retention days.

    None while the agreement is not in force (draft, under vote, superseded:
    a superseded version's obligations pass to the version that replaced it).
    """
    if dua.status in (S.EXPIRED, S.TERMINATED) and dua.ended_at is not None:
        return timezone.localdate(dua.ended_at) + dt.timedelta(days=dua.retention_days)
    if dua.status != S.ACTIVE:
        return None
    contract = Contract.objects.filter(family=dua.contract.family, status=S.ACTIVE).only("term_end").first() or dua.contract
    return contract.term_end + dt.timedelta(days=dua.retention_days)


def dua_retention_overdue(*, at: dt.datetime | None = None) -> QuerySet[DataUseAgreement]:
    """Agreements past their retention period with no deletion attestation yet (members can see the list)."""
    today = timezone.localdate(at or timezone.now())
    candidates = DataUseAgreement.objects.filter(
        status__in=[S.ACTIVE, S.EXPIRED, S.TERMINATED], deletion_attested_at__isnull=True
    ).select_related("contract__organization")
    overdue = [dua.pk for dua in candidates if (end := dua_retention_ends_on(dua)) is not None and today > end]
    return DataUseAgreement.objects.filter(pk__in=overdue).select_related("contract__organization").order_by("pk")


# --- Governance log -----------------------------------------------------------------------------------


def governance_log_list(
    *,
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    actor_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    search: str = "",
) -> QuerySet[GovernanceLog]:
    queryset = GovernanceLog.objects.select_related("actor", "actor__membership").order_by("-created_at", "-id")
    if action:
        queryset = queryset.filter(action__startswith=action)
    if object_type:
        queryset = queryset.filter(object_type=object_type)
    if object_id:
        queryset = queryset.filter(object_id=object_id)
    if actor_id:
        queryset = queryset.filter(actor_id=actor_id)
    if since:
        queryset = queryset.filter(created_at__date__gte=since)
    if until:
        queryset = queryset.filter(created_at__date__lte=until)
    if search:
        queryset = queryset.filter(summary__icontains=search)
    return queryset


def governance_log_actions() -> list[str]:
    return list(GovernanceLog.objects.order_by("action").values_list("action", flat=True).distinct())


# --- Member initiative, deliberation, proxies, interim suspensions ---------------------------------------


def sponsors(proposal: Proposal) -> list[Membership]:
    """The members who co-sponsored a member's proposal, in the order they did."""
    ids = Sponsorship.objects.filter(proposal=proposal).order_by("created_at", "id").values_list("membership_id", flat=True)
    by_id = Membership.objects.in_bulk(list(ids))
    return [by_id[pk] for pk in ids]


def has_sponsored(*, proposal: Proposal, membership: Membership | None) -> bool:
    return membership is not None and Sponsorship.objects.filter(proposal=proposal, membership=membership).exists()


def comment_thread(proposal: Proposal) -> list:
    """Top-level comments oldest first, each with `.thread_replies`; hidden ones keep their place (text withheld)."""
    comments = list(
        Comment.objects.filter(proposal=proposal).select_related("author__membership", "hidden_by").order_by("created_at", "id")
    )
    replies: dict[int, list] = {}
    for comment in comments:
        if comment.parent_id:
            replies.setdefault(comment.parent_id, []).append(comment)
    top = [c for c in comments if c.parent_id is None]
    for comment in top:
        comment.thread_replies = replies.get(comment.pk, [])
    return top


def amendment_list(proposal: Proposal) -> QuerySet:
    return Amendment.objects.filter(proposal=proposal).select_related("author__membership", "ballot").order_by("created_at", "id")


def delegations_of(membership: Membership | None) -> dict:
    """A member's live proxies (given and held) and their history."""
    if membership is None:
        return {"given": [], "received": [], "history": []}
    given = Delegation.objects.filter(delegator=membership).select_related("delegate").order_by("-created_at", "-id")
    return {
        "given": [d for d in given if d.revoked_at is None],
        "received": list(
            Delegation.objects.filter(delegate=membership, revoked_at__isnull=True).select_related("delegator").order_by("pk")
        ),
        "history": [d for d in given if d.revoked_at is not None][:50],
    }


def proxy_votes_named(proposal: Proposal) -> list[dict]:
    """Proxy votes on a closed named ballot, by name: who was represented by whom, with the vote counted."""
    if proposal.secret or proposal.status != ProposalStatus.CLOSED:
        return []
    rows = proposal.result.get("proxies") or []
    names = dict(Membership.objects.filter(pk__in={r[k] for r in rows for k in ("delegator", "delegate")}).values_list("pk", "display_name"))
    return [{**row, "delegator_name": names.get(row["delegator"], "?"), "delegate_name": names.get(row["delegate"], "?")} for row in rows]


def interim_suspensions_for(membership: Membership) -> QuerySet:
    return InterimSuspension.objects.filter(membership=membership).select_related("requested_by", "confirmed_by", "review")


def is_party(*, proposal: Proposal, membership: Membership | None) -> bool:
    """Whether the member is a party to this case (kept off its electorate by conflict of interest)."""
    return membership is not None and membership.pk in (proposal.conflicted or ())
