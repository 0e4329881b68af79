"""Upload types and the file names Virtool accepts."""

from __future__ import annotations

from django.db import models


class UploadType(models.TextChoices):
    """What an upload is for (Virtool's `type`)."""

    READS = "reads", "Reads"
    REFERENCE = "reference", "Reference"
    SUBTRACTION = "subtraction", "Subtraction"
    HMM = "hmm", "HMM"


# Sequencer output the watch folder imports (Virtool 2019 FILE_EXTENSION_FILTER).
FASTQ_EXTENSIONS = (".fq", ".fastq", ".fq.gz", ".fastq.gz")

# Uploads are written under this prefix in the files folder until complete, then renamed.
PARTIAL_PREFIX = ".partial-"
