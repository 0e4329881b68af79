"""Analysis result files and NCBI BLAST constants."""

from __future__ import annotations

from typing import NamedTuple


class ResultFile(NamedTuple):
    """A file a workflow leaves in the analysis folder, as `analysis_files` lists it."""

    format: str
    description: str


# The result files recorded with an analysis when present in its folder (NuVs' three; Virtool's names).
RESULT_FILES: dict[str, ResultFile] = {
    "assembly.fa.gz": ResultFile("fasta", "Contigs assembled by SPAdes from the reads left after elimination"),
    "orfs.fa.gz": ResultFile("fasta", "Protein translations of the contigs' open reading frames"),
    "hmm.tsv": ResultFile("tsv", "HMM hits of the ORFs against the installed profile HMMs (hmmscan table)"),
}

# Virtool's BLAST search of a NuVs contig (virtool/blast/utils.py): megablast against nr, five hits.
BLAST_PUT_PARAMS: dict[str, str] = {
    "CMD": "Put",
    "DATABASE": "nr",
    "PROGRAM": "blastn",
    "MEGABLAST": "on",
    "HITLIST_SIZE": "5",
    "EXPECT": "1000",
    "FILTER": "mL",
    "FORMAT_TYPE": "JSON2",
}
