"""The RpRSV library resampled to real sizes, for the workflow benchmarks; kept in a cache folder between runs.

The real library (`../shared/data/samples/rprsv_{1,2}.fq.gz`) has 10,000 pairs; a real sample has 10-100 M reads.
`resample` draws pairs with replacement (mates stay together; each copy gets a unique name) to `scale` times as
many, in blocks (no per-record writes) through ISA-L's gzip at level 1, so that 20 M reads take about a minute
rather than the job they are for. With `cache`, the files are kept there under a name that says the scale and the
seed, and a later run (the other workflow's bench, the `--compare` side) takes them as they are.
"""

from __future__ import annotations

import random
from pathlib import Path

from isal import igzip

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SOURCE = (SHARED / "samples" / "rprsv_1.fq.gz", SHARED / "samples" / "rprsv_2.fq.gz")
PAIRS = 10_000  # in the RpRSV library
BLOCK = 50_000  # pairs written per block


def read_fastq(path: Path) -> list[tuple[bytes, bytes, bytes]]:
    """(name, sequence, quality) of every record of a small FASTQ file."""
    with igzip.open(path, "rb") as handle:
        lines = handle.read().splitlines()
    return [(lines[i][1:].split()[0], lines[i + 1], lines[i + 3]) for i in range(0, len(lines), 4)]


def resample(scale: int, target: Path, *, seed: int = 1, cache: Path | None = None) -> tuple[Path, Path]:
    """reads_1/2.fq.gz with `scale` times the pairs of the RpRSV library, drawn with replacement (the same draws
    for the same seed); from `cache` when it holds them, else written there (or into `target` without a cache)."""
    folder = cache or target
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / f"rprsv_x{scale}_seed{seed}_1.fq.gz", folder / f"rprsv_x{scale}_seed{seed}_2.fq.gz")
    if cache is not None and all(path.exists() for path in paths):
        return paths
    first, second = (read_fastq(path) for path in SOURCE)
    # Each record as the two halves around its copy number: b"@name_" and b"\nSEQ\n+\nQUAL\n".
    # Both mates carry the first file's name, as the earlier benchmarks did (the sample's pair check accepts it).
    halves = [
        [
            (b"@%s_" % one[0], b"\n%s\n+\n%s\n" % (record[1], record[2]))
            for one, record in zip(first, reads, strict=True)
        ]
        for reads in (first, second)
    ]
    rng = random.Random(seed)
    partial = [path.with_name(path.name + ".partial") for path in paths]
    with igzip.open(partial[0], "wb", compresslevel=1) as out1, igzip.open(partial[1], "wb", compresslevel=1) as out2:
        total = len(first) * scale
        for start in range(0, total, BLOCK):
            numbers = range(start, min(start + BLOCK, total))
            draws = [rng.randrange(len(first)) for _ in numbers]
            for out, records in ((out1, halves[0]), (out2, halves[1])):
                out.write(
                    b"".join(
                        b"%s%d%s" % (records[index][0], number, records[index][1])
                        for index, number in zip(draws, numbers, strict=True)
                    )
                )
    for source, path in zip(partial, paths, strict=True):
        source.rename(path)
    return paths


if __name__ == "__main__":
    import argparse
    import time

    parser = argparse.ArgumentParser(description="write the resampled RpRSV library into a cache folder")
    parser.add_argument("scales", type=int, nargs="+", help="pairs = 10,000 x scale")
    parser.add_argument("--cache", type=Path, required=True)
    options = parser.parse_args()
    for scale in options.scales:
        began = time.perf_counter()
        written = resample(scale, options.cache, cache=options.cache)
        print(f"x{scale}: {written[0].name} in {time.perf_counter() - began:.1f} s", flush=True)
