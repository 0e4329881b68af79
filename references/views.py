"""Reference pages: the list, one reference and one OTU."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.views import page
from references.call_rules import CALL_RULE_HELP, DEFAULT_CALL_RULES


@page()
def references_page(request: HttpRequest) -> HttpResponse:
    """References: the live list with create, import (with the import's progress) and clone."""
    return render(request, "references/list.html", {"nav_active": "references"})


@page()
def reference_page(request: HttpRequest, ref_id: str) -> HttpResponse:
    """One reference: OTUs, history with diffs and revert, indexes and builds, members, export and settings."""
    context = {
        "nav_active": "references",
        "ref_id": ref_id,
        "call_rule_help": CALL_RULE_HELP,
        "call_rule_defaults": DEFAULT_CALL_RULES,
    }
    return render(request, "references/detail.html", context)


@page()
def otu_page(request: HttpRequest, ref_id: str, otu_id: str) -> HttpResponse:
    """One OTU: name and schema, isolates and their sequences, FASTA downloads and its history with revert."""
    return render(request, "references/otu.html", {"nav_active": "references", "ref_id": ref_id, "otu_id": otu_id})
