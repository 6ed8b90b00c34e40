"""Worked examples of the tally rules in governance/tally.py (pure functions, no database)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.tally import instant_runoff, median, quorum, single_transferable_vote, tally_ranked, tally_score, tally_yes_no

D = Decimal


class TestQuorum:
    @pytest.mark.parametrize(
        ("electorate", "pct", "voted", "required", "met"),
        [
            (10, D(30), 3, 3, True),  # exactly met
            (10, D(30), 2, 3, False),
            (7, D(30), 3, 3, True),  # 2.1 rounds up to 3
            (7, D(30), 2, 3, False),
            (5, D("50.01"), 3, 3, True),  # a panel of 5: more than half must vote
            (4, D("50.01"), 2, 3, False),
            (0, D(30), 0, 0, True),
            (1000, D(20), 200, 200, True),
        ],
    )
    def test_required_is_the_ceiling_and_compares_voters(self, electorate, pct, voted, required, met):
        assert quorum(electorate=electorate, voted=voted, quorum_pct=pct) == {
            "electorate": electorate,
            "voted": voted,
            "required": required,
            "met": met,
        }


THIRTY = D(30)


def yes_no(yes=0, no=0, abstain=0, block=0, electorate=10, pct=THIRTY, threshold="majority"):
    return tally_yes_no(yes=yes, no=no, abstain=abstain, block=block, electorate=electorate, quorum_pct=pct, threshold=threshold)


class TestYesNo:
    def test_simple_majority(self):
        assert yes_no(yes=3, no=2)["passed"]
        assert not yes_no(yes=2, no=2, abstain=1)["passed"]  # a tie fails
        assert yes_no(yes=2, no=1, abstain=7)["passed"]  # abstentions count for quorum, not for the majority

    def test_abstentions_make_quorum_but_not_a_majority(self):
        result = yes_no(yes=1, no=0, abstain=2)
        assert result["quorum"]["met"] and result["passed"]
        result = yes_no(yes=1, no=0, abstain=1)  # 2 of 10 voted, 3 needed
        assert not result["quorum"]["met"] and not result["passed"]

    def test_all_abstain_fails_and_zero_votes_fail(self):
        assert not yes_no(abstain=5)["passed"]
        assert not yes_no(electorate=0, pct=D(0))["passed"]
        assert not yes_no(electorate=0, pct=D(0), threshold="consent")["passed"]

    def test_two_thirds(self):
        assert yes_no(yes=4, no=2, threshold="two_thirds")["passed"]  # exactly 2/3
        assert not yes_no(yes=3, no=2, threshold="two_thirds")["passed"]  # 60 %
        assert not yes_no(abstain=4, threshold="two_thirds")["passed"]  # no yes at all

    def test_consent_passes_unless_someone_blocks(self):
        assert yes_no(yes=1, no=3, abstain=1, threshold="consent")["passed"]  # objections do not stop it
        assert not yes_no(yes=9, block=1, threshold="consent")["passed"]
        assert yes_no(abstain=3, threshold="consent")["passed"]  # nobody blocks
        assert not yes_no(yes=2, threshold="consent")["passed"]  # quorum not met

    def test_unknown_threshold_is_a_programming_error(self):
        with pytest.raises(ValueError):
            yes_no(yes=1, threshold="plurality")


class TestScore:
    def test_median_odd_and_even(self):
        assert median([D("20"), D("25"), D("22")]) == D("22.00")
        # Even count: mean of the two middle values, rounded half-up to cents.
        assert median([D("20.00"), D("21.25"), D("21.30"), D("40")]) == D("21.28")  # (21.25 + 21.30) / 2 = 21.275
        assert median([D("20.01"), D("20.02")]) == D("20.02")  # 20.015 rounds half-up
        assert median([D("0.05"), D("0.0625")], places=4) == D("0.0563")  # fee rates keep 4 places
        assert median([]) is None

    def test_score_tally(self):
        result = tally_score(scores=[D(18), D(22), D(24), D(30)], abstain=1, electorate=10, quorum_pct=D(30), places=2)
        assert result["value"] == D("23.00") and result["passed"] and result["quorum"]["voted"] == 5
        nobody = tally_score(scores=[], abstain=4, electorate=10, quorum_pct=D(30), places=2)
        assert nobody["value"] is None and not nobody["passed"]  # all abstained: no number to adopt


class TestInstantRunoff:
    def test_tennessee_capital(self):
        """The classic example: Memphis leads the first round but Knoxville wins after transfers."""
        ballots = (
            [["M", "N", "C", "K"]] * 42 + [["N", "C", "K", "M"]] * 26 + [["C", "K", "N", "M"]] * 15 + [["K", "C", "N", "M"]] * 17
        )
        result = instant_runoff(ballots, ["M", "N", "C", "K"])
        assert [r["counts"] for r in result["rounds"]] == [
            {"M": 42, "N": 26, "C": 15, "K": 17},
            {"M": 42, "N": 26, "K": 32},
            {"M": 42, "K": 58},
        ]
        assert [r.get("eliminated") for r in result["rounds"]] == ["C", "N", None]
        assert result["winner"] == "K"

    def test_first_round_majority(self):
        assert instant_runoff([["A"], ["A", "B"], ["B"]], ["A", "B"])["winner"] == "A"

    def test_elimination_tie_broken_by_earlier_round(self):
        # Round 1: A 3, B 2, C 2, D 1 -> D eliminated, its ballot goes to C. Round 2: A 3, B 2, C 3.
        # Round 3 would be needed if B and C tied; here B (2) is lowest alone. Build a real tie instead:
        ballots = [["A"]] * 4 + [["B"]] * 2 + [["C"]] * 1 + [["D", "C"]] * 1 + [["E", "B"]] * 1
        # Round 1: A 4, B 2, C 1, D 1, E 1 -> D and E tie on 1 with C; no earlier round -> the last listed (E) goes.
        result = instant_runoff(ballots, ["A", "B", "C", "D", "E"])
        assert result["rounds"][0]["eliminated"] == "E"
        # Round 2: A 4, B 3, C 1, D 1 -> C and D tie; round 1 had them tied too (1, 1) -> ballot order: D goes.
        assert result["rounds"][1]["eliminated"] == "D"
        # Round 3: A 4, B 3, C 2 -> C eliminated; C's two ballots exhaust. Round 4: A 4, B 3 of 7 -> A wins.
        assert result["rounds"][2]["eliminated"] == "C"
        assert result["rounds"][3]["counts"] == {"A": 4, "B": 3} and result["rounds"][3]["exhausted"] == 2
        assert result["winner"] == "A"

    def test_backwards_tie_break_uses_the_latest_differing_round(self):
        # Round 1: A 3, B 2, C 2, D 1 -> D out, to B. Round 2: A 3, B 3, C 2 -> C out (alone lowest), to... nobody.
        ballots = [["A"]] * 3 + [["B"]] * 2 + [["C"]] * 2 + [["D", "B"]]
        result = instant_runoff(ballots, ["A", "B", "C", "D"])
        assert result["rounds"][1]["counts"] == {"A": 3, "B": 3, "C": 2}
        # Round 3: A 3, B 3 (tied, 6 active) -> no majority; tie for fewest broken by round 2? equal; round 1: A 3 > B 2 -> B out.
        assert result["rounds"][2]["eliminated"] == "B"
        assert result["winner"] == "A"

    def test_final_tie_is_broken_by_ballot_order(self):
        result = instant_runoff([["A"], ["B"]], ["A", "B"])
        assert result["rounds"][0]["eliminated"] == "B"  # listed last
        assert result["winner"] == "A"

    def test_no_ballots(self):
        assert instant_runoff([], ["A", "B"])["winner"] is None


class TestSingleTransferableVote:
    def test_wikipedia_food_election(self):
        """20 voters, 3 seats, Droop quota 6: Chocolate, Orange, Strawberry (en.wikipedia.org, Single transferable vote)."""
        ballots = (
            [["Orange"]] * 4
            + [["Pear", "Orange"]] * 2
            + [["Chocolate", "Strawberry"]] * 8
            + [["Chocolate", "Hamburger"]] * 4
            + [["Strawberry"]]
            + [["Hamburger"]]
        )
        candidates = ["Orange", "Pear", "Chocolate", "Strawberry", "Hamburger"]
        result = single_transferable_vote(ballots, candidates, seats=3)
        assert result["quota"] == 6
        assert result["elected"] == ["Chocolate", "Orange", "Strawberry"]
        first, second = result["rounds"][0], result["rounds"][1]
        assert first["elected"] == ["Chocolate"] and first["transfer_value"] == D("0.5")
        # Chocolate's surplus of 6 moves at 0.5 per ballot: 8 x 0.5 to Strawberry, 4 x 0.5 to Hamburger.
        assert second["counts"] == {"Orange": D(4), "Pear": D(2), "Strawberry": D(5), "Hamburger": D(3)}
        assert second["eliminated"] == "Pear"
        assert result["rounds"][2]["elected"] == ["Orange"]
        assert result["rounds"][3]["eliminated"] == "Hamburger"

    def test_fractional_transfer_values_are_truncated(self):
        # 7 ballots, 2 seats: quota floor(7/3)+1 = 3. A gets 5: surplus 2, transfer value 2/5 = 0.4.
        ballots = [["A", "B"]] * 5 + [["C"]] * 2
        result = single_transferable_vote(ballots, ["A", "B", "C"], seats=2)
        assert result["rounds"][0]["transfer_value"] == D("0.4")
        assert result["rounds"][1]["counts"] == {"B": D("2.0"), "C": D(2)}
        # B and C tie at 2 for the last seat, both below quota; tie for fewest: earlier round B 0 < C 2 -> B eliminated.
        assert result["elected"] == ["A", "C"]

    def test_thirds_truncate_to_five_places(self):
        ballots = [["A", "B"]] * 4 + [["C"]] * 2  # quota floor(6/3)+1 = 3; surplus 1 of 4 -> 0.25
        assert single_transferable_vote(ballots, ["A", "B", "C"], seats=2)["rounds"][0]["transfer_value"] == D("0.25")
        ballots = [["A", "B"]] * 6 + [["C"]] * 1  # quota 3; surplus 3 of 6 -> 0.5
        assert single_transferable_vote(ballots, ["A", "B", "C"], seats=2)["rounds"][0]["transfer_value"] == D("0.5")
        ballots = [["A", "B"]] * 9 + [["C"]] * 2  # quota floor(11/3)+1 = 4; surplus 5 of 9 = 0.5555...
        assert single_transferable_vote(ballots, ["A", "B", "C"], seats=2)["rounds"][0]["transfer_value"] == D("0.55555")

    def test_as_many_candidates_as_seats_are_all_elected(self):
        assert single_transferable_vote([["A"], ["B"]], ["A", "B"], seats=2)["elected"] == ["A", "B"]

    def test_ties_for_election_go_to_ballot_order(self):
        result = single_transferable_vote([["B"]] * 3 + [["A"]] * 3, ["A", "B", "C"], seats=1)
        # quota floor(6/2)+1 = 4: nobody reaches it; C (0) eliminated; then A and B (3 each) are 2 for 1 seat: B, listed later, goes.
        assert result["elected"] == ["A"]

    def test_no_ballots_elect_nobody(self):
        assert single_transferable_vote([], ["A", "B", "C"], seats=2)["elected"] == []

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.permutations(["A", "B", "C", "D", "E"]).map(lambda p: p[:3]), min_size=1, max_size=40),
        st.integers(min_value=1, max_value=4),
    )
    def test_fills_every_seat_once(self, ballots, seats):
        result = single_transferable_vote(ballots, ["A", "B", "C", "D", "E"], seats=seats)
        assert len(result["elected"]) == seats and len(set(result["elected"])) == seats

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.permutations(["A", "B", "C", "D"]).map(lambda p: p[:2]), min_size=1, max_size=40))
    def test_irv_winner_with_first_round_majority_wins(self, ballots):
        firsts = [b[0] for b in ballots]
        leader = max(set(firsts), key=firsts.count)
        result = instant_runoff(ballots, ["A", "B", "C", "D"])
        if firsts.count(leader) * 2 > len(ballots):
            assert result["winner"] == leader
        assert result["winner"] in {"A", "B", "C", "D"}


class TestRanked:
    def test_one_seat_uses_irv_and_passes_with_quorum(self):
        result = tally_ranked(
            rankings=[["1", "2"], ["1"], ["2", "1"]], abstain=1, electorate=10, quorum_pct=D(30), candidates=["1", "2"], seats=1
        )
        assert result["rule"] == "instant runoff" and result["elected"] == ["1"] and result["passed"]

    def test_quorum_not_met_fails_even_with_a_winner(self):
        result = tally_ranked(rankings=[["1"]], abstain=0, electorate=10, quorum_pct=D(30), candidates=["1", "2"], seats=1)
        assert result["elected"] == ["1"] and not result["passed"]
