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

import argparse
import contextlib
import json
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import zip_longest
from pathlib import Path

import dnaio
import numpy as np

from core import seqio

try:
    from samples import _quality_kernel as _kernel
except ImportError as error:  # pragma: no cover - the set-up builds it
    raise ImportError(f"the quality kernel is not built ({error}): run bin/bootstrap (or bin/build-kernels)") from None

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


def _dnaio_pair_profiles(
    paths: Sequence[Path], *, names: tuple[str, str], on_progress: Callable[[int], None] | None = None
) -> tuple[QualityProfile, QualityProfile]:
    """A pair's two profiles the dnaio + numpy way, side by side in one pass, checking that they are a pair: as
    many reads in each, and each read's mate named alike (`mate_id`; comments after a space are ignored). Raises
    PairError, or QualityError for a file that is not valid FASTQ."""
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
    return profiles


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


# --- The compiled scan --------------------------------------------------------------------------------------------
#
# The counting path: the file's text, decompressed by ISA-L on another thread (`seqio.open_read`), is read in blocks
# of CHUNK bytes straight into one numpy buffer and parsed and counted there by `_quality_kernel.count` (Cython, no
# GIL: a pair's two files are counted on two threads at once). No record objects, no strings, no temporaries: about
# 1 ns a base. It takes only plain well-formed FASTQ; at anything else (CRLF line ends, non-ASCII, a damaged record
# or gzip stream, a pair that is not one) it gives up with `_Unusual` and the file is read again by the dnaio + numpy
# path above, which counts it the same way or raises the error that names the file and record.

CHUNK = 1 << 20  # a megabyte of text per call: the buffer stays in cache and progress comes every ~4,000 reads
_LONG_CAPACITY = 4096  # reads over 1,000 nt kept per flush, as (counted length, G/C) keys
_IDS_CAPACITY = 1 << 18  # a pair's mate ids kept per flush: their bytes, and ...
_ID_COUNT_CAPACITY = 1 << 14  # ... their lengths
_NEED_MORE, _GROW, _FLUSH, _UNUSUAL = (_kernel.STATUS[name] for name in ("need_more", "grow", "flush", "unusual"))


class _Unusual(Exception):
    """The compiled scan met something it leaves to dnaio: the file is read again the dnaio + numpy way."""


class _Stopped(Exception):
    """Another thread asked this scan to stop (the other file of the pair failed, or the pair is not one)."""


class _Scan:
    """The count arrays of one file as the compiled kernel fills them, turned into a QualityProfile at the end."""

    def __init__(self, *, with_ids: bool) -> None:
        shapes = _kernel.SHAPES
        self.cycles = 256
        self.qualities = np.zeros((self.cycles, shapes["slots"]), dtype=np.int64)
        self.bases = np.zeros((self.cycles, shapes["base_columns"]), dtype=np.int64)
        self.means = np.zeros(shapes["slots"], dtype=np.int64)
        self.gc_short = np.zeros((shapes["gc_rows"], shapes["gc_width"]), dtype=np.int64)
        self.long_gc = np.zeros(_LONG_CAPACITY, dtype=np.int64)
        self.long_keys: dict[int, int] = {}
        self.stats = np.zeros(6, dtype=np.int64)
        self.stats[_kernel.STATS["min_length"]] = np.iinfo(np.int64).max
        self.ids = np.zeros(_IDS_CAPACITY, dtype=np.uint8) if with_ids else None
        self.id_lengths = np.zeros(_ID_COUNT_CAPACITY, dtype=np.int32) if with_ids else None

    @property
    def count(self) -> int:
        return int(self.stats[_kernel.STATS["count"]])

    def _grow(self, length: int) -> None:
        extra = max(length, 2 * self.cycles) - self.cycles
        self.qualities = np.vstack([self.qualities, np.zeros((extra, self.qualities.shape[1]), dtype=np.int64)])
        self.bases = np.vstack([self.bases, np.zeros((extra, self.bases.shape[1]), dtype=np.int64)])
        self.cycles += extra

    def _flush(self, on_ids: Callable[[np.ndarray, bytes], None] | None) -> None:
        stats = _kernel.STATS
        used = int(self.stats[stats["long_used"]])
        for key in self.long_gc[:used].tolist():
            self.long_keys[key] = self.long_keys.get(key, 0) + 1
        self.stats[stats["long_used"]] = 0
        if self.ids is not None and self.id_lengths is not None:
            count = int(self.stats[stats["id_count"]])
            if count and on_ids is not None:
                on_ids(self.id_lengths[:count].copy(), self.ids[: int(self.stats[stats["ids_used"]])].tobytes())
            self.stats[stats["ids_used"]] = self.stats[stats["id_count"]] = 0

    def read(
        self,
        path: Path,
        *,
        on_chunk: Callable[[int], None] | None = None,
        on_ids: Callable[[np.ndarray, bytes], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Count the whole file; raises _Unusual for what dnaio must judge, _Stopped when `stop` is set."""
        buffer = np.empty(CHUNK, dtype=np.uint8)
        kept = 0  # bytes of an incomplete record carried to the front of the buffer
        final = False
        try:
            with seqio.open_read(path) as handle:
                while not final:
                    if stop is not None and stop.is_set():
                        raise _Stopped
                    if kept == buffer.size:  # one record longer than the buffer
                        buffer = np.concatenate([buffer, np.empty(buffer.size, dtype=np.uint8)])
                    read = handle.readinto(buffer[kept:].data)  # type: ignore[attr-defined]
                    end = kept + read
                    if read == 0:
                        final = True
                        if end == 0:
                            break
                        if buffer[end - 1] != 10:  # the last line may lack its newline, as dnaio allows
                            if end == buffer.size:
                                buffer = np.concatenate([buffer, np.empty(1, dtype=np.uint8)])
                            buffer[end] = 10
                            end += 1
                    position = self._count(buffer, end, on_ids)
                    if final and position != end:
                        raise _Unusual  # a record cut short at the end of the file: dnaio names it
                    kept = end - position
                    buffer[:kept] = buffer[position:end]
                    self._flush(on_ids)
                    if on_chunk is not None:
                        on_chunk(self.count)
        except _READ_ERRORS:
            raise _Unusual from None  # a damaged or truncated gzip stream: the dnaio path names it
        if self.count == 0:
            raise _Unusual  # an empty file, or not FASTQ at all: dnaio says which

    def _count(self, buffer: np.ndarray, end: int, on_ids: Callable[[np.ndarray, bytes], None] | None) -> int:
        position = 0
        while True:
            status, position, value = _kernel.count(
                buffer,
                position,
                end,
                self.qualities,
                self.bases,
                self.means,
                self.gc_short,
                self.long_gc,
                self.stats,
                self.ids,
                self.id_lengths,
            )
            if status == _NEED_MORE:
                return position
            if status == _GROW:
                self._grow(value)
            elif status == _FLUSH:
                self._flush(on_ids)
            else:
                raise _Unusual

    def profile(self) -> QualityProfile:
        """The counts as a QualityProfile (the same numbers the dnaio + numpy path adds up)."""
        stats = _kernel.STATS
        profile = QualityProfile()
        profile.count = self.count
        length = int(self.stats[stats["max_length"]])
        profile.min_length = int(self.stats[stats["min_length"]])
        profile.max_length = length
        profile.qualities = self.qualities[:length]
        profile.bases = self.bases[:length, :4]
        profile.read_means = self.means
        seen = np.flatnonzero(self.qualities[:length].sum(axis=0))
        profile.lowest = int(seen[0]) if seen.size else 255
        # gc_short's rows: counted lengths 0-100, then 200, 300, ..., 1000 (see the kernel's `_gc_row`)
        rows = {counted: counted for counted in range(101)} | {99 + hundred: hundred * 100 for hundred in range(2, 11)}
        for row, counted in rows.items():
            counts = self.gc_short[row, : counted + 1]
            if counts.any():
                profile.gc_counts[counted] = counts.copy()
        for key, tally in sorted(self.long_keys.items()):
            counted, gc = key >> 32, key & 0xFFFFFFFF
            tallies = profile.gc_counts.setdefault(counted, np.zeros(counted + 1, dtype=np.int64))
            tallies[gc] += tally
        profile.gc_counts = dict(sorted(profile.gc_counts.items()))
        return profile


def file_profile(path: Path, *, on_progress: Callable[[int], None] | None = None) -> QualityProfile:
    """One file's counts: the compiled scan, or the dnaio + numpy path for what it leaves to dnaio."""
    scan = _Scan(with_ids=False)
    try:
        scan.read(path, on_chunk=on_progress)
    except _Unusual:
        return _dnaio_profile(path, on_progress)
    return scan.profile()


class _Side:
    """One file of a pair on its own thread: its scan, and the mate ids it has read that the other has not."""

    def __init__(self, path: Path, *, with_ids: bool, stop: threading.Event) -> None:
        self.path = path
        self.scan = _Scan(with_ids=with_ids)
        self.queue: queue.Queue[tuple[np.ndarray, bytes] | None] = queue.Queue(maxsize=8)
        self.error: BaseException | None = None
        self.stop = stop
        self.thread = threading.Thread(target=self._run, name=f"quality {path.name}", daemon=True)
        self.lengths = np.zeros(0, dtype=np.int32)
        self.data = b""
        self.done = False

    def _put(self, item: tuple[np.ndarray, bytes] | None) -> None:
        while True:
            if self.stop.is_set():
                raise _Stopped
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            self.scan.read(self.path, on_ids=lambda lengths, data: self._put((lengths, data)), stop=self.stop)
        except BaseException as error:  # handed to the main thread, which decides
            self.error = error
            self.stop.set()
        finally:
            with contextlib.suppress(_Stopped):
                self._put(None)

    def take(self) -> None:
        """Wait for this side's next block of ids (or its end)."""
        while True:
            try:
                item = self.queue.get(timeout=0.1)
                break
            except queue.Empty:
                if self.stop.is_set() and not self.thread.is_alive():
                    item = None
                    break
        if item is None:
            self.done = True
        else:
            self.lengths = np.concatenate([self.lengths, item[0]])
            self.data += item[1]


def _check_mates(sides: tuple[_Side, _Side], on_progress: Callable[[int], None] | None) -> None:
    """Compare the two files' mate ids record by record as their threads read them; _Unusual at the first that
    differs, or when one file ends first (the dnaio path then names the record)."""
    compared = 0
    while True:
        for side in sides:
            if side.error is not None:
                raise _Unusual
        waiting = [side for side in sides if not side.done and side.lengths.size <= min(s.lengths.size for s in sides)]
        if waiting:
            waiting[0].take()
        left, right = sides
        k = min(left.lengths.size, right.lengths.size)
        if k:
            if not np.array_equal(left.lengths[:k], right.lengths[:k]):
                raise _Unusual
            size = int(left.lengths[:k].sum())
            if left.data[:size] != right.data[:size]:
                raise _Unusual
            for side in sides:
                side.lengths, side.data = side.lengths[k:], side.data[size:]
            compared += k
            if on_progress:
                on_progress(2 * compared)
        if left.done and right.done:
            if left.lengths.size or right.lengths.size:
                raise _Unusual  # one file has reads the other has not
            return
        if (left.done and not left.lengths.size and right.lengths.size) or (
            right.done and not right.lengths.size and left.lengths.size
        ):
            raise _Unusual


def _scan_both(
    paths: Sequence[Path], *, check_mates: bool, on_progress: Callable[[int], None] | None
) -> tuple[QualityProfile, QualityProfile]:
    """Both files' counts on two threads at once (each with its own decompressing thread); raises _Unusual."""
    stop = threading.Event()
    sides = (_Side(paths[0], with_ids=check_mates, stop=stop), _Side(paths[1], with_ids=check_mates, stop=stop))
    for side in sides:
        side.thread.start()
    try:
        if check_mates:
            _check_mates(sides, on_progress)
        else:
            for side in sides:
                while not side.done:
                    side.take()
                    if on_progress:
                        on_progress(sides[0].scan.count + sides[1].scan.count)
        for side in sides:
            side.thread.join()
            if side.error is not None:
                raise _Unusual
    finally:
        stop.set()
        for side in sides:
            side.thread.join()
    return sides[0].scan.profile(), sides[1].scan.profile()


def pair_quality(
    paths: Sequence[Path], *, names: tuple[str, str], on_progress: Callable[[int], None] | None = None
) -> tuple[dict, dict]:
    """The quality documents of a pair's two files, counted at once on two threads, checking that they are a pair:
    as many reads in each, and each read's mate named alike (`mate_id`; comments after a space are ignored).
    `names` are how the files are shown in errors; `on_progress` receives the reads read so far (both files).
    Raises PairError, or QualityError for a file that is not valid FASTQ."""
    paths = [Path(path) for path in paths]
    try:
        profiles = _scan_both(paths, check_mates=True, on_progress=on_progress)
    except _Unusual:
        profiles = _dnaio_pair_profiles(paths, names=names, on_progress=on_progress)
    return _report(paths[0], profiles[0]), _report(paths[1], profiles[1])


def _dnaio_profile(path: Path, on_progress: Callable[[int], None] | None = None) -> QualityProfile:
    """One file's profile the dnaio + numpy way (what the compiled scan leaves to it; it names every error)."""
    profile = QualityProfile()
    for sequences, qualities in _batches(path):
        profile.add(sequences, qualities)
        if on_progress:
            on_progress(profile.count)
    return profile


def _report(path: Path, profile: QualityProfile) -> dict:
    try:
        return profile.report()
    except QualityError as error:
        raise QualityError(f"{path.name}: {error}") from None


def file_quality(path: str | Path, *, on_progress: Callable[[int], None] | None = None) -> dict:
    """The quality document of one FASTQ file (plain or gzip); `on_progress` receives the reads read so far."""
    path = Path(path)
    return _report(path, file_profile(path, on_progress=on_progress))


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
    """The quality document of a sample: one file, or a pair's composite (the two files counted at once)."""
    if len(paths) == 1:
        return file_quality(paths[0], on_progress=on_progress)
    if len(paths) != 2:
        raise ValueError("a sample has one or two read files")
    first, second = (Path(path) for path in paths)
    try:
        profiles = _scan_both([first, second], check_mates=False, on_progress=on_progress)
    except _Unusual:
        left = file_quality(first, on_progress=on_progress)
        done = left["count"]
        right = file_quality(second, on_progress=(lambda count: on_progress(done + count)) if on_progress else None)
        return composite_quality(left, right)
    return composite_quality(_report(first, profiles[0]), _report(second, profiles[1]))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m samples.quality READS_1 [READS_2]` (also what `manage.py quality` runs, before any of Django is
    imported): print the quality JSON of one FASTQ file or of a pair; exit 1 naming the file it cannot read."""
    parser = argparse.ArgumentParser(
        prog="manage.py quality",
        description="Print the quality JSON (FastQC's numbers) of one FASTQ file or of a pair.",
    )
    parser.add_argument("reads", nargs="+", help="one or two FASTQ files (plain or gzip)")
    args = parser.parse_args(argv)
    if len(args.reads) > 2:
        parser.error("give one file, or the two files of a pair")
    try:
        document = quality(args.reads)
    except (QualityError, FileNotFoundError) as error:
        sys.stderr.write(f"CommandError: {error}\n")
        return 1
    sys.stdout.write(json.dumps(document) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
