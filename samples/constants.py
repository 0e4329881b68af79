"""Sample library types and read file names."""

from __future__ import annotations

from django.db import models


class LibraryType(models.TextChoices):
    """Virtool's library types."""

    NORMAL = "normal", "Normal"
    SRNA = "srna", "Small RNA"
    AMPLICON = "amplicon", "Amplicon"
    OTHER = "other", "Other"


READS_NAMES = ("reads_1.fq.gz", "reads_2.fq.gz")

# Names older Virtool releases gave a sample's reads (2019: uncompressed `reads_1.fastq`); `update_sample`
# replaces them by READS_NAMES. Mate order is the number in the name.
LEGACY_READS_NAMES = (
    ("reads_1.fastq", "reads_1.fq", "reads_1.fastq.gz", "reads_1.fq.gz"),
    ("reads_2.fastq", "reads_2.fq", "reads_2.fastq.gz", "reads_2.fq.gz"),
)

# Virtool's own keys of a quality report: one lacking any of them was made by an older release.
VIRTOOL_QUALITY_KEYS = ("bases", "composition", "count", "encoding", "gc", "length", "sequences")
SORT_FIELDS = {"name": "name", "-name": "-name", "created_at": "created_at", "-created_at": "-created_at"}

# Free-text limits (characters); Virtool sets none. Notes are read only on a sample's own page; a label's
# description goes out with every label on every sample of every list.
NOTES_MAX_LENGTH = 50_000
LABEL_DESCRIPTION_MAX_LENGTH = 1000

# The quality document's keys, in Virtool's order.
QUALITY_KEYS = (
    "bases",
    "composition",
    "count",
    "encoding",
    "gc",
    "length",
    "sequences",
    # Beyond Virtool's document: FastQC's per-sequence GC content and its theoretical curve (absent from reports
    # made before they were counted).
    "gc_distribution",
    "gc_theoretical",
)


class WorkflowState(models.TextChoices):
    """Where a sample stands with one workflow (Virtool's sample `workflows`)."""

    NONE = "none", "None"
    PENDING = "pending", "Pending"
    COMPLETE = "complete", "Complete"
    INCOMPATIBLE = "incompatible", "Incompatible"


# The keys of a sample's `workflows` and the analysis workflow each one counts (Virtool's names).
SAMPLE_WORKFLOWS = {"aodp": "aodp", "iimi": "iimi", "nuvs": "nuvs", "pathoscope": "pathoscope_bowtie"}

# Amplicon libraries allow only AODP; every other library type allows all but AODP.
AMPLICON_WORKFLOWS = frozenset({"aodp"})

# The sample list's `workflows` filter: `pathoscope:ready`, matched as Virtool matches its legacy tags.
WORKFLOW_CONDITIONS = ("none", "pending", "ready")
WORKFLOW_FILTER_KEYS = ("nuvs", "pathoscope")
