"""Generate FASTQ files and read FastQC's `fastqc_data.txt` into Virtool's quality shape (for comparisons)."""

from __future__ import annotations

import math
import random
import shutil
import subprocess
from pathlib import Path


def write_fastq(
    path: Path, *, reads: int, min_length: int, max_length: int, seed: int, offset: int = 33, n_rate: float = 0.01
) -> None:
    """Random reads with realistic-looking qualities (Phred 2-41), some Ns and lowercase letters."""
    rng = random.Random(seed)
    with path.open("w") as handle:
        for index in range(reads):
            length = rng.randint(min_length, max_length)
            sequence = "".join(
                "N" if rng.random() < n_rate else rng.choice("ACGTACGTACGTacgt" if index % 7 == 0 else "ACGT")
                for _ in range(length)
            )
            base = rng.randint(20, 40)
            quality = "".join(chr(offset + max(2, min(41, base + rng.randint(-15, 5)))) for _ in range(length))
            handle.write(f"@read{index}\n{sequence}\n+\n{quality}\n")


def _row(values: list[str]) -> list[float]:
    """A per-cycle row; FastQC prints NaN percentiles for a cycle with few reads, Virtool shows the mean."""
    numbers = [float(value) for value in values]
    return [round(numbers[0] if math.isnan(number) else number, 3) for number in numbers]


def fastqc_quality(path: Path, out: Path) -> dict:
    """Run FastQC 0.11.9 and parse its data file as Virtool did (`virtool.quality.fastqc`)."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [shutil.which("fastqc"), "-q", "-f", "fastq", "--extract", "-o", str(out), str(path)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    stem = path.name
    for suffix in (".gz", ".fastq", ".fq"):
        stem = stem.removesuffix(suffix)
    text = (out / f"{stem}_fastqc" / "fastqc_data.txt").read_text()
    modules: dict[str, list[list[str]]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith(">>END_MODULE"):
            current = None
        elif line.startswith(">>"):
            current = line[2:].split("\t")[0]
            modules[current] = []
        elif current and not line.startswith("#"):
            modules[current].append(line.split("\t"))
    basic = dict(modules["Basic Statistics"])
    lengths = [int(x) for x in basic["Sequence length"].split("-")]
    sequences = [0] * 50
    for quality, count in modules["Per sequence quality scores"]:
        if int(quality) < 50:
            sequences[int(quality)] = int(float(count))
    gc_distribution = [0.0] * 101
    for percent, count in modules["Per sequence GC content"]:
        gc_distribution[int(percent)] = round(float(count), 3)
    return {
        "bases": [_row(row[1:]) for row in modules["Per base sequence quality"]],
        "composition": [[round(float(value), 1) for value in row[1:]] for row in modules["Per base sequence content"]],
        "count": int(basic["Total Sequences"]),
        "encoding": basic["Encoding"],
        "gc": int(basic["%GC"]),
        "length": [lengths[0], lengths[-1]],
        "sequences": sequences,
        "gc_distribution": gc_distribution,
    }
