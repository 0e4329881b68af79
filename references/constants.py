"""Reference constants."""

from __future__ import annotations

from django.db import models

RIGHTS = ("build", "modify", "modify_otu", "remove")


class DataType(models.TextChoices):
    """What a reference holds."""

    GENOME = "genome"
    BARCODE = "barcode"


# Virtool's OTU schema molecules.
MOLECULES = ("ssRNA+", "ssRNA-", "ssRNA", "dsRNA", "ssDNA", "dsDNA")

# Shortest sequence an imported reference may carry (Virtool's ReferenceSourceData).
MIN_IMPORT_SEQUENCE_LENGTH = 10
