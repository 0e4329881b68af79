"""The `pathoscope_bowtie` workflow (large job), after Virtool's (workflows.md §1).

Steps: map the reads to the default isolates (the index build's bowtie2 index) to find candidate OTUs; build a
bowtie2 index of every isolate of those OTUs; map again keeping up to 100 alignments per read; for each
subtraction, map the reads that aligned to the host and drop the isolate alignments the host explains as well or
better; reassign multi-mapping reads with PathoScope's EM; store the report with coverage, and keep the evidence of each
hit OTU in the analysis folder: the reads the EM assigned to it, their alignments and its consensus
(`analyses.pathoscope.evidence`, beyond Virtool).

Reads are given to bowtie2 as unpaired (`-U reads_1,reads_2`), as Virtool does, so mates that share a read name
pool their alignments. bowtie2's SAM output is streamed from its stdout straight into the compiled parser
(`analyses.pathoscope.sam`: flat int32 columns, never a Python object per record), never written to disk and read
back; the isolate mapping's bytes also go on to `samtools view -b` (a BAM in the scratch folder), which the
evidence reads after the EM.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyses.base import AnalysisError, AnalysisWorkflow, index_reference, job_analysis, sample_reads
from analyses.constants import CAP_PER_WINDOW, CAP_WINDOW, CONSENSUS_MIN_DEPTH, OTU_READS_FILE
from analyses.selectors import analysis_path
from core import seqio
from indexes.selectors import index_path
from jobs.constants import JobSize
from jobs.workflow import register, step
from subtractions.selectors import subtractions_path

if TYPE_CHECKING:
    from analyses.models import Analysis
    from references.models import Reference

P_SCORE_CUTOFF = 0.01
# Virtool's bowtie2 flags (workflows.md §1.1): local alignment, min score 20 + 1.0·read length, seed length 15.
MAPPING_FLAGS = ["--local", "--no-unal", "--score-min", "L,20,1.0", "-N", "0", "-L", "15"]


def filter_fastq(source: Path, target: Path, drop: set[str]) -> int:
    """Copy FASTQ records whose read id (header up to whitespace, without '@') is not in `drop`; returns kept."""
    return seqio.write_fastq(target, (record for record in seqio.read_fastq(source) if record.id not in drop))


@register
class PathoscopeBowtie(AnalysisWorkflow):
    """Virtool's pathoscope_bowtie: large job."""

    name = "pathoscope_bowtie"
    display_name = "PathoScope"
    size = JobSize.LARGE
    analysis = True
    aliases = ("pathoscope",)

    @classmethod
    def reference_problem(cls, reference: Reference) -> str | None:
        """PathoScope maps reads to genomes: barcode references do not apply."""
        return None if reference.data_type == "genome" else "PathoScope needs a genome reference"

    @classmethod
    def finished(cls, analysis: Analysis, results: dict[str, Any]) -> None:
        """Keep the OTUs hit as built into the index, and draw the coverage lines once."""
        from analyses.formatting import format_pathoscope
        from analyses.services import analysis_files_record
        from indexes.services import index_otus_freeze

        if analysis.index is not None:
            # Reads then take the OTUs from the index instead of replaying their history on every GET.
            otu_ids = [hit["otu"]["id"] for hit in results.get("hits", []) if hit["otu"]["id"]]
            index_otus_freeze(index=analysis.index, otu_ids=otu_ids)
        format_pathoscope(analysis)  # the first formatting draws the coverage lines and keeps them
        analysis_files_record(analysis_id=analysis.pk)  # the evidence: reads, alignments, consensus
        from analyses.matrix import otu_numbers_store

        otu_numbers_store(analyses=[analysis])  # and the cross-sample matrix reads its numbers without the results

    @step("Map to default isolates", "Map the reads to each OTU's default isolate to find candidate OTUs.")
    def map_default_isolates(self, ctx) -> None:
        from analyses.pathoscope.sam import read_sam

        _, index = job_analysis(ctx)
        ctx.otus = index_reference(index)["otus"]
        ctx.sequence_otu = {
            sequence["_id"]: otu["_id"]
            for otu in ctx.otus
            for isolate in otu["isolates"]
            for sequence in isolate["sequences"]
        }
        # bowtie2's SAM goes straight into the parser (stdout), never to disk.
        command = [
            "bowtie2", "-p", str(ctx.proc), *MAPPING_FLAGS,
            "-x", str(index_path(index) / "reference"),
            "-U", ",".join(sample_reads(ctx)),
        ]  # fmt: skip
        with ctx.pipe(command) as bowtie2:
            alignments = read_sam(bowtie2.stdout)
        hit_refs = {alignments.ref_names[i] for i in set(alignments.ref[alignments.score >= P_SCORE_CUTOFF].tolist())}
        ctx.candidates = sorted({ctx.sequence_otu[ref] for ref in hit_refs if ref in ctx.sequence_otu})

    @step("Build isolate index", "Build a bowtie2 index of every isolate of the candidate OTUs.")
    def build_isolate_index(self, ctx) -> None:
        if not ctx.candidates:
            return
        work = ctx.work_path
        candidates = set(ctx.candidates)
        with (work / "isolates.fa").open("w") as fasta:
            for otu in ctx.otus:
                if otu["_id"] in candidates:
                    for isolate in otu["isolates"]:
                        for sequence in isolate["sequences"]:
                            fasta.write(f">{sequence['_id']}\n{sequence['sequence']}\n")
        ctx.run(["bowtie2-build", "--threads", str(ctx.proc), "isolates.fa", "isolates"], cwd=work)

    @step("Map to isolates", "Map the reads to all isolates of the candidates, up to 100 alignments per read.")
    def map_isolates(self, ctx) -> None:
        from analyses.pathoscope.sam import read_sam

        ctx.alignments = None
        if not ctx.candidates:
            return
        work = ctx.work_path
        command = [
            "bowtie2", "-p", str(ctx.proc), *MAPPING_FLAGS, "-k", "100",
            "--al", str(work / "isolates.fq"),
            "-x", str(work / "isolates"),
            "-U", ",".join(sample_reads(ctx)),
        ]  # fmt: skip
        # The SAM is parsed as bowtie2 writes it; the evidence needs the records again after the EM, so the same
        # bytes go on to samtools, which keeps them as a BAM (fast compression): no SAM on disk, none read back.
        keep = ["samtools", "view", "-b", "-1", "--no-PG", "-o", str(work / "isolates.bam"), "-"]
        with ctx.pipe(command) as bowtie2, ctx.pipe(keep, stdin=True) as samtools:
            ctx.alignments = read_sam(bowtie2.stdout, tee=samtools.stdin)

    @step("Eliminate subtraction", "Drop alignments that fit each host genome as well as or better than a virus.")
    def eliminate_subtraction(self, ctx) -> None:
        from analyses.pathoscope.em import eliminate, host_score_table

        ctx.subtracted_count = 0
        ctx.keep = None
        if ctx.alignments is None:
            return
        work = ctx.work_path
        reads = work / "isolates.fq"
        for position, subtraction_id in enumerate(ctx.args["subtractions"]):
            prefix = subtractions_path(subtraction_id) / "subtraction"
            if not Path(f"{prefix}.1.bt2").exists():
                raise AnalysisError(f"The bowtie2 index of subtraction {subtraction_id} is missing")
            command = [
                "bowtie2", "--local", "--no-unal", "-N", "0", "-p", str(ctx.proc),
                "-x", str(prefix), "-U", str(reads),
            ]  # fmt: skip
            with ctx.pipe(command) as bowtie2:
                host = host_score_table(bowtie2.stdout)
            keep, subtracted = eliminate(ctx.alignments, host)
            del host
            ctx.keep = keep if ctx.keep is None else ctx.keep & keep
            ctx.subtracted_count += len(subtracted)
            remaining = work / f"remaining_{position}.fq"
            filter_fastq(reads, remaining, subtracted)
            reads = remaining

    @step("Reassign reads", "Reassign multi-mapping reads with PathoScope's EM, compute coverage and the report.")
    def reassignment(self, ctx) -> None:
        from analyses.pathoscope.em import em
        from analyses.pathoscope.report import report
        from analyses.services import analysis_finish

        analysis, index = job_analysis(ctx)
        hits: list[dict] = []
        read_count = 0
        depth_cap = {"window": CAP_WINDOW, "per_window": CAP_PER_WINDOW, "capped": 0}
        evidence: dict[str, Any] = {"min_depth": CONSENSUS_MIN_DEPTH, "depth_cap": depth_cap, "otus": {}}
        if ctx.alignments is not None:
            result = em(
                ctx.alignments, p_score_cutoff=P_SCORE_CUTOFF, keep=ctx.keep, assignment=True, coverage_arrays=True
            )
            read_count = result["read_count"]
            manifest = index.manifest
            for hit in report(result, cutoff=P_SCORE_CUTOFF):
                otu_id = ctx.sequence_otu.get(hit["id"])
                hits.append({**hit, "otu": {"id": otu_id, "version": manifest.get(otu_id)}})
            evidence["otus"], depth_cap["capped"] = self._keep_evidence(ctx, analysis, result.pop("best_records"), hits)
        analysis_finish(
            analysis_id=analysis.pk,
            results={
                "read_count": read_count,
                "subtracted_count": ctx.subtracted_count,
                "hits": hits,
                "evidence": evidence,
            },
        )

    def _keep_evidence(
        self, ctx, analysis: Analysis, best_records, hits: list[dict]
    ) -> tuple[dict[str, dict[str, int]], int]:
        """Keep the evidence of each hit OTU in the analysis folder (`analyses.pathoscope.evidence`): the reads the
        EM assigned to it (`reads_<otu>.fq.gz`), their alignments on its sequences (`evidence.bam`, sorted, indexed,
        depth-capped) and the consensus of every sequence of its isolates (`consensus.fa.gz`). Returns, per OTU, the
        reads assigned to it and how many of those are also assigned to another OTU (a tie); and how many alignments
        the depth cap left out of the BAM."""
        from analyses.pathoscope.evidence import consensus_sequences, evidence_select, write_evidence

        work = ctx.work_path
        folder = analysis_path(analysis)
        folder.mkdir(parents=True, exist_ok=True)
        reported = {hit["otu"]["id"] for hit in hits if hit["otu"]["id"]}
        selection = evidence_select(
            ctx.alignments,
            best_records=best_records,
            sequence_otu=ctx.sequence_otu,
            reported=reported,
            keep=ctx.keep,
            cutoff=P_SCORE_CUTOFF,
        )
        # The isolate alignments, as samtools kept them while the parser read bowtie2's output.
        with ctx.pipe(["samtools", "view", "-h", str(work / "isolates.bam")]) as view:
            write_evidence(
                view.stdout,
                selection,
                sam_out=work / "evidence.sam",
                fastq_path={otu_id: folder / OTU_READS_FILE.format(otu_id=otu_id) for otu_id in reported},
            )
        (work / "isolates.bam").unlink()
        bam = folder / "evidence.bam"
        threads = str(max(ctx.proc - 1, 0))
        ctx.run(
            ["samtools", "sort", "-@", threads, "-T", str(work / "sort"), "-o", str(bam), str(work / "evidence.sam")]
        )
        (work / "evidence.sam").unlink()
        ctx.run(["samtools", "index", str(bam)])
        # Simple mode: a base is called from the counts at the position; secondary alignments (bowtie2 -k) count,
        # as they are alignments of assigned reads to this sequence too. Insertions shown, deletions left out:
        # the sequence as the reads have it.
        ctx.run(
            [
                "samtools", "consensus", "-m", "simple", "-d", str(CONSENSUS_MIN_DEPTH),
                "--ff", "UNMAP,QCFAIL,DUP", "-a", "--show-ins", "yes", "--show-del", "no",
                "-o", str(work / "consensus.fa"), str(bam),
            ]
        )  # fmt: skip
        called = consensus_sequences(work / "consensus.fa")
        with seqio.open_gzip_write(folder / "consensus.fa.gz") as fasta:
            for otu in ctx.otus:
                if otu["_id"] in reported:
                    for isolate in otu["isolates"]:
                        for sequence in isolate["sequences"]:
                            # samtools writes nothing for a sequence without alignments: all N.
                            bases = called.get(sequence["_id"]) or "N" * len(sequence["sequence"])
                            fasta.write(f">{sequence['_id']}\n{bases}\n".encode())
        otus = {
            otu_id: {"reads": selection.reads.get(otu_id, 0), "shared": selection.shared.get(otu_id, 0)}
            for otu_id in sorted(reported)
        }
        return otus, selection.capped
