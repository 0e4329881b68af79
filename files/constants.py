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

# Unfinished resumable (tus) uploads are written in this folder of the files folder, one file per upload.
RESUMABLE_FOLDER = ".resumable"

# The tus protocol: the version spoken, the extensions offered and the checksum algorithms of its checksum
# extension (https://tus.io/protocols/resumable-upload).
TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "expiration", "checksum", "termination")
TUS_CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")
# How much of a reads upload must have arrived before its start is checked to be FASTQ.
READS_HEAD_BYTES = 64 * 1024
