"""Parts of a page that another concern contributes, as apps contribute to the navigation.

A page's template names slots (`{% page_slot "sample" "sections" %}`) and lists its parts' modules
(`{% page_part_modules "sample" %}`); an app fills them from its `AppConfig.ready`:

    page_part_register(page="sample", slot="sections", template="analyses/sample_part.html",
                       script="analyses/sample-analyses.js")

The page's script loads the modules with `pageParts(context)` (virtool.js), which calls each module's
`setup(context)` and then the hooks the page offers (the sample page: `render(sample, writable)`). So the page
knows its slots and hooks, never who fills them: the samples pages name nothing of analyses.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PagePart:
    """One contribution: a template rendered into a slot of a page, and the ES module that drives it."""

    page: str
    slot: str
    template: str
    script: str = ""  # a static path, e.g. "analyses/sample-analyses.js"; parts may share one
    order: int = 100


PAGE_PARTS: list[PagePart] = []


def page_part_register(*, page: str, slot: str, template: str, script: str = "", order: int = 100) -> None:
    """Contribute a part to a page's slot (apps call this from `AppConfig.ready`); lower `order` comes first."""
    part = PagePart(page=page, slot=slot, template=template, script=script, order=order)
    if part in PAGE_PARTS:
        return
    PAGE_PARTS.append(part)
    PAGE_PARTS.sort(key=lambda item: item.order)  # stable: equal orders keep their registration order


def page_parts(page: str, slot: str | None = None) -> list[PagePart]:
    """The parts of a page, or of one of its slots, in order."""
    return [part for part in PAGE_PARTS if part.page == page and (slot is None or part.slot == slot)]


def page_scripts(page: str) -> list[str]:
    """The static paths of the modules a page's parts need, each once, in order."""
    return list(dict.fromkeys(part.script for part in page_parts(page) if part.script))
