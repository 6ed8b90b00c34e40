"""Template helpers of the governance pages and the member dashboard card."""

from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """mapping[key] in templates (candidate labels by key)."""
    if isinstance(mapping, dict):
        return mapping.get(key, key)
    return key


@register.filter
def is_list(value):
    return isinstance(value, (list, tuple))


@register.simple_tag
def votes_waiting_for(user):
    """Open votes the member has not cast yet: {% votes_waiting_for user as waiting %}."""
    from governance.selectors import votes_waiting_for as waiting

    return waiting(user)


@register.filter
def markdown(text):
    """Members' Markdown (comments), sanitised the same way as clients' instructions."""
    from django.utils.safestring import mark_safe

    from coop.rendering import render_markdown

    return mark_safe(render_markdown(text or ""))
