"""The quality report of a FASTQ file, exactly as Virtool stores it (FastQC 0.11.9's numbers, unbinned cycles).

One streaming pass over the reads (dnaio) fills a few count arrays with vectorised numpy arithmetic, so memory
does not depend on the file's size:

- quality characters per cycle (a 128-slot histogram per position),
- G, A, T, C per cycle (N excluded; lowercase letters count as uppercase, as FastQC upper-cases reads),
- the per-read mean quality character (integer division, as FastQC's PerSequenceQualityScores),
- read count, length range and the lowest quality character seen (which decides the encoding),
- reads by length and G/C count, spread over GC-percentage bins by FastQC's GC model (`gc_distribution`, with the
  theoretical normal curve FastQC draws beside it, `gc_theoretical`: two keys beyond Virtool's document).

The definitions follow FastQC's modules as ported by Virtool's quality-core (`../shared/docs/workflows.md` §3):
percentiles are FastQC's integer walk (first quality whose cumulative count reaches `n * p // 100`), a cycle with
at most 100 reads reports its mean six times, values are rounded half-to-even, GC is an integer percentage, and
a pair's report is built from the two files' rounded rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import zip_longest
from pathlib import Path

import dnaio
import numpy as np

from core import seqio

BATCH = 10_000  # small batches keep the temporary arrays in cache and out of fresh memory maps
SLOTS = 128  # ASCII
PERCENTILES = (50, 25, 75, 10, 90)  # median, lower quartile, upper quartile, 10th, 90th
_BASE_INDEX = np.full(256, 4, dtype=np.uint8)
for _index, _base in enumerate(b"GATC"):
    _BASE_INDEX[_base] = _index
    _BASE_INDEX[_base + 32] = _index  # FastQC upper-cases reads: a lowercase base counts as its uppercase one


_IS_GC = np.zeros(256, dtype=np.int64)
for _base in b"GCgc":
    _IS_GC[_base] = 1
GC_BINS = 101  # 0 % to 100 %


def _java_round(values: np.ndarray) -> np.ndarray:
    """Java's Math.round (half up), which FastQC's GC model uses."""
    return np.floor(values + 0.5).astype(np.int64)


def gc_model(length: int) -> np.ndarray:
    """FastQC's GCModel for reads of `length` bases: row g (a read with g G/C bases) spreads that read over the
    percentage bins its count could round to, each bin's share divided by how many counts claim it, so that reads of
    one length give a smooth distribution instead of spikes at the percentages the length can express."""
    counts = np.arange(length + 1, dtype=np.float64)
    low = np.clip(counts - 0.5, 0, length)
    high = np.clip(counts + 0.5, 0, length)
    low_percent = _java_round(low * 100 / length)
    high_percent = _java_round(high * 100 / length)
    claims = np.zeros(GC_BINS, dtype=np.int64)
    for start, end in zip(low_percent, high_percent, strict=True):
        claims[start : end + 1] += 1
    model = np.zeros((length + 1, GC_BINS), dtype=np.float64)
    for g, (start, end) in enumerate(zip(low_percent, high_percent, strict=True)):
        model[g, start : end + 1] = 1.0 / claims[start : end + 1]
    return model


def gc_theoretical(distribution: Sequence[float]) -> list[float]:
    """FastQC's theoretical GC curve for an observed per-sequence GC distribution: a normal distribution centred on
    the mode (averaged over the neighbouring bins within 10 % of it, unless that runs off the scale) with the
    observed standard deviation, scaled to the read count."""
    observed = np.asarray(distribution, dtype=np.float64)
    total = float(observed.sum())
    if total <= 1:
        return [0.0] * len(observed)
    first_mode = int(np.argmax(observed))
    floor = observed[first_mode] - observed[first_mode] / 10
    mode_sum, duplicates = 0.0, 0
    fell_off_top = fell_off_bottom = True
    for i in range(first_mode, len(observed)):
        if observed[i] > floor:
            mode_sum, duplicates = mode_sum + i, duplicates + 1
        else:
            fell_off_top = False
            break
    for i in range(first_mode - 1, -1, -1):
        if observed[i] > floor:
            mode_sum, duplicates = mode_sum + i, duplicates + 1
        else:
            fell_off_bottom = False
            break
    mode = float(first_mode) if fell_off_top or fell_off_bottom else mode_sum / duplicates
    bins = np.arange(len(observed), dtype=np.float64)
    variance = float(((bins - mode) ** 2 * observed).sum()) / (total - 1)
    if variance == 0:
        return [total if i == round(mode) else 0.0 for i in range(len(observed))]
    density = np.exp(-((bins - mode) ** 2) / (2 * variance)) / np.sqrt(2 * np.pi * variance)
    return [round(float(value), 3) for value in density * total]


class QualityError(Exception):
    """The file is not readable FASTQ; the message names the file and, where known, the record."""


def _encoding(lowest: int) -> tuple[str, int]:
    """FastQC's encoding guess from the lowest quality character in the whole file."""
    if lowest < 33:
        raise QualityError(f"quality character {lowest!r} is below '!' (33): no known FASTQ encoding")
    if lowest < 64:
        return "Sanger / Illumina 1.9", 33
    if lowest == 65:
        return "Illumina 1.3", 64
    if lowest <= 126:
        return "Illumina 1.5", 64
    raise QualityError(f"quality character {lowest!r} is above '~' (126): no known FASTQ encoding")


class QualityProfile:
    """Counts accumulated over the reads of one file."""

    def __init__(self) -> None:
        self.qualities = np.zeros((0, SLOTS), dtype=np.int64)
        self.bases = np.zeros((0, 4), dtype=np.int64)
        self.read_means = np.zeros(SLOTS, dtype=np.int64)
        self.count = 0
        self.min_length: int | None = None
        self.max_length = 0
        self.lowest = 255
        # Per-sequence GC: reads counted by (length, G/C count), spread over percentage bins by FastQC's model.
        self.gc_counts: dict[int, np.ndarray] = {}

    def _grow(self, length: int) -> None:
        if length > self.qualities.shape[0]:
            extra = length - self.qualities.shape[0]
            self.qualities = np.vstack([self.qualities, np.zeros((extra, SLOTS), dtype=np.int64)])
            self.bases = np.vstack([self.bases, np.zeros((extra, 4), dtype=np.int64)])

    def add(self, sequences: list[str], qualities: list[str]) -> None:
        """Count a batch of reads."""
        n = len(qualities)
        if n == 0:
            return
        lengths = np.fromiter(map(len, qualities), dtype=np.int64, count=n)
        quality = np.frombuffer("".join(qualities).encode("latin-1"), dtype=np.uint8)
        sequence = np.frombuffer("".join(sequences).encode("latin-1"), dtype=np.uint8)
        self.count += n
        shortest, longest = int(lengths.min()), int(lengths.max())
        self.min_length = shortest if self.min_length is None else min(self.min_length, shortest)
        self.max_length = max(self.max_length, longest)
        if quality.size == 0:
            return
        if int(quality.max()) >= SLOTS:
            raise QualityError("a quality character is not ASCII")
        self.lowest = min(self.lowest, int(quality.min()))
        self._grow(longest)
        rows = self.qualities.shape[0]
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        # One key per base, (cycle * 5 + base) * 128 + quality, built in place, and a single histogram of it.
        key = np.arange(quality.size, dtype=np.int32)
        key -= np.repeat(starts.astype(np.int32), lengths)
        key *= 5
        key += _BASE_INDEX[sequence]  # 0-3 for G, A, T, C; 4 for anything else (N)
        key *= SLOTS
        key += quality
        joint = np.bincount(key, minlength=rows * 5 * SLOTS).reshape(rows, 5, SLOTS)
        self.qualities += joint.sum(axis=1)
        self.bases += joint[:, :4, :].sum(axis=2)
        nonempty = lengths > 0
        sums = np.add.reduceat(quality, starts[nonempty], dtype=np.int64)
        self.read_means += np.bincount(sums // lengths[nonempty], minlength=SLOTS)[:SLOTS]
        self._add_gc(sequence, starts[nonempty], lengths[nonempty])

    def _add_gc(self, sequence: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
        """Count each read's G/C bases over the part FastQC counts: a read over 1,000 bases to its last full thousand,
        one over 100 to its last full hundred (so that few GC models are needed), a shorter one whole."""
        counted = np.where(
            lengths > 1000, lengths // 1000 * 1000, np.where(lengths > 100, lengths // 100 * 100, lengths)
        )
        cumulative = np.concatenate(([0], np.cumsum(_IS_GC[sequence])))
        gc = cumulative[starts + counted] - cumulative[starts]
        key = counted * (int(counted.max()) + 1) + gc
        keys, tallies = np.unique(key, return_counts=True)
        width = int(counted.max()) + 1
        for value, tally in zip(keys.tolist(), tallies.tolist(), strict=True):
            length, count = divmod(value, width)
            row = self.gc_counts.get(length)
            if row is None:
                row = self.gc_counts[length] = np.zeros(length + 1, dtype=np.int64)
            row[count] += tally

    def gc_distribution(self) -> list[float]:
        """FastQC's per-sequence GC content: reads per GC percentage (0-100), fractional by its GC model."""
        distribution = np.zeros(GC_BINS, dtype=np.float64)
        for length, row in self.gc_counts.items():
            distribution += row.astype(np.float64) @ gc_model(length)
        return [round(float(value), 3) for value in distribution]

    def report(self) -> dict:
        """The quality document of this file (Virtool's single-file shape)."""
        if self.count == 0:
            raise QualityError("the file contains no reads")
        encoding, offset = _encoding(self.lowest)
        phred = np.arange(SLOTS - offset, dtype=np.int64)
        bases = []
        for histogram in self.qualities:
            counts = histogram[offset:]
            n = int(counts.sum())
            if n == 0:
                continue
            mean = float(int((counts * phred).sum())) / n
            if n <= 100:
                values = [mean] * 6
            else:
                cumulative = np.cumsum(counts)
                values = [mean] + [float(np.argmax(cumulative >= n * p // 100)) for p in PERCENTILES]
            bases.append([round(value, 3) for value in values])
        composition = []
        for counts in self.bases:
            total = int(counts.sum())
            composition.append([0, 0, 0, 0] if total == 0 else [round(int(x) / total * 100, 1) for x in counts])
        g, a, t, c = (int(x) for x in self.bases.sum(axis=0))
        acgt = a + c + g + t
        sequences = [int(x) for x in self.read_means[offset : offset + 50]]
        sequences += [0] * (50 - len(sequences))
        return {
            "bases": bases,
            "composition": composition,
            "count": self.count,
            "encoding": encoding,
            "gc": (g + c) * 100 // acgt if acgt else 0,
            "length": [self.min_length, self.max_length],
            "sequences": sequences,
            "gc_distribution": (distribution := self.gc_distribution()),
            "gc_theoretical": gc_theoretical(distribution),
        }


# What reading a FASTQ file may raise: a format error, or a damaged or truncated gzip stream.
_READ_ERRORS: tuple[type[BaseException], ...] = (dnaio.exceptions.FileFormatError, *seqio.DECOMPRESSION_ERRORS)


def _reader_errors(path: Path, error: BaseException) -> QualityError:
    """The error a scientist reads for a FASTQ file that cannot be read (`path.name` names it)."""
    if isinstance(error, dnaio.exceptions.FileFormatError):
        line = getattr(error, "line", None)
        where = f", record {line // 4 + 1}" if line is not None else ""
        return QualityError(f"{path.name} is not valid FASTQ{where}: {error.message}")
    return QualityError(f"{path.name} could not be read to the end ({error}); is it truncated?")


def _batches(path: Path) -> Iterable[tuple[list[str], list[str]]]:
    sequences: list[str] = []
    qualities: list[str] = []
    try:
        # seqio decompresses gzip on another core while this one counts (as dnaio's open_threads=1 did, at the
        # same speed) and judges gzip by content, so a plain file named .gz is read too.
        with seqio.open_read(path) as handle, dnaio.open(handle, mode="r") as reader:
            if not isinstance(reader, dnaio.FastqReader):
                raise QualityError(f"{path.name} is not a FASTQ file")
            for record in reader:
                sequences.append(record.sequence)
                # A FastqReader's records always carry qualities; dnaio types them optional (FASTA has none).
                qualities.append(record.qualities)  # type: ignore[arg-type]
                if len(qualities) >= BATCH:
                    yield sequences, qualities
                    sequences, qualities = [], []
    # ISA-L's error for a damaged block is not an OSError
    except _READ_ERRORS as error:
        raise _reader_errors(path, error) from None
    if qualities:
        yield sequences, qualities


def _records(path: Path) -> Iterator[dnaio.SequenceRecord]:
    """The records of one FASTQ file, with `_batches`' errors."""
    try:
        with seqio.open_read(path) as handle, dnaio.open(handle, mode="r") as reader:
            if not isinstance(reader, dnaio.FastqReader):
                raise QualityError(f"{path.name} is not a FASTQ file")
            yield from reader
    except _READ_ERRORS as error:
        raise _reader_errors(path, error) from None


# Illumina's older mate endings (`/1`, `/2`; `;1`, `;2` as in some exports): a read's id without them is its pair's.
_MATE_ENDINGS = frozenset(("/1", "/2", ";1", ";2"))


def mate_id(read_id: str) -> str:
    """What two mates' ids (the name before any space) share: the id without a `/1` `/2` (or `;1` `;2`) ending.

    A final digit alone is part of the name (`...:1331` and `...:1332` are different clusters)."""
    return read_id[:-2] if read_id[-2:] in _MATE_ENDINGS else read_id


class PairError(Exception):
    """Two read files are not one pair; the message names both and the first record that disagrees."""


def pair_quality(
    paths: Sequence[Path], *, names: tuple[str, str], on_progress: Callable[[int], None] | None = None
) -> tuple[dict, dict]:
    """The quality documents of a pair's two files, read side by side in one pass, checking that they are a pair:
    as many reads in each, and each read's mate named alike (`mate_id`; comments after a space are ignored).
    `names` are how the files are shown in errors; `on_progress` receives the reads read so far (both files).
    Raises PairError, or QualityError for a file that is not valid FASTQ."""
    first, second = (Path(path) for path in paths)
    profiles = (QualityProfile(), QualityProfile())
    columns: tuple[list[str], list[str], list[str], list[str]] = ([], [], [], [])
    count = 0
    seq1, qual1, seq2, qual2 = (column.append for column in columns)
    for one, two in zip_longest(_records(first), _records(second)):
        if one is None or two is None:
            ended, goes_on, extra = (names[1], names[0], one) if two is None else (names[0], names[1], two)
            raise PairError(
                f"{names[0]} and {names[1]} are not a pair: {ended} ends after {count} "
                f"read{'s' if count != 1 else ''} but {goes_on} goes on (its record {count + 1} is '{extra.name}')"
            )
        count += 1
        if one.name != two.name and one.id != two.id and mate_id(one.id) != mate_id(two.id):
            raise PairError(
                f"{names[0]} and {names[1]} are not a pair: record {count} is '{one.name}' in {names[0]} but "
                f"'{two.name}' in {names[1]} (mates have the same name, apart from a /1 or /2 ending and the "
                "comment after a space)"
            )
        seq1(one.sequence)
        qual1(one.qualities)  # type: ignore[arg-type]
        seq2(two.sequence)
        qual2(two.qualities)  # type: ignore[arg-type]
        if count % BATCH == 0:
            _add_pair(profiles, columns, on_progress, count)
            columns = ([], [], [], [])
            seq1, qual1, seq2, qual2 = (column.append for column in columns)
    if columns[0]:
        _add_pair(profiles, columns, on_progress, count)
    reports = []
    for path, profile in zip((first, second), profiles, strict=True):
        try:
            reports.append(profile.report())
        except QualityError as error:
            raise QualityError(f"{path.name}: {error}") from None
    return reports[0], reports[1]


def _add_pair(
    profiles: tuple[QualityProfile, QualityProfile],
    columns: tuple[list[str], list[str], list[str], list[str]],
    on_progress: Callable[[int], None] | None,
    count: int,
) -> None:
    profiles[0].add(columns[0], columns[1])
    profiles[1].add(columns[2], columns[3])
    if on_progress:
        on_progress(2 * count)


def file_quality(path: str | Path, *, on_progress: Callable[[int], None] | None = None) -> dict:
    """The quality document of one FASTQ file (plain or gzip); `on_progress` receives the reads read so far."""
    path = Path(path)
    profile = QualityProfile()
    for sequences, qualities in _batches(path):
        profile.add(sequences, qualities)
        if on_progress:
            on_progress(profile.count)
    try:
        return profile.report()
    except QualityError as error:
        raise QualityError(f"{path.name}: {error}") from None


def composite_quality(left: dict, right: dict) -> dict:
    """A pair's quality from the two files' documents, as Virtool builds it from the rounded rows."""
    rows = min(len(left["bases"]), len(right["bases"]))
    columns = min(len(left["composition"]), len(right["composition"]))
    return {
        "bases": [
            [round((x + y) / 2, 3) for x, y in zip(left["bases"][i], right["bases"][i], strict=True)]
            for i in range(rows)
        ],
        "composition": [
            [round((x + y) / 2, 1) for x, y in zip(left["composition"][i], right["composition"][i], strict=True)]
            for i in range(columns)
        ],
        "count": left["count"] + right["count"],
        "encoding": left["encoding"],
        "gc": (left["gc"] + right["gc"]) / 2,
        "length": [min(left["length"][0], right["length"][0]), max(left["length"][1], right["length"][1])],
        "sequences": [x + y for x, y in zip(left["sequences"], right["sequences"], strict=True)],
        **_composite_gc(left, right),
    }


def _composite_gc(left: dict, right: dict) -> dict:
    """A pair's GC distribution: both files' reads together (absent from reports made before it was counted)."""
    if "gc_distribution" not in left or "gc_distribution" not in right:
        return {}
    distribution = [round(x + y, 3) for x, y in zip(left["gc_distribution"], right["gc_distribution"], strict=True)]
    return {"gc_distribution": distribution, "gc_theoretical": gc_theoretical(distribution)}


def quality(paths: Sequence[str | Path], *, on_progress: Callable[[int], None] | None = None) -> dict:
    """The quality document of a sample: one file, or a pair's composite."""
    if len(paths) == 1:
        return file_quality(paths[0], on_progress=on_progress)
    if len(paths) != 2:
        raise ValueError("a sample has one or two read files")
    left = file_quality(paths[0], on_progress=on_progress)
    done = left["count"]
    right = file_quality(paths[1], on_progress=(lambda count: on_progress(done + count)) if on_progress else None)
    return composite_quality(left, right)
