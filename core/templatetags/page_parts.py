"""Template tags that render a page's registered parts (`core/pages.py`): `{% load page_parts %}`."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html_join, json_script
from django.utils.safestring import SafeString, mark_safe

from core.pages import page_parts, page_scripts

register = template.Library()


@register.simple_tag(takes_context=True)
def page_slot(context: template.Context, page: str, slot: str) -> SafeString:
    """Render the templates registered for `slot` of `page`, each with the page's context (like `include`)."""
    # A simple tag is always rendered inside a template, so the context has one.
    assert context.template is not None
    engine = context.template.engine
    rendered = []
    for part in page_parts(page, slot):
        with context.push():
            rendered.append(engine.get_template(part.template).render(context))
    return mark_safe("".join(rendered))  # each part is a template rendered with autoescaping


@register.simple_tag
def page_part_modules(page: str) -> SafeString:
    """The page's part modules: preloaded, and listed as JSON in #page-parts for `pageParts()` in virtool.js."""
    urls = [static(path) for path in page_scripts(page)]
    preload = format_html_join("", '<link rel="modulepreload" href="{}">', ((url,) for url in urls))
    return preload + json_script(urls, "page-parts")
