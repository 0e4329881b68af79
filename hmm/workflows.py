"""The `install_hmms` job (Virtool's task of that name): HMM data from a release archive, with progress.

The archive is a release of the `hmm_slug` repository (downloaded from GitHub by the first step) or an uploaded one.
Steps: get the archive, take the two files out of it, check them, press the profiles into a folder of the job's
own, then swap the annotations in one transaction. Until that swap the installed HMMs are untouched; a failure, a
cancellation or a dead worker removes the job's files and gives the upload back (`cleanup`).
"""

from __future__ import annotations

from pathlib import Path

from core.github import GitHubError, asset_download
from files.models import Upload
from files.storage import upload_path
from hmm.archive import archive_extract
from hmm.constants import INSTALL_WORKFLOW
from hmm.errors import HMMFileError
from hmm.selectors import install_folder
from jobs.constants import JobSize
from jobs.workflow import Workflow, register, step


class HMMInstallError(Exception):
    """The HMM data cannot be installed; the message says why in a scientist's words."""


def _explained(error: HMMFileError) -> HMMInstallError:
    """The file error with its first problems spelled out (a job shows one message, not the API's list)."""
    problems = [
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}" for problem in (error.errors or [])[:5]
    ]
    more = len(error.errors or []) - len(problems)
    detail = f" ({'; '.join(problems)}{f'; and {more} more' if more > 0 else ''})" if problems else ""
    return HMMInstallError(f"{error.message}{detail}")


@register
class InstallHMMs(Workflow):
    """Install the HMM profiles and annotations of a release archive (from GitHub or uploaded): small job."""

    name = INSTALL_WORKFLOW
    task = True
    display_name = "Install HMMs"
    size = JobSize.SMALL

    @step("Download", "Download the release archive from GitHub; an uploaded archive is taken where it is.")
    def download(self, ctx) -> None:
        release = ctx.args.get("release")
        if release:
            filename = Path(release.get("filename") or "").name or "vthmm.tar.gz"
            try:
                ctx.archive = asset_download(
                    release["download_url"], ctx.work_path / "download" / filename, progress=ctx.progress
                )
            except GitHubError as error:
                raise HMMInstallError(
                    f"The release {release.get('name') or filename} could not be downloaded from GitHub: {error}"
                ) from None
            ctx.label = filename
            return
        upload = Upload.objects.filter(pk=ctx.args["upload_id"], removed=False).first()
        if upload is None:
            raise HMMInstallError(f"The upload {ctx.args.get('name')} no longer exists")
        ctx.archive, ctx.label = upload_path(upload.name_on_disk), upload.name

    @step("Decompress", "Take the profiles and the annotations out of the release archive.")
    def decompress(self, ctx) -> None:
        try:
            ctx.sources = archive_extract(
                path=ctx.archive, label=ctx.label, target=ctx.work_path / "unpacked", progress=ctx.progress
            )
        except HMMFileError as error:
            raise _explained(error) from None

    @step("Check files", "Read the annotations and the profiles, and check that every profile is annotated.")
    def check_files(self, ctx) -> None:
        from hmm.services import hmm_files_check

        try:
            ctx.data = hmm_files_check(
                profiles=ctx.sources.profiles, annotations=ctx.sources.annotations, progress=ctx.progress
            )
        except HMMFileError as error:
            raise _explained(error) from None

    @step("Install profiles", "Press the profiles into the database NuVs searches, in a folder of their own.")
    def install_profiles(self, ctx) -> None:
        from hmm.services import hmm_files_press

        hmm_files_press(data=ctx.data, profiles=ctx.sources.profiles, folder=install_folder(ctx.job.pk))

    @step("Import annotations", "Replace the installed annotations and profiles with the new ones, in one step.")
    def import_annotations(self, ctx) -> None:
        from hmm.services import hmm_files_activate, hmm_install_finish

        release = ctx.args.get("release")
        name = ctx.args.get("name") or ""
        installed = (
            {key: value for key, value in release.items() if key != "download_url"}
            if release
            else {"name": name, "filename": name, "size": ctx.args.get("size"), "source": "upload"}
        )
        hmm_files_activate(
            data=ctx.data, folder=install_folder(ctx.job.pk), user=ctx.job.user, installed=installed, job_id=ctx.job.pk
        )
        if not release:
            hmm_install_finish(upload_id=ctx.args["upload_id"])

    def cleanup(self, ctx) -> None:
        from hmm.services import hmm_install_discard

        hmm_install_discard(job_id=ctx.job.pk, upload_id=ctx.args.get("upload_id"))
