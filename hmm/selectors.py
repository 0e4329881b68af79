"""Reads for HMMs: the installed data's files and status, the annotations by cluster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Q, QuerySet

from core.errors import NotFound
from hmm.constants import ANNOTATIONS, PRESSED_SUFFIXES, PROFILE_PREFIX, PROFILES
from hmm.models import HMM, HMMStatus
from jobs.constants import ACTIVE_STATES
from jobs.models import Job

# Clusters are stored as 32-bit integers; a longer number cannot be one.
CLUSTER_MAX = 2**31 - 1


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


def hmm_list(*, find: str = "") -> QuerySet[HMM]:
    """Annotations in cluster order, without hidden ones; `find` matches names and families, or a cluster number."""
    queryset = HMM.objects.filter(hidden=False).order_by("cluster")
    term = find.strip()
    if not term:
        return queryset
    condition = Q(search__icontains=term)
    number = term.removeprefix(PROFILE_PREFIX)
    if number.isascii() and number.isdigit() and int(number) <= CLUSTER_MAX:  # "4²" is a digit, not a number
        condition |= Q(cluster=int(number))
    return queryset.filter(condition)


def hmm_list_total() -> QuerySet[HMM]:
    """Every annotation a list counts in `total_count`."""
    return HMM.objects.filter(hidden=False)


def hmm_get(*, hmm_id: str) -> HMM:
    """One annotation, or 404."""
    hmm = HMM.objects.filter(pk=hmm_id).first()
    if hmm is None:
        raise NotFound()
    return hmm


def hmm_install_job(*, status: HMMStatus | None = None) -> Job | None:
    """The install job that is waiting or running now, if any."""
    job_id = (status or hmm_status_get()).job_id
    if not job_id:
        return None
    return Job.objects.filter(pk=job_id, state__in=ACTIVE_STATES).first()


def hmm_status_queryset() -> QuerySet[HMMStatus]:
    """The status row with the install job and its user, as documents show them."""
    return HMMStatus.objects.select_related("job", "job__user", "job__virtool_task")


def hmm_status_read() -> HMMStatus:
    """The status row with its install job, ready for the status document."""
    return hmm_status_queryset().get(pk=hmm_status_get().pk)


def install_folder(job_id: str) -> str:
    """The folder (under `hmm_root()`) an install job presses its profiles into, so its cleanup can find it."""
    return f"job-{job_id}"
