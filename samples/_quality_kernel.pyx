# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The quality report's counting loop in C (Cython): parses FASTQ text and counts it in one pass, without the GIL.

`count` reads the complete records in `buffer[start:end]` and adds them to the count arrays (see
`samples/quality.py::_Scan`, which owns them). It accepts only plain, well-formed FASTQ, the part of it dnaio reads
as exactly these records: an `@` header of ASCII text, a sequence line, a `+` line (empty or repeating the header),
as many quality characters as bases, every line ending in `\\n`. Anything else (CRLF line ends, non-ASCII bytes, a
malformed record) stops it with UNUSUAL, and the caller reads the file again with dnaio, which counts it or names
the error. So every number it produces is the number the dnaio + numpy path produces for the same file.

Returns (status, position, value): NEED_MORE (position = start of the first incomplete record), GROW (a read of
`value` bases is longer than the cycle arrays; position = its record), FLUSH (the long-read or id buffers are full;
position = the next record), UNUSUAL (position = the record). Built by bin/bootstrap (cython, then cc).
"""

from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.string cimport memchr, memcmp, memcpy

cdef enum:
    NEED_MORE = 0
    GROW = 1
    FLUSH = 2
    UNUSUAL = 3
    SLOTS = 128
    BASE_COLUMNS = 5  # G, A, T, C, other (N)
    GC_WIDTH = 1001  # G/C counts 0..1000 of the reads counted over at most 1,000 bases
    GC_ROWS = 110  # counted lengths 0..100 (rows 0-100) and 200, 300, ..., 1000 (rows 101-109)
    # stats slots
    COUNT = 0
    MIN_LENGTH = 1
    MAX_LENGTH = 2
    LONG_USED = 3
    IDS_USED = 4
    ID_COUNT = 5

# The same numbers for the caller.
STATUS = {"need_more": NEED_MORE, "grow": GROW, "flush": FLUSH, "unusual": UNUSUAL}
SHAPES = {"slots": SLOTS, "base_columns": BASE_COLUMNS, "gc_rows": GC_ROWS, "gc_width": GC_WIDTH}
STATS = {"count": COUNT, "min_length": MIN_LENGTH, "max_length": MAX_LENGTH, "long_used": LONG_USED,
         "ids_used": IDS_USED, "id_count": ID_COUNT}

cdef uint8_t BASE[256]
cdef uint8_t IS_GC[256]
cdef uint8_t BAD_SEQUENCE[256]
cdef uint8_t BAD_QUALITY[256]


cdef void _tables() noexcept:
    cdef int c, index
    cdef bytes letters = b"GATC"
    for c in range(256):
        BASE[c] = 4
        IS_GC[c] = 0
        BAD_SEQUENCE[c] = 1 if (c >= 128 or c == 13) else 0
        BAD_QUALITY[c] = 1 if (c >= 128 or c == 13 or c == 10) else 0
    for index in range(4):
        BASE[letters[index]] = index
        BASE[letters[index] + 32] = index  # FastQC upper-cases reads
    for c in b"GCgc":
        IS_GC[c] = 1


_tables()


cdef inline Py_ssize_t _gc_row(Py_ssize_t counted) noexcept nogil:
    return counted if counted <= 100 else 99 + counted // 100


cdef int _scan(
    const uint8_t* b,
    Py_ssize_t p,
    Py_ssize_t end,
    int64_t* qualities,
    int64_t* bases,
    Py_ssize_t cycles,
    int64_t* means,
    int64_t* gc_short,
    int64_t* long_gc,
    Py_ssize_t long_capacity,
    int64_t* stats,
    uint8_t* ids,
    Py_ssize_t ids_capacity,
    int32_t* id_lengths,
    Py_ssize_t id_lengths_capacity,
    Py_ssize_t* position,
    Py_ssize_t* value,
) noexcept nogil:
    cdef Py_ssize_t record, h, h_end, id_end, s, s_end, plus, plus_end, q, length, i, counted, id_length
    cdef const uint8_t* found
    cdef uint8_t c, qc
    cdef int bad
    cdef int64_t qsum, gc
    while True:
        record = p
        position[0] = p
        if p >= end:
            return NEED_MORE
        if stats[LONG_USED] >= long_capacity:
            return FLUSH
        if ids != NULL and stats[ID_COUNT] >= id_lengths_capacity:
            return FLUSH
        if b[p] != 64:  # '@'
            return UNUSUAL
        # The header: ASCII without CR; the id ends at the first space or tab (dnaio's `id`).
        h = p + 1
        i = h
        id_end = -1
        while i < end:
            c = b[i]
            if c == 10:
                break
            if c >= 128 or c == 13:
                return UNUSUAL
            if id_end < 0 and (c == 32 or c == 9):
                id_end = i
            i += 1
        if i >= end:
            return NEED_MORE
        h_end = i
        if id_end < 0:
            id_end = h_end
        s = h_end + 1
        if s >= end:
            return NEED_MORE
        found = <const uint8_t*>memchr(b + s, 10, end - s)
        if found == NULL:
            return NEED_MORE
        s_end = found - b
        length = s_end - s
        plus = s_end + 1
        if plus >= end:
            return NEED_MORE
        if b[plus] != 43:  # '+'
            return UNUSUAL
        found = <const uint8_t*>memchr(b + plus, 10, end - plus)
        if found == NULL:
            return NEED_MORE
        plus_end = found - b
        if plus_end - plus - 1 != 0 and (
            plus_end - plus - 1 != h_end - h or memcmp(b + plus + 1, b + h, h_end - h) != 0
        ):
            return UNUSUAL
        q = plus_end + 1
        if q + length >= end:
            return NEED_MORE
        if b[q + length] != 10:  # as many quality characters as bases
            return UNUSUAL
        if length > cycles:
            value[0] = length
            return GROW
        if ids != NULL:
            id_length = id_end - h
            if id_length >= 2 and (b[id_end - 2] == 47 or b[id_end - 2] == 59) and (
                b[id_end - 1] == 49 or b[id_end - 1] == 50
            ):  # a /1 /2 ;1 ;2 ending: `mate_id`
                id_length -= 2
            if stats[IDS_USED] + id_length > ids_capacity:
                if stats[ID_COUNT] == 0:
                    return UNUSUAL  # an id longer than the whole buffer
                return FLUSH
        # Count it.
        bad = 0
        qsum = 0
        for i in range(length):
            c = b[s + i]
            qc = b[q + i]
            bad |= BAD_SEQUENCE[c] | BAD_QUALITY[qc]
            qualities[i * SLOTS + (qc & 127)] += 1  # in bounds even for a bad byte
            bases[i * BASE_COLUMNS + BASE[c]] += 1
            qsum += qc
        if bad:
            return UNUSUAL  # the counts are dropped with the whole scan
        stats[COUNT] += 1
        if length < stats[MIN_LENGTH]:
            stats[MIN_LENGTH] = length
        if length > stats[MAX_LENGTH]:
            stats[MAX_LENGTH] = length
        if length > 0:
            means[qsum // length] += 1
            # FastQC counts G/C over a read's last full thousand (over 1,000 nt), hundred (over 100), or all of it.
            if length > 1000:
                counted = length // 1000 * 1000
            elif length > 100:
                counted = length // 100 * 100
            else:
                counted = length
            gc = 0
            for i in range(counted):
                gc += IS_GC[b[s + i]]
            if counted <= 1000:
                gc_short[_gc_row(counted) * GC_WIDTH + gc] += 1
            else:
                long_gc[stats[LONG_USED]] = (<int64_t>counted << 32) | gc
                stats[LONG_USED] += 1
        if ids != NULL:
            memcpy(ids + stats[IDS_USED], b + h, id_length)
            stats[IDS_USED] += id_length
            id_lengths[stats[ID_COUNT]] = <int32_t>id_length
            stats[ID_COUNT] += 1
        p = q + length + 1


def count(
    const uint8_t[::1] buffer,
    Py_ssize_t start,
    Py_ssize_t end,
    int64_t[:, ::1] qualities,
    int64_t[:, ::1] bases,
    int64_t[::1] means,
    int64_t[:, ::1] gc_short,
    int64_t[::1] long_gc,
    int64_t[::1] stats,
    uint8_t[::1] ids=None,
    int32_t[::1] id_lengths=None,
):
    """Count the complete records of `buffer[start:end]` (see the module's docstring); returns (status, position,
    value). `ids`/`id_lengths` (optional) receive each record's mate id (`mate_id` of its id) for a pair's check."""
    cdef Py_ssize_t position = start, value = 0
    cdef int status
    cdef uint8_t* ids_pointer = NULL
    cdef int32_t* lengths_pointer = NULL
    cdef Py_ssize_t ids_capacity = 0, lengths_capacity = 0
    if not (0 <= start <= end <= buffer.shape[0]):
        raise ValueError("start and end must lie within the buffer")
    if qualities.shape[1] != SLOTS or bases.shape[1] != BASE_COLUMNS or bases.shape[0] != qualities.shape[0]:
        raise ValueError("the cycle arrays must be (cycles, 128) and (cycles, 5)")
    if means.shape[0] != SLOTS or gc_short.shape[0] != GC_ROWS or gc_short.shape[1] != GC_WIDTH:
        raise ValueError("means must hold 128 slots and gc_short (110, 1001)")
    if stats.shape[0] < 6 or long_gc.shape[0] < 1 or qualities.shape[0] < 1:
        raise ValueError("stats needs 6 slots, long_gc and the cycle arrays at least one")
    if ids is not None:
        if id_lengths is None or ids.shape[0] < 1 or id_lengths.shape[0] < 1:
            raise ValueError("ids needs id_lengths, both non-empty")
        ids_pointer = &ids[0]
        lengths_pointer = &id_lengths[0]
        ids_capacity = ids.shape[0]
        lengths_capacity = id_lengths.shape[0]
    if start == end:
        return NEED_MORE, start, 0
    with nogil:
        status = _scan(
            &buffer[0],
            start,
            end,
            &qualities[0, 0],
            &bases[0, 0],
            qualities.shape[0],
            &means[0],
            &gc_short[0, 0],
            &long_gc[0],
            long_gc.shape[0],
            &stats[0],
            ids_pointer,
            ids_capacity,
            lengths_pointer,
            lengths_capacity,
            &position,
            &value,
        )
    return status, position, value
