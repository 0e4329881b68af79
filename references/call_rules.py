"""A reference's call rules: what a PathoScope hit must reach to be called `detected` (analyses.pathoscope.calls
applies them when an analysis is read). Pure: no Django, so the calls and a cross-sample matrix import it freely.

A reference stores only the rules someone set (`Reference.call_rules`); the rest are these defaults, so a change of
a default reaches every reference that never set that rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# Virtool's manual: coverage above 0.5 suggests the virus is present, a weight below 0.001 is noise. Ten reads and a
# median depth of two keep a handful of reads, or genomes read once, from signing a result on their own.
DEFAULT_CALL_RULES: Final[dict[str, int | float]] = {
    "min_reads": 10,
    "min_coverage": 0.5,
    "min_median_depth": 2,
    "min_weight": 0.001,
}

# What each rule means, for the API schema, the settings page and the README.
CALL_RULE_HELP: Final[dict[str, str]] = {
    "min_reads": "Fewest reads PathoScope must assign to the OTU (its best-hit reads).",
    "min_coverage": "Least fraction (0 to 1) of each required segment that reads must cover, on the best isolate.",
    "min_median_depth": "Least median depth: reads stacked at the middle position of the OTU's merged segments.",
    "min_weight": "Weight floor (PathoScope's pi, 0 to 1): below it a hit is noise, called not detected.",
}

# Upper bounds of the rules that are not fractions (a larger value would make every call fail).
MAX_MIN_READS: Final = 1_000_000_000
MAX_MIN_MEDIAN_DEPTH: Final = 1_000_000


def call_rules_effective(stored: Mapping[str, Any] | None) -> dict[str, int | float]:
    """The rules in force: the stored ones over the defaults (unknown stored keys are ignored)."""
    stored = stored or {}
    return {key: stored[key] if stored.get(key) is not None else default for key, default in DEFAULT_CALL_RULES.items()}
