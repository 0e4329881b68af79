"""Virtool's stored `hits` of a PathoScope analysis, from an `em` result (`workflows.md` §1.7).

`report` rounds the mean depth with Python's `round` (half to even, as the old Python did; HEAD's `Math.round`
rounds half up: they differ only when the mean depth is exactly n + 0.5). Pure computation: no Django.
"""

from __future__ import annotations

from analyses.pathoscope.em import P_SCORE_CUTOFF


def _hit_numbers(result: dict, i: int, when: str) -> dict:
    suffix = "_initial" if when == "initial" else "_final"
    pi = result["init_pi"] if when == "initial" else result["pi"]
    return {
        "pi": round(pi[i], 10),
        "best": round(result["best_hit" + suffix][i], 10),
        "high": round(result["level_1" + suffix][i], 10),
        "low": round(result["level_2" + suffix][i], 10),
        "reads": int(result["best_hit" + suffix + "_reads"][i]),
    }


def report(result: dict, *, cutoff: float = P_SCORE_CUTOFF) -> list[dict]:
    """The stored `hits` of an analysis from an `em` result (§1.7).

    Sorted by final pi descending, ties by reference id descending; truncated at the first hit with
    pi < cutoff and no high- or low-confidence reads; floats rounded to 10 decimals; `reads` = trunc(best-hit
    reads). Each hit: `{id, final{pi, best, high, low, reads}, initial{...}, align, coverage, depth}` with
    `coverage` = round(1 - zeros / length, 3) and `depth` = round(mean depth), Python's round (half to even).
    """
    order = sorted(range(len(result["refs"])), key=lambda i: (result["pi"][i], result["refs"][i]), reverse=True)
    hits = []
    for i in order:
        pi, high, low = result["pi"][i], result["level_1_final"][i], result["level_2_final"][i]
        if pi < cutoff and high <= 0 and low <= 0:
            break
        ref = result["refs"][i]
        align = result["coverage"].get(ref, [])
        if not isinstance(align, list):  # em(..., coverage_arrays=True): an int32 array
            align = align.tolist()
        length = len(align)
        zeros = align.count(0)
        hits.append(
            {
                "id": ref,
                "final": _hit_numbers(result, i, "final"),
                "initial": _hit_numbers(result, i, "initial"),
                "align": align,
                "coverage": round(1 - zeros / length, 3) if length else 0.0,
                "depth": round(sum(align) / length) if length else 0,
            }
        )
    return hits
