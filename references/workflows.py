"""Jobs that fill a new reference: `import_reference` (from an uploaded file) and `clone_reference`."""

from __future__ import annotations

from files.storage import upload_path
from jobs.constants import JobSize
from jobs.workflow import Workflow, register, step
from references import formats


class ReferenceFillError(Exception):
    """A reference could not be filled; the message says why."""


@register
class ImportReference(Workflow):
    """Create the OTUs, isolates, sequences and `import` history of an uploaded reference file."""

    name = "import_reference"
    task = True
    display_name = "Import reference"
    size = JobSize.SMALL

    @step("Read file", "Read and check the uploaded reference file.")
    def read(self, ctx) -> None:
        from files.models import Upload

        upload = Upload.objects.filter(pk=ctx.args["upload_id"], removed=False).first()
        if upload is None:
            raise ReferenceFillError(f"The upload {ctx.args.get('name')} no longer exists")
        ctx.content = formats.read_reference_file(upload_path(upload.name_on_disk))
        problems = formats.validate(ctx.content)
        if problems:
            raise ReferenceFillError("; ".join(problem["msg"] for problem in problems[:10]))

    @step("Create OTUs", "Insert every OTU with its isolates, sequences and history.")
    def insert(self, ctx) -> None:
        from otus.services import otus_import

        otus_import(
            reference_id=ctx.args["ref_id"],
            otus=ctx.content["otus"],
            method_name="import",
            user=ctx.job.user,
            on_progress=ctx.progress,
        )

    @step("Finalize", "Mark the reference ready and remove the upload.")
    def finalize(self, ctx) -> None:
        from references.services import reference_finish_fill

        reference_finish_fill(reference_id=ctx.args["ref_id"], upload_id=ctx.args["upload_id"])

    def cleanup(self, ctx) -> None:
        from references.services import reference_discard

        reference_discard(reference_id=ctx.args["ref_id"], upload_id=ctx.args["upload_id"])


@register
class CloneReference(Workflow):
    """Copy every OTU of a reference (at its current version) into a new one, with `clone` history."""

    name = "clone_reference"
    task = True
    display_name = "Clone reference"
    size = JobSize.SMALL

    @step("Copy OTUs", "Copy the OTUs, isolates and sequences of the source reference.")
    def copy(self, ctx) -> None:
        from otus.selectors import otus_joined
        from otus.services import otus_import

        otus = [formats.export_otu(joined) for joined in otus_joined(reference_id=ctx.args["source_id"])]
        otus_import(
            reference_id=ctx.args["ref_id"], otus=otus, method_name="clone", user=ctx.job.user, on_progress=ctx.progress
        )

    @step("Finalize", "Mark the reference ready.")
    def finalize(self, ctx) -> None:
        from references.services import reference_finish_fill

        reference_finish_fill(reference_id=ctx.args["ref_id"])

    def cleanup(self, ctx) -> None:
        from references.services import reference_discard

        reference_discard(reference_id=ctx.args["ref_id"])


@register
class RemoteReference(Workflow):
    """Install a reference from a GitHub release: download its file, check it, create the OTUs (history `remote`,
    ids kept as remote ids)."""

    name = "remote_reference"
    task = True
    display_name = "Install remote reference"
    size = JobSize.SMALL

    @step("Download release", "Download the release's reference file from GitHub.")
    def download(self, ctx) -> None:
        from references.services import release_read

        ctx.content = release_read(reference_id=ctx.args["ref_id"], release=ctx.args["release"], progress=ctx.progress)

    @step("Create OTUs", "Insert every OTU with its isolates, sequences and history.")
    def insert(self, ctx) -> None:
        from otus.services import otus_import

        otus_import(
            reference_id=ctx.args["ref_id"],
            otus=ctx.content["otus"],
            method_name="remote",
            user=ctx.job.user,
            on_progress=ctx.progress,
        )

    @step("Finalize", "Mark the release installed and the reference ready.")
    def finalize(self, ctx) -> None:
        from references.services import reference_finish_remote

        reference_finish_remote(reference_id=ctx.args["ref_id"], release_id=ctx.args["release"]["id"])

    def cleanup(self, ctx) -> None:
        from references.services import reference_discard

        reference_discard(reference_id=ctx.args["ref_id"])


@register
class UpdateRemoteReference(Workflow):
    """Bring a remote reference to a newer release: OTUs updated where the release changes them, new ones created,
    ones the release dropped removed, all in one transaction (a failure changes nothing)."""

    name = "update_remote_reference"
    task = True
    display_name = "Update remote reference"
    size = JobSize.SMALL

    @step("Download release", "Download the release's reference file from GitHub.")
    def download(self, ctx) -> None:
        from references.services import release_read

        ctx.content = release_read(reference_id=ctx.args["ref_id"], release=ctx.args["release"], progress=ctx.progress)

    @step("Update OTUs", "Update, create and remove OTUs to match the release, with history.")
    def update(self, ctx) -> None:
        from otus.services import otus_release_apply

        ctx.counts = otus_release_apply(
            reference_id=ctx.args["ref_id"], otus=ctx.content["otus"], user=ctx.job.user, on_progress=ctx.progress
        )

    @step("Finalize", "Mark the release installed.")
    def finalize(self, ctx) -> None:
        from references.services import reference_finish_remote

        reference_finish_remote(reference_id=ctx.args["ref_id"], release_id=ctx.args["release"]["id"])

    def cleanup(self, ctx) -> None:
        from references.services import reference_update_discard

        reference_update_discard(reference_id=ctx.args["ref_id"], release_id=ctx.args["release"]["id"])
