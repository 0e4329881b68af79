"""The evidence behind a PathoScope hit: which alignments support each OTU, its reads, its consensus.

Definition (documented in the README): a read is *assigned* to an OTU when one of its final best hits is a
sequence of that OTU. A read's final best hits are the references `compute_best_hit` gives it to after the EM
(`em(..., assignment=True)`'s `best_records`): its one reference for a unique read, every reference whose final
posterior x equals the read's maximum for a multi-mapping read (ties share the read, as in the best-hit counts).

For each OTU in the report this keeps, from the isolate alignments that survived subtraction and the score
cut-off, every alignment of an assigned read to any sequence of that OTU (all isolates, not only the best-hit
sequence, so that the consensus of the best isolate sees all the OTU's reads). Those records make the evidence
BAM; the first record of each (read, OTU) pair gives the read's FASTQ record (the read as sequenced: reverse
strand alignments are turned back), so each assigned read is written once per OTU.

Depth cap (as genome browsers downsample, IGV's default being 100 reads per 50-base window): the evidence BAM keeps,
of the selected records starting in each `window` bases of a sequence, the first `per_window` in file order (bowtie2
writes reads in input order, which has nothing to do with position, so this is an even sample). Where fewer start
there, every record is kept, so a sequence of ordinary depth loses nothing and its consensus is exact; where a
virus is sequenced to thousands-fold depth, the BAM and the consensus made from it stay at a few hundred-fold
(at most `per_window` * (read length / `window` + 1)), and `samtools sort` and `samtools consensus`, whose time
grows faster than the depth, stay in proportion. The FASTQ of each OTU keeps every assigned read.

Pure computation and file writing: no Django, no database. Memory: a few bytes per alignment record (masks and
keys over the arrays `read_sam` already holds); reads are streamed from the SAM file, never held.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from analyses.constants import CAP_PER_WINDOW, CAP_WINDOW
from analyses.pathoscope.sam import Alignments
from core import seqio

_COMPLEMENT = bytes.maketrans(b"ACGTNacgtn", b"TGCANtgcan")


@dataclass
class Evidence:
    """Which alignment records support which reported OTU."""

    selected: np.ndarray  # bool per record: an alignment of a read assigned to the record's OTU
    emit: np.ndarray  # bool per record: the first selected record of its (read, OTU) pair, written to FASTQ
    record_otu: np.ndarray  # int per record: index into `otu_ids`, -1 for none
    otu_ids: list[str]
    reads: dict[str, int] = field(default_factory=dict)  # assigned reads per reported OTU
    shared: dict[str, int] = field(default_factory=dict)  # of those, reads also assigned to another OTU
    # bool per record: goes into the evidence BAM (the selected records, depth-capped); None: every selected one
    in_bam: np.ndarray | None = None
    capped: int = 0  # selected records left out of the BAM by the depth cap


def depth_capped(alignments: Alignments, selected: np.ndarray, *, window: int, per_window: int) -> np.ndarray:
    """Of the `selected` records, the first `per_window` (in file order) starting in each `window` bases of each
    reference; all of them where fewer start there."""
    where = np.flatnonzero(selected)
    if not len(where):
        return selected.copy()
    bins = int(alignments.pos[where].max()) // window + 1
    key = alignments.ref[where].astype(np.int64) * bins + alignments.pos[where] // window
    order = np.argsort(key, kind="stable")  # stable: file order within a window
    key = key[order]
    first = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    del key
    rank = np.arange(len(order)) - np.repeat(first, np.diff(np.append(first, len(order))))
    kept = np.zeros(len(selected), dtype=bool)
    kept[where[order[rank < per_window]]] = True
    return kept


def evidence_select(
    alignments: Alignments,
    *,
    best_records: np.ndarray,
    sequence_otu: dict[str, str],
    reported: set[str],
    keep: np.ndarray | None = None,
    cutoff: float,
    window: int = CAP_WINDOW,
    per_window: int | None = CAP_PER_WINDOW,
) -> Evidence:
    """The records of the reads assigned to each reported OTU on that OTU's sequences, and those of them the
    evidence BAM keeps under the depth cap (`per_window` None: no cap); see the module doc."""
    otu_ids = sorted(set(sequence_otu.values()))
    otu_index = {otu_id: i for i, otu_id in enumerate(otu_ids)}
    n_otus = max(len(otu_ids), 1)
    ref_otu = np.array([otu_index.get(sequence_otu.get(name, ""), -1) for name in alignments.ref_names], np.int64)
    record_otu = ref_otu[alignments.ref] if len(ref_otu) else np.zeros(0, np.int64)
    key = alignments.read.astype(np.int64) * n_otus + record_otu
    # (read, OTU) pairs of every best hit, over all OTUs (to know which reads are shared between OTUs).
    best_keys = np.unique(key[best_records & (record_otu >= 0)])
    best_read = best_keys // n_otus
    best_otu = best_keys % n_otus
    per_read = np.bincount(best_read, minlength=len(alignments.read_names)) if len(best_read) else np.zeros(0, int)
    pair_shared = per_read[best_read] > 1 if len(best_read) else np.zeros(0, bool)
    is_reported = np.array([otu_id in reported for otu_id in otu_ids] or [False])

    usable = (alignments.score > cutoff) & (record_otu >= 0)
    if keep is not None:
        usable &= keep
    usable &= is_reported[np.maximum(record_otu, 0)]
    selected = usable & np.isin(key, best_keys)
    where = np.flatnonzero(selected)
    _, first = np.unique(key[where], return_index=True)
    emit = np.zeros(len(alignments), dtype=bool)
    emit[where[first]] = True

    counts = np.bincount(best_otu, minlength=n_otus)
    shared = np.bincount(best_otu, weights=pair_shared, minlength=n_otus)
    in_bam = None if per_window is None else depth_capped(alignments, selected, window=window, per_window=per_window)
    return Evidence(
        selected=selected,
        emit=emit,
        record_otu=record_otu,
        otu_ids=otu_ids,
        reads={otu_id: int(counts[i]) for i, otu_id in enumerate(otu_ids) if otu_id in reported},
        shared={otu_id: int(shared[i]) for i, otu_id in enumerate(otu_ids) if otu_id in reported},
        in_bam=in_bam,
        capped=0 if in_bam is None else int(selected.sum() - in_bam.sum()),
    )


def _record_kept(fields: list[bytes]) -> bool:
    """Whether `read_sam` keeps this record (mapped, with a reference and an AS:i tag): the same record numbering."""
    if len(fields) < 12 or int(fields[1]) & 4 or fields[2] == b"*":
        return False
    tags = fields[11]
    return tags.startswith(b"AS:i:") or b"\tAS:i:" in tags


def fastq_record(fields: list[bytes]) -> bytes:
    """The read of a SAM record as FASTQ, as sequenced (reverse-strand records are reverse complemented)."""
    seq, qual = fields[9], fields[10]
    if qual == b"*":
        qual = b"I" * len(seq)
    if int(fields[1]) & 16:
        seq = seq.translate(_COMPLEMENT)[::-1]
        qual = qual[::-1]
    return b"@" + fields[0] + b"\n" + seq + b"\n+\n" + qual.rstrip(b"\r\n") + b"\n"


def write_evidence(sam: Path | BinaryIO, evidence: Evidence, *, sam_out: Path, fastq_path: dict[str, Path]) -> int:
    """Stream `sam` (a path, or a binary stream such as `samtools view -h`'s stdout) once: the header and the
    records the BAM keeps (`evidence.in_bam`) to `sam_out`, each assigned read once to its OTU's FASTQ (gzip,
    `fastq_path[otu_id]`; empty for an OTU without reads). Returns the records written to `sam_out`.

    Records are numbered as `read_sam` numbers them; a SAM that does not give the same count is an error.
    """
    written = 0
    index = 0
    selected, emit, record_otu = evidence.selected, evidence.emit, evidence.record_otu
    in_bam = selected if evidence.in_bam is None else evidence.in_bam
    name = sam.name if isinstance(sam, Path) else "the SAM stream"
    with ExitStack() as stack, sam_out.open("wb") as out:
        source = stack.enter_context(sam.open("rb")) if isinstance(sam, Path) else sam
        handles: dict[int, BinaryIO] = {}
        for line in source:
            if line[:1] == b"@":
                out.write(line)
                continue
            if not line.strip():
                continue
            fields = line.split(b"\t", 11)
            if not _record_kept(fields):
                continue
            if index >= len(selected):
                raise ValueError(f"{name} has more records than were read from it")
            if selected[index]:
                if in_bam[index]:
                    out.write(line)
                    written += 1
                if emit[index]:
                    otu = int(record_otu[index])
                    handle = handles.get(otu)
                    if handle is None:
                        target = fastq_path[evidence.otu_ids[otu]]
                        handle = handles[otu] = stack.enter_context(seqio.open_gzip_write(target, threads=0))
                    handle.write(fastq_record(fields))
            index += 1
        for otu_id, target in fastq_path.items():  # an OTU hit without a read of its own: an empty FASTQ
            if otu_id in evidence.otu_ids and evidence.otu_ids.index(otu_id) not in handles:
                with seqio.open_gzip_write(target, threads=0):
                    pass
    if index != len(selected):
        raise ValueError(f"{name} has {index} records, {len(selected)} were read from it")
    return written


def consensus_sequences(path: Path) -> dict[str, str]:
    """The sequences of a FASTA file written by `samtools consensus`, by id."""
    return {record.name.split()[0]: record.sequence for record in seqio.read_fasta(path)}
