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
    # PathoScope's evidence (analyses.pathoscope.evidence): the alignments behind each hit OTU, their consensus.
    "evidence.bam": ResultFile(
        "bam", "Alignments of the reads the EM assigned to each OTU, on that OTU's sequences (sorted, indexed)"
    ),
    "evidence.bam.bai": ResultFile("unknown", "Index of evidence.bam"),
    "consensus.fa.gz": ResultFile(
        "fasta", "Consensus of each sequence of the hit OTUs from evidence.bam; positions of low depth as N"
    ),
}

# PathoScope's reads of each hit OTU: `reads_<otu id>.fq.gz` in the analysis folder.
OTU_READS_FILE = "reads_{otu_id}.fq.gz"
OTU_READS_DESCRIPTION = "Reads the EM assigned to OTU {otu_id} (FASTQ, as sequenced)"

# The consensus of a hit OTU's sequence calls a base only where at least this many alignments of reads assigned to
# the OTU cover the position (samtools consensus -m simple -d); shallower positions, and positions where fewer
# than 75 % of the bases agree (samtools' default call fraction), are N.
CONSENSUS_MIN_DEPTH = 3

# The evidence BAM's depth cap (analyses.pathoscope.evidence): of the alignments starting in each CAP_WINDOW bases of a
# sequence, the first CAP_PER_WINDOW are kept (IGV's default downsampling is 100 reads per 50 bases).
CAP_WINDOW = 50
CAP_PER_WINDOW = 100

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

# What each figure of a PathoScope result means, in one sentence (the result page's column titles and legend).
PATHOSCOPE_HELP: dict[str, str] = {
    "call": (
        "Detected, not detected or indeterminate, from the reference's call rules: detected meets every rule, not "
        "detected has no reads or a weight below the floor, indeterminate has evidence short of a rule."
    ),
    "weight": (
        "PathoScope's estimate (pi) of the share of the score-weighted reads that belong to this virus: the main "
        "ranking; tiny weights are written like 3.2e-7."
    ),
    "best": "The share of all mapped reads whose single most likely reference is this virus.",
    "reads": "Reads whose most likely reference is this virus, and their share of every read of the sample.",
    "depth": (
        "How many reads cover a typical position: the median over the genome's positions, which a pile of reads on "
        "one spot does not raise."
    ),
    "coverage": (
        "The fraction of the genome that at least one read covers (the best-covered isolate; each segment in the "
        "details)."
    ),
}
