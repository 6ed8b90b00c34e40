"""What a case is about, shown to those who decide it: a registry other apps fill for their own objects.

An appeal of a rejected answer is about a marketplace object; governance
cannot import the marketplace (it sits below it), so the marketplace
registers how its objects are shown (marketplace.governance_cases). A real
upward arrow, inverted; nothing a rule depends on.
"""

from __future__ import annotations

from collections.abc import Callable

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from coop.models import User

from .models import Proposal

CaseView = Callable[[Proposal, User], dict]  # -> {"template": ..., **context}

_views: dict[str, CaseView] = {}


def register_case_view(model_label: str):
    """Decorator: show proposals whose subject is a `model_label` ("app.model") object with the returned template."""

    def decorator(func: CaseView) -> CaseView:
        _views[model_label] = func
        return func

    return decorator


def case_html(proposal: Proposal, viewer: User) -> SafeString | None:
    """The case panel of a proposal about another app's object, or None."""
    if proposal.subject_type_id is None:
        return None
    view = _views.get(f"{proposal.subject_type.app_label}.{proposal.subject_type.model}")
    if view is None:
        return None
    context = view(proposal, viewer)
    return render_to_string(context.pop("template"), context)
