"""The `nuvs` workflow (large job), after Virtool's (workflows.md §2).

Steps: write the default isolates of the index as FASTA; trim the reads with skewer (or reuse the sample's trimmed
reads from an earlier NuVs with the same parameters); build a bowtie2 index of the FASTA; drop the reads that map
to it, then those that map to each subtraction in turn; for paired samples, bring back the mates of the reads that
survived; assemble what is left with SPAdes; keep contigs of 300 nt or more that have an open reading frame of 100
codons or more; map the assembled reads back to them for each contig's mean depth (`depth`, beyond Virtool);
search the translated ORFs against the installed profile HMMs (vFam); store Virtool's result `{"hits": [contig,
...]}` with `assembly.fa.gz`, `orfs.fa.gz` and `hmm.tsv` in the analysis folder.

Trimmed reads are cached per sample and trimming parameters in `<sample folder>/caches/<key>/`. The cache is
published only when the analysis completes, by renaming a finished folder into place, so a job that fails or is
killed never leaves a cache, let alone half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyses.base import AnalysisError, AnalysisWorkflow, index_reference, job_analysis, sample_reads
from analyses.selectors import analysis_path
from core import seqio
from hmm.selectors import hmm_clusters, hmm_files, hmm_installed
from indexes.workflows import default_sequences
from jobs.constants import JobSize
from jobs.tools import ToolError
from jobs.workflow import register, step
from samples.constants import LibraryType
from samples.selectors import samples_path
from subtractions.selectors import subtractions_path

if TYPE_CHECKING:
    from analyses.models import Analysis
    from samples.models import Sample

log = logging.getLogger(__name__)

NO_HMMS = "NuVs needs HMM profiles and none are installed: install them on the HMMs page first"
HMMS_REMOVED = (
    "The HMM profiles were removed while NuVs was running: install them on the HMMs page and start the analysis again"
)
NO_READS_LEFT = "No reads remained after removing those that match the reference and subtractions: nothing to assemble"
NO_READS_TRIMMED = "No reads remained after trimming (adapters, low quality, too short): nothing to assemble"
MIN_CONTIG_LENGTH = 300
KMERS = "21,33,55,75"
SRNA_KMERS = "17,21,23"
CACHES = "caches"
TRIMMED_NAMES = ("reads_1.fq.gz", "reads_2.fq.gz")
# What SPAdes (and the allocators it is built with) print when memory runs out: its own k-mer estimate, jemalloc,
# mimalloc, mmap and C++'s bad_alloc.
_OUT_OF_MEMORY = re.compile(
    r"too many k-mers to fit into available memory|out of memory|unable to allocate|cannot allocate memory"
    r"|bad_alloc|not enough memory",
    re.IGNORECASE,
)
_SPADES_LOG_LINE = re.compile(
    r"^\s*[\d:.]+\s+\S+\s*/\s*\S+\s+(?P<level>ERROR|WARN|INFO|DEBUG)\s+.*?\)\s+(?P<message>.*)$"
)


def min_trimmed_length(max_read_length: int) -> int:
    """Skewer's `-l` from the sample's longest read (Virtool: `<80 → 35`, `<160 → 100`, else `160`)."""
    if max_read_length < 80:
        return 35
    if max_read_length < 160:
        return 100
    return 160


def trimming_parameters(sample: Sample) -> dict[str, Any]:
    """Everything that decides the trimmed reads, which is also what keys their cache."""
    quality = sample.quality or {}
    lengths = quality.get("length") or []
    if len(lengths) != 2:
        raise AnalysisError(f"Sample {sample.name} has no read length in its quality report: recreate the sample")
    return {
        "program": "skewer-0.2.2",
        "max_error_rate": 0.1,
        "max_indel_rate": 0.03,
        "mode": "pe" if sample.paired else "any",
        "min_length": min_trimmed_length(int(lengths[1])),
        "end_quality": 20,
        "mean_quality": 25,
    }


def skewer_command(parameters: dict[str, Any], *, reads: list[str], proc: int, output: Path) -> list[str]:
    """Virtool's skewer call; it writes `<output>-trimmed[-pair1|-pair2].fastq.gz`."""
    return [
        "skewer",
        "-r", str(parameters["max_error_rate"]),
        "-d", str(parameters["max_indel_rate"]),
        "-m", parameters["mode"],
        "-l", str(parameters["min_length"]),
        "-q", str(parameters["end_quality"]),
        "-Q", str(parameters["mean_quality"]),
        "-t", str(proc),
        "--quiet", "-z",
        "-o", str(output),
        *reads,
    ]  # fmt: skip


def cache_key(parameters: dict[str, Any]) -> str:
    """The cache folder's name for trimming parameters (a digest of them)."""
    return hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:16]


def trimmed_cache_path(sample_id: str, key: str) -> Path:
    """`<sample folder>/caches/<key>`: trimmed reads of a sample; removed with the sample's folder."""
    return samples_path(sample_id) / CACHES / key


def _cached_reads(folder: Path, count: int) -> list[Path] | None:
    files = [folder / name for name in TRIMMED_NAMES[:count]]
    if (folder / "parameters.json").is_file() and all(path.is_file() for path in files):
        return files
    return None


def spades_command(
    *, paired: bool, library_type: str, proc: int, mem: int, reads: list[Path], output: Path
) -> list[str]:
    """Virtool's SPAdes call: `-k 21,33,55,75` (sRNA: `17,21,23`), threads and memory from the reservation."""
    kmers = SRNA_KMERS if library_type == LibraryType.SRNA else KMERS
    inputs = ["-1", str(reads[0]), "-2", str(reads[1])] if paired else ["-s", str(reads[0])]
    return ["spades.py", "-t", str(proc), "-m", str(mem), "-k", kmers, "-o", str(output), *inputs]


def spades_failure(*, log_lines: list[str], mem: int, returncode: int) -> str:
    """A sentence for a failed SPAdes run, from the lines of its log (`spades.log`, then its own messages)."""
    parsed = [_log_message(line) for line in log_lines if line.strip()]
    for _, message in reversed(parsed):
        if _OUT_OF_MEMORY.search(message):
            return (
                f"SPAdes ran out of memory ({mem} GB reserved): {message.rstrip('.')}. "
                "Give large jobs more memory (VIRTOOL_LG_MEM) and start the analysis again"
            )
    errors = [message for level, message in parsed if level == "ERROR"]
    errors = (
        errors
        or [message for _, message in parsed if message.startswith("== Error ==")]
        or [message for _, message in parsed[-3:]]
    )
    detail = " ".join(errors[-3:]) or "it left no message"
    return f"SPAdes could not assemble the reads (exit status {returncode}): {detail}"


def _log_message(line: str) -> tuple[str, str]:
    """A SPAdes log line's level and message, without its time, memory and source columns."""
    match = _SPADES_LOG_LINE.match(line)
    if match:
        return match.group("level"), match.group("message").strip()
    return "", line.strip()


def contig_depths(coverage: str) -> dict[int, float]:
    """Contig index -> mean depth (one decimal) from `samtools coverage`'s table (contigs named `contig_<index>`)."""
    depths = {}
    lines = coverage.splitlines()
    if not lines or not lines[0].startswith("#rname"):
        raise AnalysisError("samtools coverage wrote no table")
    columns = lines[0].lstrip("#").split("\t")
    for line in lines[1:]:
        row = dict(zip(columns, line.split("\t"), strict=True))
        depths[int(row["rname"].removeprefix("contig_"))] = round(float(row["meandepth"]), 1)
    return depths


def _has_reads(path: Path) -> bool:
    return path.is_file() and next(iter(seqio.read_fastq(path)), None) is not None


def reunite_pairs(*, survivors: Path, pairs: list[Path], targets: list[Path]) -> int:
    """Keep the pairs of which either mate survived elimination; returns how many pairs were kept.

    Virtool keeps, from each trimmed file, the records whose id is among the surviving ids; with mates that share
    an id that keeps a pair when either mate survived. Here a pair is kept when either mate's id survived, which is
    the same for shared ids and also keeps the files in step when mates are named apart (`…;1` and `…;2`).

    Without holding the surviving ids: bowtie2 (`--reorder`, as the elimination steps run it) writes the reads
    that did not align in the order it read them, the first trimmed file's then the second's, so the survivors are
    a subsequence of the two files one after the other and one forward walk over each file beside the survivors
    marks the pairs (one byte a pair). A survivor whose id matches a first-file read of the same pair (mates that
    share an id) marks that pair whichever file it came from, which is the pair it belongs to. Should a survivor be
    left over after both walks (survivors out of order: an elimination run without `--reorder`), the pairs are
    marked again from the set of surviving ids, as Virtool does.
    """
    keep = bytearray()
    surviving = seqio.read_fastq(survivors)
    head = next(surviving, None)
    for left in seqio.read_fastq(pairs[0]):
        kept = head is not None and left.id == head.id
        if kept:
            head = next(surviving, None)
        keep.append(kept)
    count = 0
    for count, right in enumerate(seqio.read_fastq(pairs[1]), start=1):
        if count > len(keep):
            raise AnalysisError("The trimmed read files are not paired: the first file has fewer reads")
        if head is not None and right.id == head.id:
            keep[count - 1] = True
            head = next(surviving, None)
    if count < len(keep):
        raise AnalysisError("The trimmed read files are not paired: the second file has fewer reads")
    in_order = head is None
    if not in_order:
        log.warning("the reads that survived elimination are not in the trimmed files' order: matching them by id")
        keep = _keep_by_id(survivors=survivors, pairs=pairs)
    for source, target in zip(pairs, targets, strict=True):
        seqio.write_fastq(target, (record for record, kept in zip(seqio.read_fastq(source), keep, strict=True) if kept))
    return sum(keep)


def _keep_by_id(*, survivors: Path, pairs: list[Path]) -> bytearray:
    """One byte per pair: whether either mate's id is among the surviving ids (held as a set)."""
    surviving = {record.id for record in seqio.read_fastq(survivors)}
    return bytearray(
        left.id in surviving or right.id in surviving
        for left, right in zip(seqio.read_fastq(pairs[0]), seqio.read_fastq(pairs[1]), strict=True)
    )


@register
class NuVs(AnalysisWorkflow):
    """Virtool's nuvs: large job."""

    name = "nuvs"
    display_name = "NuVs"
    size = JobSize.LARGE
    analysis = True

    @classmethod
    def start_problem(cls) -> str | None:
        """NuVs searches the installed profile HMMs: without them it cannot run."""
        return None if hmm_installed() else NO_HMMS

    @classmethod
    def finished(cls, analysis: Analysis, results: dict[str, Any]) -> None:
        """The assembly, the ORF translations and the search table become the analysis's downloadable files."""
        from analyses.services import analysis_files_record

        analysis_files_record(analysis_id=analysis.pk)

    @step(
        "Write reference FASTA",
        "Write the default isolate of every virus in the index as FASTA, to recognise reads of known viruses.",
    )
    def create_reference_fasta(self, ctx) -> None:
        if not hmm_installed():
            raise AnalysisError(HMMS_REMOVED)
        analysis, index = job_analysis(ctx)
        folder = analysis_path(analysis)
        folder.mkdir(parents=True, exist_ok=True)
        document = index_reference(index)
        barcode = document.get("data_type") == "barcode"
        count = 0
        with (ctx.work_path / "reference.fa").open("w") as fasta:
            for otu in document["otus"]:
                for sequence in default_sequences(otu, barcode):
                    fasta.write(f">{sequence['_id']}\n{sequence['sequence']}\n")
                    count += 1
        if count == 0:
            raise AnalysisError(f"Index {index.version} holds no sequences: rebuild the index")

    @step(
        "Trim reads",
        "Trim adapters and low-quality ends with skewer, or reuse the sample's reads trimmed the same way before.",
    )
    def trim_reads(self, ctx) -> None:
        analysis, _ = job_analysis(ctx)
        sample = analysis.sample
        ctx.paired = sample.paired
        ctx.library_type = sample.library_type
        parameters = trimming_parameters(sample)
        ctx.cache_key = cache_key(parameters)
        count = 2 if sample.paired else 1
        cached = _cached_reads(trimmed_cache_path(sample.pk, ctx.cache_key), count)
        if cached is not None:
            log.info("job %s uses the trimmed reads cached in %s", ctx.job.pk, cached[0].parent)
            ctx.trimmed, ctx.trimmed_here = cached, False
            return
        reads = sample_reads(ctx, paired=sample.paired)
        folder = ctx.work_path / "trimmed"
        folder.mkdir(exist_ok=True)
        ctx.run(skewer_command(parameters, reads=reads[:count], proc=ctx.proc, output=ctx.work_path / "reads"))
        made = (
            ["reads-trimmed-pair1.fastq.gz", "reads-trimmed-pair2.fastq.gz"]
            if sample.paired
            else ["reads-trimmed.fastq.gz"]
        )
        ctx.trimmed = []
        for name, target in zip(made, TRIMMED_NAMES, strict=False):
            source = ctx.work_path / name
            if not source.is_file():
                raise AnalysisError(f"skewer did not write {name}")
            source.rename(folder / target)
            ctx.trimmed.append(folder / target)
        (folder / "parameters.json").write_text(json.dumps(parameters, sort_keys=True))
        ctx.trimmed_here = True
        if not _has_reads(ctx.trimmed[0]):
            raise AnalysisError(NO_READS_TRIMMED)

    @step("Index reference", "Build a bowtie2 index of the known viruses' sequences.")
    def create_reference_index(self, ctx) -> None:
        ctx.run(["bowtie2-build", "--threads", str(ctx.proc), "reference.fa", "reference"], cwd=ctx.work_path)

    @step("Remove known viruses", "Drop the reads that map to the reference's viruses.")
    def eliminate_otus(self, ctx) -> None:
        unmapped = ctx.work_path / "unmapped_otus.fq"
        ctx.run(
            [
                "bowtie2", "-p", str(ctx.proc), "-k", "1", "--very-fast-local", "--reorder",
                "-x", str(ctx.work_path / "reference"),
                "--un", str(unmapped),
                "-U", ",".join(str(path) for path in ctx.trimmed),
                "-S", os.devnull,
            ]
        )  # fmt: skip
        if not _has_reads(unmapped):
            raise AnalysisError(NO_READS_LEFT)
        ctx.unmapped = unmapped

    @step("Remove host reads", "Drop the reads that map to each subtraction (host genome) in turn.")
    def eliminate_subtraction(self, ctx) -> None:
        subtractions = ctx.args.get("subtractions") or []
        for position, subtraction_id in enumerate(subtractions):
            prefix = subtractions_path(subtraction_id) / "subtraction"
            if not Path(f"{prefix}.1.bt2").exists():
                raise AnalysisError(f"The bowtie2 index of subtraction {subtraction_id} is missing")
            unmapped = ctx.work_path / f"unmapped_subtraction_{position}.fq"
            ctx.run(
                [
                    "bowtie2", "--very-fast-local", "-k", "1", "-p", str(ctx.proc), "--reorder",
                    "-x", str(prefix),
                    "--un", str(unmapped),
                    "-U", str(ctx.unmapped),
                    "-S", os.devnull,
                ]
            )  # fmt: skip
            if not _has_reads(unmapped):
                raise AnalysisError(NO_READS_LEFT)
            ctx.unmapped = unmapped
            ctx.progress(position + 1, len(subtractions))

    @step("Reunite pairs", "Bring back the mate of every read that survived, so that paired reads assemble as pairs.")
    def reunite_pairs(self, ctx) -> None:
        if not ctx.paired:
            ctx.assembly_reads = [ctx.unmapped]
            return
        targets = [ctx.work_path / "unmapped_1.fq", ctx.work_path / "unmapped_2.fq"]
        reunite_pairs(survivors=ctx.unmapped, pairs=ctx.trimmed, targets=targets)
        ctx.assembly_reads = targets

    @step("Assemble", "Assemble the remaining reads into contigs with SPAdes.")
    def assemble(self, ctx) -> None:
        if not hmm_installed():  # checked again before the longest step: no assembly whose ORFs cannot be searched
            raise AnalysisError(HMMS_REMOVED)
        analysis, _ = job_analysis(ctx)
        output = ctx.work_path / "spades"
        command = spades_command(
            paired=ctx.paired,
            library_type=ctx.library_type,
            proc=ctx.proc,
            mem=ctx.mem,
            reads=ctx.assembly_reads,
            output=output,
        )
        try:
            ctx.run(command, cwd=ctx.work_path)
        except ToolError as error:
            spades_log = output / "spades.log"
            lines = spades_log.read_text(errors="replace").splitlines() if spades_log.exists() else []
            message = spades_failure(log_lines=[*lines, *error.stderr_tail], mem=ctx.mem, returncode=error.returncode)
            raise AnalysisError(message) from None
        scaffolds = output / "scaffolds.fasta"
        if not scaffolds.exists():  # nothing assembled: an empty assembly, which is a valid (empty) result
            scaffolds.write_text("")
        seqio.gzip_copy(scaffolds, analysis_path(analysis) / "assembly.fa.gz")
        ctx.scaffolds = scaffolds

    @step("Find ORFs", "Keep contigs of 300 nt or more, find their open reading frames and translate them.")
    def process_assembly(self, ctx) -> None:
        from analyses.nuvs.orfs import find_orfs

        analysis, _ = job_analysis(ctx)
        contigs: list[dict[str, Any]] = []
        with seqio.open_gzip_write(analysis_path(analysis) / "orfs.fa.gz") as fasta:
            for record in seqio.read_fasta(ctx.scaffolds):
                sequence = record.sequence
                if len(sequence) < MIN_CONTIG_LENGTH:
                    continue
                orfs = find_orfs(sequence)
                if not orfs:
                    continue
                contig_index = len(contigs)
                stored = []
                for orf_index, orf in enumerate(orfs):
                    stored.append(
                        {
                            "index": orf_index,
                            "frame": orf["frame"],
                            "strand": orf["strand"],
                            "pos": list(orf["pos"]),
                            "pro": orf["pro"],
                        }
                    )
                    fasta.write(f">sequence_{contig_index}.{orf_index}\n{orf['pro']}\n".encode())
                contigs.append({"index": contig_index, "sequence": sequence, "orfs": stored})
                ctx.check()
        ctx.contigs = contigs

    @step("Measure contig depth", "Map the assembled reads back to the contigs and take each contig's mean depth.")
    def contig_depth(self, ctx) -> None:
        """Each kept contig's `depth`: the mean depth over its positions of the reads given to SPAdes, mapped back
        with bowtie2 (`--local`, best alignment of each read, mates as unpaired reads as everywhere else), as
        `samtools coverage` counts it (primary alignments only)."""
        if not ctx.contigs:
            return
        work = ctx.work_path
        with (work / "contigs.fa").open("w") as fasta:
            for contig in ctx.contigs:
                fasta.write(f">contig_{contig['index']}\n{contig['sequence']}\n")
        ctx.run(["bowtie2-build", "--threads", str(ctx.proc), "contigs.fa", "contigs"], cwd=work)
        ctx.run(
            [
                "bowtie2", "-p", str(ctx.proc), "--local", "--no-unal",
                "-x", str(work / "contigs"),
                "-U", ",".join(str(path) for path in ctx.assembly_reads),
                "-S", str(work / "contigs.sam"),
            ]
        )  # fmt: skip
        threads = str(max(ctx.proc - 1, 0))
        ctx.run(["samtools", "sort", "-@", threads, "-T", str(work / "sort"), "-o", str(work / "contigs.bam"),
                 str(work / "contigs.sam")])  # fmt: skip
        ctx.run(["samtools", "coverage", "-o", str(work / "coverage.tsv"), str(work / "contigs.bam")])
        depths = contig_depths((work / "coverage.tsv").read_text())
        for contig in ctx.contigs:
            contig["depth"] = depths.get(contig["index"], 0.0)

    @step("Search HMMs", "Search the translated ORFs against the installed vFam profile HMMs and store the result.")
    def vfam(self, ctx) -> None:
        from analyses.nuvs.hmmer import hmm_search, parse_tblout
        from analyses.services import analysis_finish

        analysis, _ = job_analysis(ctx)
        files = hmm_files()
        if files is None:
            raise AnalysisError(HMMS_REMOVED)
        orfs = [(f"sequence_{c['index']}.{orf['index']}", orf["pro"]) for c in ctx.contigs for orf in c["orfs"]]
        try:
            text = hmm_search(orfs, profiles=files.profiles, cpus=ctx.proc)
        except (OSError, EOFError, ValueError):
            if hmm_files() != files:  # removed or replaced under the search
                raise AnalysisError(HMMS_REMOVED) from None
            raise
        (analysis_path(analysis) / "hmm.tsv").write_text(text)
        hits = parse_tblout(text, hmm_clusters())
        for contig in ctx.contigs:
            for orf in contig["orfs"]:
                orf["hits"] = hits.get((contig["index"], orf["index"]), [])
        if ctx.trimmed_here:
            self._publish_cache(ctx, analysis.sample_id)
        analysis_finish(analysis_id=analysis.pk, results={"hits": ctx.contigs})

    def _publish_cache(self, ctx, sample_id: str) -> None:
        """Move the trimmed reads into the sample's cache in one rename; a cache already there (another analysis
        published the same reads meanwhile) is kept."""
        final = trimmed_cache_path(sample_id, ctx.cache_key)
        staging = _staging_path(sample_id, ctx.job.pk)
        staging.mkdir(parents=True, exist_ok=True)
        source = ctx.trimmed[0].parent
        for path in [*ctx.trimmed, source / "parameters.json"]:
            shutil.move(path, staging / path.name)
        try:
            staging.rename(final)
        except OSError:
            if _cached_reads(final, len(ctx.trimmed)) is None:
                raise
            shutil.rmtree(staging, ignore_errors=True)

    def cleanup(self, ctx) -> None:
        super().cleanup(ctx)
        sample_id = ctx.args.get("sample_id")
        if sample_id:
            with contextlib.suppress(OSError):
                shutil.rmtree(_staging_path(sample_id, ctx.job.pk))


def _staging_path(sample_id: str, job_id: str) -> Path:
    """Where a job assembles a cache folder before renaming it into place (a dot name: never read as a cache)."""
    return samples_path(sample_id) / CACHES / f".{job_id}.partial"
