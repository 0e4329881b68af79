"""The `create_sample` workflow: copy the reads in (gzip), check and profile them, finalise the sample."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

from django.db import transaction

from core import seqio
from files.models import Upload
from files.services import uploads_mark_removed
from files.storage import upload_path
from jobs.constants import JobSize
from jobs.workflow import Workflow, register, step
from samples.constants import READS_NAMES
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
