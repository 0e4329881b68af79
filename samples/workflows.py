"""The `create_sample` workflow: copy the reads in (gzip), check and profile them, finalise the sample; and
`update_sample`, which brings a legacy sample's reads into today's form."""

from __future__ import annotations

import errno
import os
import shutil
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from django.db import transaction

from core import seqio
from files.models import Upload
from files.services import uploads_mark_removed
from files.storage import upload_path
from jobs.constants import JobSize
from jobs.workflow import Workflow, register, step
from samples.constants import READS_NAMES, LibraryType
from samples.models import Sample
from samples.quality import PairError, QualityError, composite_quality, file_quality, pair_quality
from samples.selectors import samples_path


class SampleCreationError(Exception):
    """A read file cannot make a sample; the message says which file and why."""


@register
class CreateSample(Workflow):
    """Virtool's create_sample: small job."""

    name = "create_sample"
    display_name = "Create sample"
    size = JobSize.SMALL

    def _sample(self, ctx) -> Sample:
        sample = Sample.objects.filter(pk=ctx.args["sample_id"]).first()
        if sample is None:
            raise SampleCreationError("The sample was deleted while it was being created")
        return sample

    @step("Copy reads", "Copy the uploaded reads into the sample's folder, compressing them with gzip.")
    def copy_files(self, ctx) -> None:
        sample = self._sample(ctx)
        folder = samples_path(sample.pk)
        folder.mkdir(parents=True, exist_ok=True)
        for index, entry in enumerate(ctx.args["files"]):
            upload = Upload.objects.filter(pk=entry["id"], removed=False).first()
            if upload is None:
                raise SampleCreationError(f"The upload {entry['name']} no longer exists")
            source = upload_path(upload.name_on_disk)
            target = folder / READS_NAMES[index]
            if seqio.is_gzip(source):
                shutil.copyfile(source, target)
            else:
                seqio.gzip_copy(source, target, on_chunk=lambda _done: ctx.check())
            ctx.progress(index + 1, len(ctx.args["files"]))

    @step(
        "Check reads",
        "Validate the reads as FASTQ (a pair: as many reads in each file, mates named alike) and "
        "compute the quality report (FastQC's numbers).",
    )
    def quality(self, ctx) -> None:
        sample = self._sample(ctx)
        folder = samples_path(sample.pk)
        total = sum(entry.get("size", 0) for entry in ctx.args["files"]) or 1
        expected = max(1, total // 60)  # about 60 compressed bytes per read: enough for a moving bar
        entries = ctx.args["files"]
        if len(entries) == 2:
            # Both files side by side in one pass: the pair is checked while the reports are computed.
            try:
                left, right = pair_quality(
                    [folder / READS_NAMES[0], folder / READS_NAMES[1]],
                    names=(entries[0]["name"], entries[1]["name"]),
                    on_progress=lambda count: ctx.progress(count, expected),
                )
            except PairError as error:
                raise SampleCreationError(str(error)) from None
            except QualityError as error:
                raise SampleCreationError(self._named(str(error), entries)) from None
            ctx.quality = composite_quality(left, right)
            return
        try:
            ctx.quality = file_quality(folder / READS_NAMES[0], on_progress=lambda count: ctx.progress(count, expected))
        except QualityError as error:
            raise SampleCreationError(f"{entries[0]['name']}: {error}") from None

    @staticmethod
    def _named(message: str, entries: list[dict]) -> str:
        """A file's error with the name the user uploaded it under in front (the message names the stored copy)."""
        for index, entry in enumerate(entries):
            if message.startswith(READS_NAMES[index]):
                return f"{entry['name']}: {message}"
        return message

    @step("Finalize", "Mark the sample ready and remove the uploads it was made from.")
    def finalize(self, ctx) -> None:
        with transaction.atomic():
            sample = self._sample(ctx)
            sample.quality = ctx.quality
            sample.ready = True
            sample.save(update_fields=["quality", "ready"])
        uploads_mark_removed(upload_ids=[entry["id"] for entry in ctx.args["files"]], delete_files=True)

    def cleanup(self, ctx) -> None:
        from samples.services import sample_fail

        sample_fail(sample_id=ctx.args["sample_id"])


def _copied(ctx, before: int, total: int, copied: int) -> None:
    """Progress of a compression: `copied` bytes of this file after `before` bytes of the files before it."""
    ctx.progress(before + copied, total)


class SampleUpdateError(Exception):
    """A legacy sample's reads cannot be brought into today's form; the message says which file and why."""


@register
class UpdateSample(Workflow):
    """Virtool 2019's update_sample (small job): a legacy sample's reads compressed and renamed to today's names,
    profiled again with the FastQC-exact code, its `srna` flag translated into `library_type`. Its analyses stay.

    The new files are written to the job's work folder first: the old ones are replaced only once every new file
    is complete and its quality computed, so a failure or a cancellation at any point leaves the sample as it was.
    """

    name = "update_sample"
    display_name = "Update sample"
    size = JobSize.SMALL

    def _sample(self, ctx) -> Sample:
        sample = Sample.objects.filter(pk=ctx.args["sample_id"]).first()
        if sample is None:
            raise SampleUpdateError("The sample was removed while it was being updated")
        if not sample.is_legacy:
            raise SampleUpdateError("The sample's reads are already in today's form: there is nothing to update")
        return sample

    @staticmethod
    def _sources(sample: Sample) -> list[Path]:
        folder = samples_path(sample.pk)
        names = [entry["name"] for entry in sample.files]
        if not names:
            raise SampleUpdateError(
                "The sample lists no read files: it was imported without them, so it cannot be updated"
            )
        missing = [name for name in names if not (folder / name).is_file()]
        if missing:
            raise SampleUpdateError(
                f"The read file{'s' if len(missing) > 1 else ''} {', '.join(missing)} of this sample "
                f"{'are' if len(missing) > 1 else 'is'} missing from its folder: import the sample's reads again"
            )
        return [folder / name for name in names]

    @step(
        "Compress reads",
        "Compress the sample's old read files with gzip under today's names (reads_1.fq.gz, reads_2.fq.gz), "
        "beside the old ones, which stay until the new ones are complete.",
    )
    def copy_files(self, ctx) -> None:
        sources = self._sources(self._sample(ctx))
        total = sum(source.stat().st_size for source in sources) or 1
        done = 0
        for index, source in enumerate(sources):
            target = ctx.work_path / READS_NAMES[index]
            try:
                if seqio.is_gzip(source):
                    shutil.copyfile(source, target)
                else:
                    seqio.gzip_copy(source, target, on_chunk=partial(_copied, ctx, done, total))
            except OSError as error:
                if error.errno == errno.ENOSPC:
                    raise SampleUpdateError(
                        f"The disk is full: {source.name} could not be compressed. Free some space and update the "
                        "sample again; its old files are untouched"
                    ) from None
                raise SampleUpdateError(f"{source.name} could not be read or compressed: {error.strerror}") from None
            done += source.stat().st_size
            ctx.progress(done, total)

    @step(
        "Check reads",
        "Validate the compressed reads as FASTQ (a pair: as many reads in each file, mates named alike) and "
        "compute the quality report again (FastQC's numbers).",
    )
    def quality(self, ctx) -> None:
        sample = self._sample(ctx)
        names = [entry["name"] for entry in sample.files]
        paths = [ctx.work_path / READS_NAMES[index] for index in range(len(names))]
        total = sum(path.stat().st_size for path in paths) or 1
        expected = max(1, total // 60)  # about 60 compressed bytes per read, as create_sample guesses
        try:
            if len(paths) == 2:
                left, right = pair_quality(
                    paths, names=(names[0], names[1]), on_progress=lambda count: ctx.progress(count, expected)
                )
                ctx.quality = composite_quality(left, right)
            else:
                ctx.quality = file_quality(paths[0], on_progress=lambda count: ctx.progress(count, expected))
        except PairError as error:
            raise SampleUpdateError(str(error)) from None
        except QualityError as error:
            message = str(error)
            for index, name in enumerate(names):
                # The message names the compressed copy; the scientist knows the file by its old name.
                if message.startswith(READS_NAMES[index]):
                    message = name + message[len(READS_NAMES[index]) :]
            if not any(message.startswith(name) for name in names):
                message = f"{names[0]}: {message}"
            raise SampleUpdateError(message) from None

    @step(
        "Replace old files",
        "Put the compressed reads in place of the old files, store the new quality report and the library type, "
        "and remove the old files.",
    )
    def replace_old(self, ctx) -> None:
        folder = samples_path(ctx.args["sample_id"])
        with transaction.atomic():
            sample = Sample.objects.select_for_update().filter(pk=ctx.args["sample_id"]).first()
            if sample is None:
                raise SampleUpdateError("The sample was removed while it was being updated")
            old = [folder / entry["name"] for entry in sample.files]
            for index in range(len(old)):
                # Same file system (the data folder): each rename is atomic, an old file of the same name is
                # replaced only by its complete, checked successor.
                os.replace(ctx.work_path / READS_NAMES[index], folder / READS_NAMES[index])
            sample.quality = ctx.quality
            if sample.srna is not None:
                # Virtool's own translation of the 2019 flag.
                sample.library_type = LibraryType.SRNA if sample.srna else LibraryType.NORMAL
            sample.srna = None
            sample.files = []
            sample.paired = len(old) == 2
            sample.is_legacy = False
            sample.ready = True
            sample.save(update_fields=["quality", "library_type", "srna", "files", "paired", "is_legacy", "ready"])
        for path in old:
            if path.name not in READS_NAMES:
                path.unlink(missing_ok=True)

    def cleanup(self, ctx) -> None:
        # The compressed copies are in the work folder, which the runner removes; the old files were not touched.
        # The sample stays legacy, and its list entry shows the job's error.
        from core import events

        if Sample.objects.filter(pk=ctx.args["sample_id"]).exists():
            events.dispatch(interface="samples", operation="update", ids=[ctx.args["sample_id"]])


def reads_files(sample: Sample) -> list[dict]:
    """Virtool's computed `reads` of a sample."""
    folder = samples_path(sample.pk)
    out = []
    for name in READS_NAMES[: 2 if sample.paired else 1]:
        path = folder / name
        if path.exists():
            stat = path.stat()
            out.append(
                {
                    "name": name,
                    "name_on_disk": name,
                    "size": stat.st_size,
                    "uploaded_at": datetime.fromtimestamp(stat.st_mtime, tz=UTC).isoformat(),
                    "download_url": f"/api/samples/{sample.pk}/reads/{name}",
                }
            )
    return out
