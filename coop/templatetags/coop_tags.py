from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


@register.filter
def get_item_attr(obj, name):
    return getattr(obj, name, None)


@register.filter
def human(value):
    """A code as words: {{ "sexual_content"|human }} → Sexual content; lists become "A, B"."""
    from coop.labels import human as label

    if isinstance(value, (list, tuple)):
        return ", ".join(label(v) for v in value)
    return label(value)


@register.filter
def percent(share, places=0):
    """A share as a percentage: {{ 0.05|percent }} → 5%, {{ 0.125|percent:1 }} → 12.5%."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(str(share)) * 100
    except (InvalidOperation, ValueError):
        return share
    return f"{value:.{int(places)}f}%"
