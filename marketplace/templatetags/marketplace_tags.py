"""Template helpers of the marketplace's portal pieces (the member dashboard card)."""

from django import template

register = template.Library()


@register.simple_tag
def work_summary(user):
    """{% work_summary user as work %}: the member's money at a glance and the best next project to work on."""
    from marketplace.earnings import worker_earnings_summary
    from marketplace.task_feed import feed_projects

    rows = [row for row in feed_projects(worker=user) if row["open_tasks"] and not row["refusal"]]
    return {"money": worker_earnings_summary(user), "next": rows[0] if rows else None, "projects": len(rows)}


@register.filter
def prompt_text(prompt) -> str:
    """A task's prompt as text: a conversation's turns as "role: content" lines."""
    from ..task_types import prompt_text as as_text

    return as_text(prompt) if prompt else ""
