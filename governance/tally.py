"""Tally arithmetic: pure functions over plain data (no ORM), in Decimal. The rules, exactly:

Quorum
    required = ceil(electorate x quorum_pct / 100), computed exactly in Decimal.
    The quorum is met when the number of members who VOTED (abstentions and
    blocks included) is >= required. Not the number eligible (Loomio's bug).
    Example: electorate 10, quorum 30 % -> required 3: 3 voters meet it, 2 do not.
    Electorate 7, quorum 30 % -> 2.1 -> required 3.

No proposal passes with zero votes, whatever its quorum.

Yes / no / abstain (abstentions count for the quorum, never for the majority)
    majority:   passes when quorum is met and yes x 2 > yes + no.
                yes == no fails; all abstaining (yes + no == 0) fails.
    two_thirds: passes when quorum is met, yes > 0 and yes x 3 >= (yes + no) x 2.
    consent:    passes when quorum is met and nobody blocks (block == 0). "no"
                is a recorded objection that does not stop the proposal; a block
                (which needs a written reason) does.

Score (a number: the pay floor, the co-op fee)
    Each voter gives a number in [min, max] (or abstains). The result is the
    median of the numbers: with n sorted values v1..vn, the middle value for
    odd n; for even n the mean of v(n/2) and v(n/2+1), rounded half-up to the
    ballot's precision (`places`, cents for money). Passes when quorum is met
    and at least one number was given.

Ranked choice, one seat: instant runoff (IRV)
    Each round counts every ballot for its highest-ranked continuing candidate
    (ballots with none left are "exhausted"). A candidate with more than half
    of the non-exhausted ballots wins. Otherwise the candidate with the fewest
    votes is eliminated; ties for fewest are broken backwards: the candidate
    with fewer votes in the latest earlier round where the tied candidates
    differ is eliminated; if they never differ, the one listed LAST in the
    ballot order (drawn by lot when the proposal was made) is eliminated.

Ranked choice, several seats: single transferable vote (STV)
    Droop quota q = floor(valid ballots / (seats + 1)) + 1, fixed at the start.
    Every ballot starts with weight 1 and counts, at its weight, for its
    highest-ranked continuing candidate. Each round:
      1. If the continuing candidates are no more than the seats left, all are
         elected (in order of their current votes, ties by ballot order).
      2. Else, if someone has >= q votes, the one with the most is elected
         (ties: backwards, then earliest in ballot order). Their surplus
         s = votes - q moves on with every ballot counting for them (weighted
         inclusive Gregory): transfer value t = s / votes, truncated to 5
         decimal places; each such ballot's weight becomes weight x t,
         truncated to 5 places (0 when s = 0). The truncated remainder is lost.
      3. Else the candidate with the fewest votes is eliminated (ties as in
         IRV) and their ballots move on at their current weight.
    Counting stops when all seats are filled.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
STV_PLACES = Decimal("0.00001")


def quorum(*, electorate: int, voted: int, quorum_pct: Decimal) -> dict:
    """{"electorate", "voted", "required", "met"}: see the module docstring."""
    required = int((Decimal(electorate) * Decimal(quorum_pct) / 100).to_integral_value(rounding=ROUND_CEILING))
    return {"electorate": electorate, "voted": voted, "required": required, "met": voted >= required}


def tally_yes_no(
    *, yes: int, no: int, abstain: int, block: int = 0, electorate: int, quorum_pct: Decimal, threshold: str
) -> dict:
    """Yes/no/abstain (and block, for consent) counts -> {"passed", "quorum", "counts", "rule"}."""
    voted = yes + no + abstain + block
    q = quorum(electorate=electorate, voted=voted, quorum_pct=quorum_pct)
    decided = yes + no
    if threshold == "majority":
        won, rule = yes * 2 > decided, "more than half of yes + no"
    elif threshold == "two_thirds":
        won, rule = yes > 0 and yes * 3 >= decided * 2, "at least two-thirds of yes + no"
    elif threshold == "consent":
        won, rule = block == 0, "no blocks"
    else:
        raise ValueError(f"unknown threshold {threshold!r}")
    return {
        "method": "yes_no",
        "threshold": threshold,
        "rule": rule,
        "counts": {"yes": yes, "no": no, "abstain": abstain, "block": block},
        "quorum": q,
        "passed": bool(q["met"] and voted > 0 and won),
    }


def median(values: Sequence[Decimal], *, places: int = 2) -> Decimal | None:
    """The median as defined above; None for no values."""
    if not values:
        return None
    ordered = sorted(Decimal(v) for v in values)
    n = len(ordered)
    quantum = Decimal(1).scaleb(-places)
    if n % 2:
        middle = ordered[n // 2]
    else:
        middle = (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return middle.quantize(quantum, rounding=ROUND_HALF_UP)


def tally_score(*, scores: Sequence[Decimal], abstain: int, electorate: int, quorum_pct: Decimal, places: int) -> dict:
    voted = len(scores) + abstain
    q = quorum(electorate=electorate, voted=voted, quorum_pct=quorum_pct)
    value = median(scores, places=places)
    return {
        "method": "score",
        "rule": "median of the numbers given",
        "counts": {"scores": len(scores), "abstain": abstain},
        "value": value,
        "quorum": q,
        "passed": bool(q["met"] and value is not None),
    }


def _first_continuing(ballot: Sequence[str], continuing: set[str]) -> str | None:
    for candidate in ballot:
        if candidate in continuing:
            return candidate
    return None


def _break_tie(tied: list[str], history: list[dict], order: Sequence[str], *, lowest: bool) -> str:
    """Backwards tie-break over earlier rounds' counts, then ballot order (last for `lowest`, first otherwise)."""
    pool = list(tied)
    for counts in reversed(history):
        values = {c: counts.get(c, ZERO) for c in pool}
        target = min(values.values()) if lowest else max(values.values())
        pool = [c for c in pool if values[c] == target]
        if len(pool) == 1:
            return pool[0]
    ranked = sorted(pool, key=order.index)
    return ranked[-1] if lowest else ranked[0]


def instant_runoff(ballots: Sequence[Sequence[str]], candidates: Sequence[str]) -> dict:
    """One seat. -> {"winner": key | None, "rounds": [{"counts", "exhausted", "eliminated"?}]}."""
    continuing = list(candidates)
    rounds: list[dict] = []
    history: list[dict] = []
    while continuing:
        alive = set(continuing)
        counts = {c: 0 for c in continuing}
        exhausted = 0
        for ballot in ballots:
            top = _first_continuing(ballot, alive)
            if top is None:
                exhausted += 1
            else:
                counts[top] += 1
        active = sum(counts.values())
        record = {"counts": counts, "exhausted": exhausted}
        rounds.append(record)
        if active == 0:
            return {"winner": None, "rounds": rounds}
        leader = max(counts.values())
        leaders = [c for c in continuing if counts[c] == leader]
        if leader * 2 > active:
            record["elected"] = leaders[0]
            return {"winner": leaders[0], "rounds": rounds}
        fewest = min(counts.values())
        loser = _break_tie([c for c in continuing if counts[c] == fewest], history, candidates, lowest=True)
        record["eliminated"] = loser
        continuing.remove(loser)
        history.append(counts)
    return {"winner": None, "rounds": rounds}


def single_transferable_vote(ballots: Sequence[Sequence[str]], candidates: Sequence[str], seats: int) -> dict:
    """Several seats. -> {"quota", "elected": [keys in order of election], "rounds": [...]} (weights as Decimal)."""
    known = set(candidates)
    valid = [list(b) for b in ballots if any(c in known for c in b)]
    quota = len(valid) // (seats + 1) + 1
    weights = [ONE] * len(valid)
    continuing = list(candidates)
    elected: list[str] = []
    rounds: list[dict] = []
    history: list[dict] = []
    if not valid:
        return {"quota": quota, "elected": [], "rounds": []}
    while len(elected) < seats and continuing:
        alive = set(continuing)
        counts = {c: ZERO for c in continuing}
        holders: dict[str, list[int]] = {c: [] for c in continuing}
        exhausted = ZERO
        for index, ballot in enumerate(valid):
            top = _first_continuing(ballot, alive)
            if top is None:
                exhausted += weights[index]
            else:
                counts[top] += weights[index]
                holders[top].append(index)
        record: dict = {"counts": dict(counts), "exhausted": exhausted}
        rounds.append(record)
        seats_left = seats - len(elected)
        if len(continuing) <= seats_left:
            rest = sorted(continuing, key=lambda c: (-counts[c], candidates.index(c)))
            elected.extend(rest)
            record["elected"] = rest
            break
        over = [c for c in continuing if counts[c] >= quota]
        if over:
            top_count = max(counts[c] for c in over)
            winner = _break_tie([c for c in over if counts[c] == top_count], history, candidates, lowest=False)
            elected.append(winner)
            continuing.remove(winner)
            surplus = counts[winner] - quota
            transfer = (surplus / counts[winner]).quantize(STV_PLACES, rounding=ROUND_DOWN) if surplus > 0 else ZERO
            for index in holders[winner]:
                weights[index] = (weights[index] * transfer).quantize(STV_PLACES, rounding=ROUND_DOWN)
            record["elected"] = [winner]
            record["transfer_value"] = transfer
        else:
            fewest = min(counts.values())
            loser = _break_tie([c for c in continuing if counts[c] == fewest], history, candidates, lowest=True)
            continuing.remove(loser)
            record["eliminated"] = loser
        history.append(counts)
    return {"quota": quota, "elected": elected, "rounds": rounds}


def tally_ranked(
    *,
    rankings: Sequence[Sequence[str]],
    abstain: int,
    electorate: int,
    quorum_pct: Decimal,
    candidates: Sequence[str],
    seats: int,
) -> dict:
    """IRV for one seat, STV for several. Passes when quorum is met and every seat is filled."""
    voted = len(rankings) + abstain
    q = quorum(electorate=electorate, voted=voted, quorum_pct=quorum_pct)
    if seats == 1:
        count = instant_runoff(rankings, candidates)
        elected = [count["winner"]] if count["winner"] else []
        detail = {"rule": "instant runoff", "rounds": count["rounds"]}
    else:
        count = single_transferable_vote(rankings, candidates, seats)
        elected = count["elected"]
        detail = {
            "rule": "single transferable vote, Droop quota, weighted inclusive Gregory",
            "quota": count["quota"],
            "rounds": count["rounds"],
        }
    return {
        "method": "ranked",
        **detail,
        "seats": seats,
        "counts": {"rankings": len(rankings), "abstain": abstain},
        "elected": elected,
        "quorum": q,
        "passed": bool(q["met"] and len(elected) == seats),
    }
