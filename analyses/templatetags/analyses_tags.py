"""Template tags of the analyses pages and parts: `{% load analyses_tags %}`."""

from __future__ import annotations

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from jobs.workflow import analysis_workflows, workflow_labels

register = template.Library()

# PathoScope first: it is what most analyses are, and what the start forms choose by default.
FIRST = "pathoscope_bowtie"


def analysis_workflow_choices() -> list[dict[str, str]]:
    """The workflows an analysis can be started with, `[{name, label}]`, as people read their names."""
    labels = workflow_labels()
    names = sorted(set(analysis_workflows().values()), key=lambda name: (name != FIRST, labels.get(name, name)))
    return [{"name": name, "label": labels.get(name, name)} for name in names]


@register.simple_tag
def analysis_workflows_script() -> SafeString:
    """`<script type="application/json" id="analysis-workflows">` with the start forms' workflows."""
    return json_script(analysis_workflow_choices(), "analysis-workflows")
