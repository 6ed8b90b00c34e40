"""Template tags that bring expert work into shared pages (transparency, earnings) without touching their views."""

from django import template

register = template.Library()


@register.simple_tag
def pay_by_qualification():
    from marketplace.expert.transparency import pay_by_qualification as rows

    return rows()


@register.simple_tag
def bonuses_of(user):
    from marketplace.expert.selectors import bonuses_of as rows

    return list(rows(member=user)[:100])


@register.simple_tag(takes_context=True)
def payout_destination_of(context, user):
    from django.utils import timezone

    from marketplace.ledger.payout_destinations import current_destination

    context["now"] = timezone.now()
    return current_destination(user)
