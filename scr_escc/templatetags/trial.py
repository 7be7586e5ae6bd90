from django import template

register = template.Library()


@register.filter
def dictget(mapping, key):
    """{{ counts|dictget:key }} — a dict lookup with a variable key; None when absent."""
    if not mapping:
        return None
    return mapping.get(key)
