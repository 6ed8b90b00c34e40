"""What a decided proposal does: a registry of effects (on pass) and follow-ups (on fail or withdrawal).

A proposal carries an `effect_key`: its kind, except appeals, which use
"appeal_<type>" ("appeal_suspension", "appeal_rejection"). Other apps register
functions for their keys at import time (e.g. in their AppConfig.ready())::

    from governance.effects import register_effect, register_on_fail

    @register_effect("appeal_rejection")
    def accept_appealed_answer(proposal):
        answer = proposal.subject            # the object passed to appeal_file(subject=...)
        ...                                  # accept it and pay the worker
        return f"Answer #{answer.pk} accepted and paid."   # shown on the proposal page

    @register_on_fail("rate_cut_relaunch")
    def keep_project_held(proposal):
        return "The project stays held."

The governance app's own effects live in governance.builtin_effects and are
registered by GovernanceConfig.ready(); this module is only the registry, so
it imports no service and no service module imports back through it.

An effect runs inside the same database transaction that records the result,
in a savepoint: if it raises, its writes are rolled back, the result stays
recorded and the proposal shows effect_status "failed" with the message. A
passed proposal whose key has no registered effect is recorded as
"not_registered" (never a crash), so it can be applied by hand or by a later
deploy. Kinds that only record a decision (bylaw amendments, general motions)
are "recorded".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager

from django.db import transaction

from coop.errors import ApplicationError

from .models import EffectStatus, Outcome, Proposal
from .rules import RECORDED_ONLY_KINDS

logger = logging.getLogger(__name__)

Effect = Callable[[Proposal], str | None]

_effects: dict[str, Effect] = {}
_on_fail: dict[str, Effect] = {}


def _register(table: dict[str, Effect], key: str, replace: bool):
    def decorator(func: Effect) -> Effect:
        existing = table.get(key)
        same = existing is not None and (existing.__module__, existing.__qualname__) == (func.__module__, func.__qualname__)
        if existing is not None and not same and not replace:
            raise ValueError(f"An effect is already registered for {key!r}: {existing.__module__}.{existing.__qualname__}")
        table[key] = func
        return func

    return decorator


def register_effect(key: str, *, replace: bool = False):
    """Decorator: run `func(proposal)` when a proposal with this effect key passes. Return a short summary."""
    return _register(_effects, key, replace)


def register_on_fail(key: str, *, replace: bool = False):
    """Decorator: run `func(proposal)` when a proposal with this effect key fails or is withdrawn."""
    return _register(_on_fail, key, replace)


def effect_for(key: str) -> Effect | None:
    return _effects.get(key)


def on_fail_for(key: str) -> Effect | None:
    return _on_fail.get(key)


def registered_keys() -> dict[str, list[str]]:
    return {"effects": sorted(_effects), "on_fail": sorted(_on_fail)}


@contextmanager
def overridden(key: str, effect: Effect | None = None, *, on_fail: Effect | None = None):
    """Tests: register (or, with None, unregister) an effect for the duration of a block."""
    saved = (_effects.get(key), _on_fail.get(key))
    try:
        for table, func in ((_effects, effect), (_on_fail, on_fail)):
            if func is None:
                table.pop(key, None)
            else:
                table[key] = func
        yield
    finally:
        for table, old in ((_effects, saved[0]), (_on_fail, saved[1])):
            if old is None:
                table.pop(key, None)
            else:
                table[key] = old


def _run(func: Effect, proposal: Proposal, applied: str) -> tuple[str, str]:
    try:
        with transaction.atomic():
            summary = func(proposal) or ""
    except ApplicationError as error:
        return EffectStatus.FAILED, error.message
    except Exception as error:
        logger.exception("Effect %s of proposal %s failed", proposal.effect_key, proposal.pk)
        return EffectStatus.FAILED, f"{type(error).__name__}: {error}"
    return applied, summary


def apply_outcome(proposal: Proposal) -> tuple[str, str]:
    """Run the registered effect (passed) or follow-up (failed/withdrawn). Call inside the closing transaction."""
    key = proposal.effect_key
    if proposal.outcome == Outcome.PASSED:
        if proposal.kind in RECORDED_ONLY_KINDS and key not in _effects:
            return EffectStatus.RECORDED, "Decision recorded; this kind of proposal has no automatic effect."
        func = _effects.get(key)
        if func is None:
            logger.warning("Proposal %s passed but no effect is registered for %r", proposal.pk, key)
            return EffectStatus.NOT_REGISTERED, f"Passed, but no effect is registered for “{key}”: apply it by hand."
        return _run(func, proposal, EffectStatus.APPLIED)
    func = _on_fail.get(key)
    if func is None:
        return EffectStatus.NONE, ""
    return _run(func, proposal, EffectStatus.ON_FAIL_APPLIED)
