from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


@register.filter
def get_item_attr(obj, name):
    return getattr(obj, name, None)
