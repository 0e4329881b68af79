"""NuVs's profile search: every ORF against the installed vFam profiles, in this process with pyhmmer.

`hmm_search` gives what Virtool gets from `hmmscan --tblout hmm.tsv --noali --cpu N profiles.hmm orfs.fa` with
HMMER's defaults (`workflows.md` §2 `vfam`): the same data lines, byte for byte (checked against the `hmmscan`
command in `tests/analyses/test_hmmer.py`), only the `#` comment lines at the end differ. HMMER's defaults are
pyhmmer's too: targets and domains reported at E <= 10, no score cut-offs, the bias filter and null2 on, seed 42
(reseeded for every query, so the threads do not change a number). E-values are hmmscan's because pyhmmer runs
HMMER's own pipeline in scan mode: for each query `Z` is the number of profiles searched (`p7_pli_NewModel`
counts them when Z is not set) and `domZ` the number of targets reported for that query (`p7_tophits_Threshold`),
exactly as `hmmscan` without `-Z`/`--domZ`.

`parse_tblout` reads that table as Virtool does (`vt:packages/bio/src/hmmer.ts`, `wn:workflow.py::vfam`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Only lines starting with this are hits (Virtool's one filter: it skips every comment line).
TARGET_PREFIX = "vFam"
#: A pressed database up to this size (its .h3f and .h3p files) is read into memory once and shared by the
#: threads, which is much faster; a larger one is read from disk for every ORF, as `hmmscan` does.
PRELOAD_MAX_BYTES = 1 << 30
#: HMMER's limit on a sequence's length (HMMER_TARGET_LIMIT): a longer ORF cannot be searched.
MAX_ORF_LENGTH = 100_000


class HMMSearchError(ValueError):
    """The profile search cannot run: the database is missing or not pressed, or an ORF is not a protein."""


def _pressed(profiles: Path) -> list[Path]:
    return [profiles.with_name(profiles.name + suffix) for suffix in (".h3m", ".h3i", ".h3f", ".h3p")]


def hmm_search(
    orfs: Iterable[tuple[str, str]],
    *,
    profiles: Path,
    cpus: int,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Search every `(name, protein)` ORF against the pressed profiles `profiles`; `hmmscan --tblout` text.

    Names are Virtool's `sequence_{contig}.{orf}` (no whitespace). Queries appear in the order given, each with
    its targets in hmmscan's order (best first); an ORF without hits has no line. `cpus` threads search ORFs in
    parallel. `progress(done, total)` is called in the caller's thread as each ORF's hits come in, in order; an
    exception it raises (a cancelled job) stops the search and its threads.
    """
    from pyhmmer import __version__ as pyhmmer_version
    from pyhmmer.easel import Alphabet, TextSequence
    from pyhmmer.hmmer import hmmscan
    from pyhmmer.plan7 import HMMPressedFile, OptimizedProfileBlock

    missing = [path.name for path in _pressed(profiles) if not path.is_file()]
    if missing:
        raise HMMSearchError(f"The HMM profiles at {profiles} are not pressed: {', '.join(missing)} missing")
    if cpus < 1:
        raise HMMSearchError(f"cpus must be at least 1, not {cpus}")

    alphabet: Alphabet = Alphabet.amino()  # not AA: hmmscan is typed for any alphabet
    queries = []
    for name, protein in orfs:
        if not name or any(character.isspace() for character in name):
            raise HMMSearchError(f"ORF name {name!r} is empty or holds whitespace")
        if len(protein) > MAX_ORF_LENGTH:
            raise HMMSearchError(f"ORF {name} has {len(protein):,} residues: HMMER searches at most {MAX_ORF_LENGTH:,}")
        try:
            queries.append(TextSequence(name=name, sequence=protein).digitize(alphabet))
        except ValueError as error:
            raise HMMSearchError(f"ORF {name} is not a protein sequence: {error}") from None

    unreadable = f"The pressed HMM profiles at {profiles} could not be read"
    try:
        pressed = HMMPressedFile(str(profiles))
    except (OSError, ValueError, EOFError) as error:
        raise HMMSearchError(f"{unreadable}: {error}") from None
    try:
        count = len(pressed)
        size = sum(path.stat().st_size for path in _pressed(profiles)[2:])
        output = io.BytesIO()
        try:
            targets: Any = OptimizedProfileBlock(alphabet, pressed) if size <= PRELOAD_MAX_BYTES else pressed
            results = hmmscan(queries, targets, cpus=cpus)
        except (OSError, ValueError, EOFError) as error:
            raise HMMSearchError(f"{unreadable}: {error}") from None
        try:
            for number in range(1, len(queries) + 1):
                try:
                    hits = next(results)
                except (OSError, ValueError, EOFError) as error:
                    # Every ORF was checked above: what fails now is reading the database (from disk, per ORF).
                    raise HMMSearchError(f"{unreadable}: {error}") from None
                # hmmscan writes the column header with its first query only.
                hits.write(output, format="targets", header=number == 1)
                if progress is not None:
                    progress(number, len(queries))
        finally:
            # A generator: closing it stops pyhmmer's threads now when we stop early, not when it is freed.
            getattr(results, "close", lambda: None)()
    finally:
        pressed.close()
    text = output.getvalue().decode()
    settings = f"{cpus} thread{'s' if cpus != 1 else ''}, HMMER defaults (E <= 10, Z = profiles, domZ = reported)"
    tail = [
        "#",
        "# Program:         hmmscan (pyhmmer, in process: analyses.nuvs.hmmer.hmm_search)",
        f"# Version:         pyhmmer {pyhmmer_version}",
        "# Pipeline mode:   SCAN",
        f"# Query file:      {len(queries)} ORF{'s' if len(queries) != 1 else ''}",
        f"# Target file:     {profiles} ({count} profile{'s' if count != 1 else ''})",
        f"# Option settings: {settings}",
        "# [ok]",
    ]
    return text + "\n".join(tail) + "\n"


def parse_tblout(text: str, clusters: dict[int, str]) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """The hits of each ORF, keyed `(contig, orf)`, from `hmmscan --tblout` text, read as Virtool reads it.

    Only lines starting `vFam` count. The target `vFam_<cluster>` gives `hit`, the annotation id of the cluster
    in `clusters` (`hmm.selectors.hmm_clusters()`); the query `sequence_<contig>.<orf>` gives the key. Columns 5-10
    become `full_e`, `full_score`, `full_bias`, `best_e`, `best_bias`, `best_score`, as floats: **`best_bias` holds
    the best domain's score and `best_score` its bias**, Virtool's swap, kept because every stored NuVs result
    and Virtool's client read them so.

    A cluster missing from `clusters` (its annotation was replaced while the analysis ran: every installed profile
    is annotated) keeps its hit with `hit: None`, and a warning is logged: the ORF still matched a viral profile,
    which a virologist wants to see, and `hmm.tsv`, kept with the analysis, names the profile. Hits of an ORF keep
    the file's order (best first). A `vFam` line with fewer than 10 fields raises ValueError, as in Virtool.
    """
    found: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith(TARGET_PREFIX):
            continue
        fields = line.split()
        if len(fields) < 10:
            raise ValueError(f"hmmscan table line {number}: expected at least 10 fields, found {len(fields)}")
        try:
            cluster = int(fields[0].split("_")[1])
            contig, orf = (int(part) for part in fields[2].split("_")[1].split("."))
            values = [float(value) for value in fields[4:10]]
        except (IndexError, ValueError):
            raise ValueError(
                f"hmmscan table line {number}: expected a vFam_<cluster> target, a sequence_<contig>.<orf> query "
                f"and numbers in columns 5-10: {line.strip()!r}"
            ) from None
        full_e, full_score, full_bias, best_e, best_bias, best_score = values
        hit = clusters.get(cluster)
        if hit is None:
            log.warning("hmmscan hit of vFam_%d on sequence_%d.%d: the cluster has no annotation", cluster, contig, orf)
        found.setdefault((contig, orf), []).append(
            {
                "hit": hit,
                "full_e": full_e,
                "full_score": full_score,
                "full_bias": full_bias,
                "best_e": best_e,
                "best_bias": best_bias,
                "best_score": best_score,
            }
        )
    return found
