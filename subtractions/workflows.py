"""The `create_subtraction` job: check and count the host FASTA, keep it gzip-compressed, build its index."""

from __future__ import annotations

from core import seqio
from files.models import Upload
from files.storage import upload_path
from jobs.constants import JobSize
from jobs.workflow import Workflow, register, step
from subtractions.constants import BOWTIE2_FILES
from subtractions.models import Subtraction
from subtractions.selectors import subtractions_path


class SubtractionError(Exception):
    """The upload cannot make a subtraction; the message says which file and why."""


def gc_proportions(counts: dict[str, int]) -> dict[str, float]:
    """Virtool's `gc`: each of a, c, g, t, n over the sum of those five, rounded half-to-even to 3 decimals."""
    total = sum(counts[letter] for letter in "acgtn")
    return {letter: round(counts[letter] / total, 3) if total else 0.0 for letter in "acgtn"}


@register
class CreateSubtraction(Workflow):
    """Virtool's create_subtraction: small job."""

    name = "create_subtraction"
    display_name = "Create subtraction"
    size = JobSize.SMALL

    def _upload(self, ctx) -> Upload:
        entry = ctx.args["files"][0]
        upload = Upload.objects.filter(pk=entry["id"], removed=False).first()
        if upload is None:
            raise SubtractionError(f"The upload {entry['name']} no longer exists")
        if not Subtraction.objects.filter(pk=ctx.args["subtraction_id"]).exists():
            raise SubtractionError("The subtraction was deleted while it was being created")
        return upload

    @step("Check FASTA", "Check the genome FASTA, count its sequences and bases, and store it gzip-compressed.")
    def check(self, ctx) -> None:
        upload = self._upload(ctx)
        folder = subtractions_path(ctx.args["subtraction_id"])
        folder.mkdir(parents=True, exist_ok=True)
        source = upload_path(upload.name_on_disk)
        size = max(1, source.stat().st_size)
        try:
            # One pass: check and count the genome while its exact bytes are stored gzip-compressed.
            with seqio.open_gzip_write(folder / "subtraction.fa.gz") as target:
                scan = seqio.fasta_scan(
                    source, copy_to=target, on_progress=lambda done: ctx.progress(min(done, size), size)
                )
        except seqio.SequenceFormatError as error:
            raise SubtractionError(f"{upload.name} is not a usable genome FASTA: {error}") from None
        ctx.count = scan.records
        ctx.gc = gc_proportions(scan.counts)

    @step("Build index", "Build the bowtie2 index of the genome.")
    def bowtie_build(self, ctx) -> None:
        folder = subtractions_path(ctx.args["subtraction_id"])
        ctx.run(
            ["bowtie2-build", "--threads", str(ctx.proc), "subtraction.fa.gz", "subtraction"],
            cwd=folder,
        )
        missing = [name for name in BOWTIE2_FILES if not (folder / name).exists()]
        if missing:
            raise SubtractionError(f"bowtie2-build did not write {', '.join(missing)}")

    @step("Finalize", "Store the statistics and mark the subtraction ready.")
    def finalize(self, ctx) -> None:
        from subtractions.services import subtraction_finish

        subtraction_finish(
            subtraction_id=ctx.args["subtraction_id"],
            count=ctx.count,
            gc=ctx.gc,
            upload_id=ctx.args["files"][0]["id"],
        )

    def cleanup(self, ctx) -> None:
        from subtractions.services import subtraction_discard

        subtraction_discard(subtraction_id=ctx.args["subtraction_id"], upload_id=ctx.args["files"][0]["id"])
