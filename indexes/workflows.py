"""The `build_index` job: FASTA of the default isolates at the manifest versions, then bowtie2-build."""

from __future__ import annotations

from core import seqio
from indexes.constants import BOWTIE2_FILES
from indexes.models import Index
from indexes.selectors import index_path, manifest_otus
from jobs.constants import JobSize
from jobs.workflow import Workflow, register, step
from references import formats


class IndexBuildError(Exception):
    """The index cannot be built; the message says why."""


def default_sequences(otu: dict, barcode: bool) -> list[dict]:
    """The sequences that go into the index: the default isolate's (every isolate's for barcode references)."""
    if barcode:
        return [sequence for isolate in otu["isolates"] for sequence in isolate["sequences"]]
    isolate = next((isolate for isolate in otu["isolates"] if isolate["default"]), None)
    return isolate["sequences"] if isolate else []


@register
class BuildIndex(Workflow):
    """Virtool's build_index: small job."""

    name = "build_index"
    display_name = "Build index"
    size = JobSize.SMALL

    def _index(self, ctx) -> Index:
        index = Index.objects.select_related("reference").filter(pk=ctx.args["index_id"]).first()
        if index is None:
            raise IndexBuildError("The index was removed while it was being built")
        return index

    @step("Write FASTA", "Write the default isolates' sequences at the manifest's OTU versions.")
    def write_fasta(self, ctx) -> None:
        index = self._index(ctx)
        folder = index_path(index)
        folder.mkdir(parents=True, exist_ok=True)
        barcode = index.reference.data_type == "barcode"
        otus = []
        count = 0
        with (folder / "reference.fa").open("w") as fasta:
            for position, otu in enumerate(manifest_otus(manifest=index.manifest)):
                if otu is None:
                    continue
                otus.append(formats.export_otu(otu))
                for sequence in default_sequences(otu, barcode):
                    fasta.write(f">{sequence['_id']}\n{sequence['sequence']}\n")
                    count += 1
                ctx.progress(position + 1, len(index.manifest))
        if count == 0:
            raise IndexBuildError("The reference has no sequences to build an index from")
        formats.write_reference_file(
            folder / "reference.json.gz",
            {
                "data_type": index.reference.data_type,
                "organism": index.reference.organism,
                "targets": index.reference.targets,
                "otus": otus,
            },
        )

    @step("Build index", "Run bowtie2-build on the FASTA.")
    def bowtie_build(self, ctx) -> None:
        index = self._index(ctx)
        if index.reference.data_type == "barcode":
            return  # Virtool builds no bowtie2 index for barcode references
        folder = index_path(index)
        ctx.run(
            ["bowtie2-build", "--threads", str(ctx.proc), str(folder / "reference.fa"), str(folder / "reference")],
            cwd=folder,
        )

    @step("Finalize", "Compress the FASTA, check the files and mark the index ready.")
    def finalize(self, ctx) -> None:
        index = self._index(ctx)
        folder = index_path(index)
        seqio.gzip_copy(folder / "reference.fa", folder / "reference.fa.gz")
        (folder / "reference.fa").unlink()
        if index.reference.data_type != "barcode":
            missing = [name for name in BOWTIE2_FILES if not (folder / name).exists()]
            if missing:
                raise IndexBuildError(f"bowtie2-build did not write {', '.join(missing)}")
        from indexes.services import index_finish

        index_finish(index_id=index.pk)

    def cleanup(self, ctx) -> None:
        from indexes.services import index_discard

        index_discard(index_id=ctx.args["index_id"])
