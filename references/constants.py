"""Reference constants."""

from __future__ import annotations

from typing import Literal

from django.db import models

# What a member may do with a reference; a member is a user or a group.
Right = Literal["build", "modify", "modify_otu", "remove"]
RIGHTS: tuple[Right, ...] = ("build", "modify", "modify_otu", "remove")
MemberKind = Literal["user", "group"]

# Where references live in the API: Virtool's `/refs` and its later name `/references/v1` (an alias), each with the
# prefix of its URL names. The OTU and index sub-routes of a reference are mounted under both.
API_PREFIXES = (("refs", "refs"), ("references/v1", "references-v1"))
API_ALIAS = "references/v1"


class DataType(models.TextChoices):
    """What a reference holds."""

    GENOME = "genome"
    BARCODE = "barcode"


# Virtool's OTU schema molecules.
MOLECULES = ("ssRNA+", "ssRNA-", "ssRNA", "dsRNA", "ssDNA", "dsDNA")

# Shortest sequence an imported reference may carry (Virtool's ReferenceSourceData).
MIN_IMPORT_SEQUENCE_LENGTH = 10
