"""Reads for HMMs: the installed data's files and status, the annotations by cluster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from hmm.constants import ANNOTATIONS, PRESSED_SUFFIXES, PROFILES
from hmm.models import HMM, HMMStatus


def hmm_root() -> Path:
    """`<data_path>/hmm`: each install has a folder of its own below it."""
    return Path(settings.DATA_PATH) / "hmm"


@dataclass(frozen=True)
class HMMFiles:
    """The installed HMM data: the profiles (pressed beside them) and the annotations they came with."""

    profiles: Path
    annotations: Path

    @property
    def pressed(self) -> list[Path]:
        """The four files of the pressed database (`hmmpress` output)."""
        return [self.profiles.with_name(self.profiles.name + suffix) for suffix in PRESSED_SUFFIXES]


def hmm_status_get() -> HMMStatus:
    """The status row of the HMM data, created on first use."""
    status, _ = HMMStatus.objects.get_or_create(pk=1)
    return status


def hmm_files() -> HMMFiles | None:
    """The files of the installed, ready HMM data; None when none is installed (or its files are missing)."""
    installed = hmm_status_get().installed
    if not installed or not installed.get("ready") or not installed.get("folder"):
        return None
    folder = hmm_root() / installed["folder"]
    files = HMMFiles(profiles=folder / PROFILES, annotations=folder / ANNOTATIONS)
    if not all(path.is_file() for path in [files.profiles, files.annotations, *files.pressed]):
        return None
    return files


def hmm_installed() -> bool:
    """Whether HMM profiles are installed and ready for NuVs."""
    return hmm_files() is not None


def hmm_clusters() -> dict[int, str]:
    """The annotation id of each installed cluster (a NuVs hit names its HMM by this id)."""
    return dict(HMM.objects.values_list("cluster", "id"))
