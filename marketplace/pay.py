"""Exact pay arithmetic (Decimal only)."""

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
PAY_FLOOR = "pay_floor_hourly"  # the policy
RATE_PLACES = Decimal("0.0001")


def hourly_rate(pay_per_task: Decimal, seconds: int | Decimal) -> Decimal:
    """Effective hourly pay = pay per task / seconds × 3600, rounded half-up to the cent."""
    seconds = Decimal(seconds)
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    return (Decimal(pay_per_task) * Decimal(3600) / seconds).quantize(CENT, rounding=ROUND_HALF_UP)


def minimum_pay_per_task(floor_hourly: Decimal, seconds: int | Decimal) -> Decimal:
    """The smallest pay per task (to 1/100 of a cent, rounded up) whose hourly rate meets the floor."""
    return (Decimal(floor_hourly) * Decimal(seconds) / Decimal(3600)).quantize(RATE_PLACES, rounding=ROUND_CEILING)


def current_pay_floor() -> Decimal:
    """The member-voted pay floor (per hour, in the co-op's currency) in force now, to the cent."""
    from governance.selectors import policy_current

    return policy_current(PAY_FLOOR).quantize(CENT)


def pay_floor_of(recorded: Decimal | None) -> Decimal:
    """current_pay_floor() from the policy's value read by another statement (None: no value recorded yet)."""
    from governance.selectors import policy_or_founding

    return policy_or_founding(PAY_FLOOR, recorded).quantize(CENT)


def current_fee_rate() -> Decimal:
    """The member-voted co-op fee, a fraction of each payment (0.05 = 5 %), charged to the client on top."""
    from governance.selectors import policy_current

    return policy_current("coop_fee_rate")


def current_appeal_window_days() -> int:
    """The members' policy `appeal_window_days` (founding 14): how long a rejected answer stays appealable."""
    from governance.selectors import policy_current

    return int(policy_current("appeal_window_days"))
