from django import template

register = template.Library()


@register.filter
def dictget(mapping, key):
    """{{ counts|dictget:key }} — a dict lookup with a variable key; None when absent."""
    if not mapping:
        return None
    return mapping.get(key)


@register.simple_tag(takes_context=True)
def record_panels(context, record):
    """{% record_panels ae %}: the sections other apps add under a record (e.g. its queries)."""
    from django.utils.safestring import mark_safe

    from scr_escc.navigation import record_panels_for

    request = context.get("request")
    if request is None or record is None:
        return ""
    return mark_safe("".join(record_panels_for(request, record)))  # noqa: S308 - rendered templates


@register.simple_tag(takes_context=True)
def field_flag(context, record, field):
    """{% field_flag ae "grade" %}: badges other apps put beside one field (e.g. an open query)."""
    from django.utils.safestring import mark_safe

    from scr_escc.navigation import field_flags_for

    request = context.get("request")
    if request is None or record is None:
        return ""
    return mark_safe(" ".join(field_flags_for(request, record, field)))  # noqa: S308 - rendered templates
