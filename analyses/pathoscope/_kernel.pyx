# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernels of PathoScope (built by bin/build-kernels): the SAM record parser and the EM in flat memory.

`Vec`: a growable array in one raw allocation (PyMem_Raw*, so tracemalloc sees it) handed to numpy without a copy.
`NameTable`: distinct byte strings (read names) in one buffer with an open-addressing index, ~30 bytes a name.
`SamParser.parse`: bowtie2 SAM lines into int32 columns; anything unusual goes back to the Python line parser.
`build_classes` / `em_iterate` / `best_hits` / `coverage`: the EM over equivalence classes of reads (identical
ordered lists of (reference, score)), with sums in the loop formulation's order wherever a result depends on it.
"""

from cpython.buffer cimport PyBuffer_FillInfo
from cpython.mem cimport PyMem_RawFree, PyMem_RawMalloc, PyMem_RawRealloc
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memchr, memcmp, memcpy, memset

import numpy as np

DONE = 0
HEADER = 1
FALLBACK = 2


cdef class Vec:
    """A growable array of `itemsize`-byte items; `array(dtype)` shrinks it and returns a numpy view of it."""

    cdef char* data
    cdef public Py_ssize_t itemsize, length, capacity
    cdef int exports

    def __cinit__(self, Py_ssize_t itemsize, Py_ssize_t capacity=0):
        self.itemsize = itemsize
        self.data = NULL
        self.length = 0
        self.capacity = 0
        self.exports = 0
        if capacity > 0:
            self.reserve(capacity)

    def __dealloc__(self):
        PyMem_RawFree(self.data)

    cdef int reserve(self, Py_ssize_t capacity) except -1:
        cdef char* p
        if capacity <= self.capacity:
            return 0
        if self.exports:
            raise BufferError("a Vec cannot grow while numpy holds it")
        p = <char*>PyMem_RawRealloc(self.data, capacity * self.itemsize)
        if p == NULL:
            raise MemoryError()
        self.data = p
        self.capacity = capacity
        return 0

    cdef int ensure(self, Py_ssize_t extra) except -1:
        """Room for `extra` more items (growth by 1/4: little slack, realloc moves pages rather than copying)."""
        cdef Py_ssize_t need = self.length + extra, cap
        if need <= self.capacity:
            return 0
        cap = self.capacity + (self.capacity >> 2) + 4096
        return self.reserve(cap if cap > need else need)

    def shrink(self):
        cdef char* p
        if self.length < self.capacity and not self.exports:
            p = <char*>PyMem_RawRealloc(self.data, max(self.length * self.itemsize, 1))
            if p != NULL:
                self.data = p
                self.capacity = self.length

    def array(self, dtype):
        self.shrink()
        return np.frombuffer(self, dtype=dtype)

    def __getbuffer__(self, Py_buffer* buffer, int flags):
        PyBuffer_FillInfo(buffer, self, self.data, self.length * self.itemsize, 0, flags)
        self.exports += 1

    def __releasebuffer__(self, Py_buffer* buffer):
        self.exports -= 1


cdef inline uint64_t _hash(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    cdef uint64_t h = 0x9E3779B97F4A7C15ULL ^ <uint64_t>n
    cdef uint64_t w
    while n >= 8:
        memcpy(&w, p, 8)
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL
        h ^= h >> 32
        p += 8
        n -= 8
    if n > 0:
        w = 0
        memcpy(&w, p, n)
        h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL
    h ^= h >> 33
    h *= 0xFF51AFD7ED558CCDULL
    h ^= h >> 33
    return h


cdef class NameTable:
    """Distinct names (bytes) numbered in order of addition: one buffer, end offsets, and a hash index.

    Behaves as a read-only sequence of str (UTF-8, errors replaced) equal to a list of the same names.
    `drop_index()` frees the index after parsing (lookups rebuild it).
    """

    cdef Vec data, ends, hashes
    cdef int32_t* slots
    cdef Py_ssize_t mask

    def __cinit__(self):
        self.data = Vec(1)
        self.ends = Vec(8)
        self.hashes = None
        self.slots = NULL
        self.mask = -1

    def __dealloc__(self):
        PyMem_RawFree(self.slots)

    @staticmethod
    def from_names(names):
        table = NameTable()
        for name in names:
            table.add(name.encode() if isinstance(name, str) else name)
        return table

    cdef inline Py_ssize_t start_of(self, Py_ssize_t i) noexcept:
        return 0 if i == 0 else (<int64_t*>self.ends.data)[i - 1]

    cdef int _index(self, Py_ssize_t capacity) except -1:
        cdef Py_ssize_t i, n = self.ends.length, s
        cdef uint32_t h
        PyMem_RawFree(self.slots)
        self.slots = <int32_t*>PyMem_RawMalloc(capacity * sizeof(int32_t))
        if self.slots == NULL:
            raise MemoryError()
        memset(self.slots, 0xFF, capacity * sizeof(int32_t))
        self.mask = capacity - 1
        if self.hashes is None:
            self.hashes = Vec(4, n + 1024)
            for i in range(n):
                s = self.start_of(i)
                (<uint32_t*>self.hashes.data)[i] = <uint32_t>_hash(<uint8_t*>self.data.data + s,
                                                                  (<int64_t*>self.ends.data)[i] - s)
            self.hashes.length = n
        for i in range(n):
            h = (<uint32_t*>self.hashes.data)[i]
            s = h & self.mask
            while self.slots[s] >= 0:
                s = (s + 1) & self.mask
            self.slots[s] = <int32_t>i
        return 0

    cdef int ensure_index(self) except -1:
        cdef Py_ssize_t capacity = 1024
        if self.slots != NULL:
            return 0
        while capacity < 2 * self.ends.length + 2:
            capacity *= 2
        return self._index(capacity)

    def drop_index(self):
        """Free the index (lookups rebuild it) and the buffers' spare capacity: the names as parsed, nothing more."""
        PyMem_RawFree(self.slots)
        self.slots = NULL
        self.hashes = None
        self.data.shrink()
        self.ends.shrink()

    cdef int32_t find(self, const uint8_t* p, Py_ssize_t n, uint64_t h64, bint add) except -2:
        cdef uint32_t h = <uint32_t>h64
        cdef Py_ssize_t s = h & self.mask, start, i
        cdef int32_t c
        while True:
            c = self.slots[s]
            if c < 0:
                break
            if (<uint32_t*>self.hashes.data)[c] == h:
                start = self.start_of(c)
                if (<int64_t*>self.ends.data)[c] - start == n and memcmp(self.data.data + start, p, n) == 0:
                    return c
            s = (s + 1) & self.mask
        if not add:
            return -1
        i = self.ends.length
        if i >= 2147483647:
            raise OverflowError("more than 2^31 distinct read names")
        self.data.ensure(n)
        memcpy(self.data.data + self.data.length, p, n)
        self.data.length += n
        self.ends.ensure(1)
        (<int64_t*>self.ends.data)[i] = self.data.length
        self.ends.length += 1
        self.hashes.ensure(1)
        (<uint32_t*>self.hashes.data)[i] = h
        self.hashes.length += 1
        self.slots[s] = <int32_t>i
        if 2 * (i + 1) > self.mask:
            self._index(2 * (self.mask + 1))
        return <int32_t>i

    cdef inline int32_t lookup_add(self, const uint8_t* p, Py_ssize_t n) except -2:
        if self.slots == NULL:
            self.ensure_index()
        return self.find(p, n, _hash(p, n), True)

    def add(self, bytes name):
        """The number of `name`, added if new."""
        return self.lookup_add(<const uint8_t*>(<char*>name), len(name))

    def index_of(self, bytes name):
        """The number of `name`, or -1."""
        self.ensure_index()
        cdef const uint8_t* p = <const uint8_t*>(<char*>name)
        return self.find(p, len(name), _hash(p, len(name)), False)

    def lookup(self, NameTable other):
        """For each name of `other`, its number here or -1 (int32)."""
        cdef Py_ssize_t i, s, n = other.ends.length
        cdef const uint8_t* p
        out = np.empty(n, dtype=np.int32)
        cdef int32_t[::1] o = out
        self.ensure_index()
        for i in range(n):
            s = other.start_of(i)
            p = <uint8_t*>other.data.data + s
            o[i] = self.find(p, (<int64_t*>other.ends.data)[i] - s, _hash(p, (<int64_t*>other.ends.data)[i] - s), False)
        return out

    def get(self, Py_ssize_t i):
        cdef Py_ssize_t s = self.start_of(i)
        return self.data.data[s:(<int64_t*>self.ends.data)[i]]

    def nbytes(self):
        return self.data.capacity + 8 * self.ends.capacity + (4 * self.hashes.capacity if self.hashes else 0) + (
            4 * (self.mask + 1) if self.slots != NULL else 0)

    def __len__(self):
        return self.ends.length

    def __getitem__(self, i):
        cdef Py_ssize_t n = self.ends.length
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("name index out of range")
        return self.get(i).decode("utf-8", "replace")

    def __iter__(self):
        for i in range(self.ends.length):
            yield self.get(i).decode("utf-8", "replace")

    def __eq__(self, other):
        try:
            return len(other) == len(self) and all(a == b for a, b in zip(self, other))
        except TypeError:
            return NotImplemented

    __hash__ = None

    def __repr__(self):
        return f"NameTable({len(self)} names)"


cdef inline Py_ssize_t _tab(const uint8_t* b, Py_ssize_t p, Py_ssize_t end) noexcept nogil:
    cdef const void* hit = memchr(b + p, 9, end - p)
    return -1 if hit == NULL else <const uint8_t*>hit - b


cdef inline bint _uint(const uint8_t* b, Py_ssize_t p, Py_ssize_t end, int64_t* value) noexcept nogil:
    """Digits only, 1 to 18 of them."""
    cdef int64_t v = 0
    if end <= p or end - p > 18:
        return False
    while p < end:
        if b[p] < 48 or b[p] > 57:
            return False
        v = v * 10 + (b[p] - 48)
        p += 1
    value[0] = v
    return True


cdef class SamParser:
    """Accumulates the kept records of a SAM file: read, ref, pos (0-based), len(SEQ) and AS + len(SEQ), int32."""

    cdef public NameTable reads, refs
    cdef public Vec read, ref, pos, length, score
    cdef public Py_ssize_t lineno
    cdef int32_t last_read

    def __cinit__(self):
        self.reads = NameTable()
        self.refs = NameTable()
        self.read = Vec(4)
        self.ref = Vec(4)
        self.pos = Vec(4)
        self.length = Vec(4)
        self.score = Vec(4)
        self.lineno = 1
        self.last_read = -1

    def append(self, bytes qname, bytes rname, int64_t pos, int64_t length, int64_t score):
        """One record from the Python line parser."""
        self.ensure(1)
        self._push(self.reads.add(qname), self.refs.add(rname), pos, length, score)
        self.last_read = -1

    cdef int ensure(self, Py_ssize_t n) except -1:
        self.read.ensure(n)
        self.ref.ensure(n)
        self.pos.ensure(n)
        self.length.ensure(n)
        self.score.ensure(n)
        return 0

    cdef inline void _push(self, int32_t read, int32_t ref, int64_t pos, int64_t length, int64_t score) noexcept:
        cdef Py_ssize_t i = self.read.length
        (<int32_t*>self.read.data)[i] = read
        (<int32_t*>self.ref.data)[i] = ref
        (<int32_t*>self.pos.data)[i] = <int32_t>pos
        (<int32_t*>self.length.data)[i] = <int32_t>length
        (<int32_t*>self.score.data)[i] = <int32_t>score
        self.read.length += 1
        self.ref.length += 1
        self.pos.length += 1
        self.length.length += 1
        self.score.length += 1

    def parse(self, const uint8_t[::1] buffer, Py_ssize_t start, Py_ssize_t end):
        """Parse the lines of buffer[start:end] (`end` just after a newline): (offset, DONE) when all were read;
        (offset of a line, HEADER or FALLBACK) for a header line or a line the Python parser must read."""
        cdef const uint8_t* b = &buffer[0]
        cdef Py_ssize_t p = start, le, count = 0, q
        cdef int status
        cdef const void* hit
        # Room for one record per line of the block: no capacity check per record.
        q = start
        while q < end:
            hit = memchr(b + q, 10, end - q)
            if hit == NULL:
                break
            q = <const uint8_t*>hit - b + 1
            count += 1
        self.ensure(count)
        while p < end:
            le = <const uint8_t*>memchr(b + p, 10, end - p) - b
            status = self._line(b, p, le)
            if status:
                return p, status
            self.lineno += 1
            p = le + 1
        return end, DONE

    cdef int _line(self, const uint8_t* b, Py_ssize_t ls, Py_ssize_t le) except -1:
        cdef Py_ssize_t t[11]
        cdef Py_ssize_t i, p, vs, ve, cig, cigar_end, seq_len, name_len, s
        cdef int64_t flag, pos, value, aln, query, run
        cdef bint negative, qop
        cdef uint8_t c
        cdef int32_t read_id, ref_id
        if le == ls:
            return DONE  # a blank line
        if b[ls] == 64:
            return HEADER
        if b[le - 1] == 13:
            return FALLBACK
        p = ls
        for i in range(10):
            t[i] = _tab(b, p, le)
            if t[i] < 0:
                return FALLBACK  # fewer than 11 fields
            p = t[i] + 1
        t[10] = _tab(b, p, le)
        if not _uint(b, t[0] + 1, t[1], &flag):
            return FALLBACK
        if flag & 4 or (t[2] - t[1] == 2 and b[t[1] + 1] == 42) or t[10] < 0:
            return DONE  # unmapped, no reference, or no tags: not kept
        # AS:i: the first tag that is one.
        vs = -1
        p = t[10]
        while p >= 0:
            if le - p > 5 and b[p + 1] == 65 and b[p + 2] == 83 and b[p + 3] == 58 and b[p + 4] == 105 and b[p + 5] == 58:
                vs = p + 6
                break
            p = _tab(b, p + 1, le)
        if vs < 0:
            return DONE  # no AS:i tag: not kept
        ve = _tab(b, vs, le)
        if ve < 0:
            ve = le
        negative = ve > vs and b[vs] == 45
        if not _uint(b, vs + negative, ve, &value) or value > (1 << 30):
            return FALLBACK
        aln = -value if negative else value
        if not _uint(b, t[2] + 1, t[3], &pos) or pos > 2147483648:
            return FALLBACK
        pos -= 1
        seq_len = t[9] - t[8] - 1
        if seq_len == 1 and b[t[8] + 1] == 42:
            seq_len = 0
        # CIGAR: runs of digits and an operation; query length from M, I, S, =, X.
        cig = t[4] + 1
        cigar_end = t[5]
        if cigar_end - cig == 1 and b[cig] == 42:
            query = -1
        else:
            if cigar_end <= cig:
                return FALLBACK
            query = 0
            run = -1
            while cig < cigar_end:
                c = b[cig]
                if 48 <= c <= 57:
                    run = (0 if run < 0 else run) * 10 + (c - 48)
                    if run > (1 << 40):
                        return FALLBACK
                else:
                    if run < 0:
                        return FALLBACK
                    if c == 77 or c == 73 or c == 83 or c == 61 or c == 88:  # M I S = X
                        query += run
                    elif not (c == 68 or c == 78 or c == 72 or c == 80):  # D N H P
                        return FALLBACK
                    run = -1
                cig += 1
            if run >= 0:
                return FALLBACK  # digits without an operation
        if seq_len and query >= 0 and query != seq_len:
            return FALLBACK
        ref_id = self.refs.lookup_add(b + t[1] + 1, t[2] - t[1] - 1)
        name_len = t[0] - ls
        read_id = -1
        if self.last_read >= 0:
            s = self.reads.start_of(self.last_read)
            if (<int64_t*>self.reads.ends.data)[self.last_read] - s == name_len and memcmp(
                self.reads.data.data + s, b + ls, name_len
            ) == 0:
                read_id = self.last_read
        if read_id < 0:
            read_id = self.reads.lookup_add(b + ls, name_len)
            self.last_read = read_id
        self._push(read_id, ref_id, pos if pos > 0 else 0, seq_len, aln + seq_len)
        return DONE


def last_scores(const int32_t[::1] read, const int32_t[::1] score, Py_ssize_t n_reads):
    """Per read, the float32 score of its last record (NaN for none): bowtie2 without -k writes one."""
    out = np.full(n_reads, np.nan, dtype=np.float32)
    cdef float[::1] o = out
    cdef Py_ssize_t k
    for k in range(read.shape[0]):
        o[read[k]] = <float>score[k]
    return out


def eliminate_records(const int32_t[::1] read, const double[::1] score, const float[::1] host_of_read):
    """Per record, whether the host explains it (host score >= its score, as float32); and per read, whether any
    of its records was eliminated."""
    cdef Py_ssize_t k, n = read.shape[0]
    eliminated = np.zeros(n, dtype=np.bool_)
    subtracted = np.zeros(host_of_read.shape[0], dtype=np.bool_)
    cdef uint8_t[::1] e = eliminated.view(np.uint8)
    cdef uint8_t[::1] s = subtracted.view(np.uint8)
    cdef float h
    for k in range(n):
        h = host_of_read[read[k]]
        if h >= <float>score[k]:
            e[k] = 1
            s[read[k]] = 1
    return eliminated, subtracted


# --- EM over equivalence classes ----------------------------------------------------------------------------------


cdef inline bint _passing(Py_ssize_t k, const int32_t* code, int64_t offset, const double* values, double cutoff,
                          const uint8_t* keep) noexcept nogil:
    if keep != NULL and not keep[k]:
        return False
    return values[code[k] - offset] > cutoff


def prepare(const int32_t[::1] read, const int32_t[::1] ref, const int32_t[::1] code, int64_t offset,
            const double[::1] values, double cutoff, keep, Py_ssize_t n_reads, Py_ssize_t n_refs):
    """First-appearance numbering of references and reads among passing records, the passing scores' max and
    min, and whether each read's passing records are consecutive (then no sort is needed)."""
    cdef Py_ssize_t k, n = read.shape[0], n_new = 0, n_ref_new = 0, n_passing = 0
    cdef const uint8_t* kp = NULL
    cdef const uint8_t[::1] keep_view
    if keep is not None:
        keep_view = keep.view(np.uint8)
        if n:
            kp = &keep_view[0]
    read_new = np.full(n_reads, -1, dtype=np.int32)
    ref_new = np.full(n_refs, -1, dtype=np.int32)
    ref_order = np.empty(n_refs, dtype=np.int32)
    cdef int32_t[::1] rn = read_new, fn = ref_new, fo = ref_order
    cdef double high = 0.0, low = float("inf"), v
    cdef int32_t r, previous = -1
    cdef bint grouped = True
    cdef const int32_t* cp = &code[0] if n else NULL
    for k in range(n):
        if not _passing(k, cp, offset, &values[0], cutoff, kp):
            continue
        n_passing += 1
        v = values[code[k] - offset]
        if v > high:
            high = v
        if v < low:
            low = v
        if fn[ref[k]] < 0:
            fn[ref[k]] = <int32_t>n_ref_new
            fo[n_ref_new] = ref[k]
            n_ref_new += 1
        r = rn[read[k]]
        if r < 0:
            r = rn[read[k]] = <int32_t>n_new
            n_new += 1
        elif r != previous:
            grouped = False
        previous = r
    return read_new, ref_new, ref_order[:n_ref_new].copy(), n_new, n_passing, high, low, grouped


cdef class Classes:
    """Distinct ordered lists of (reference, score code) of the reads, and how many reads have each."""

    cdef public object entry_ref, entry_code, start, count, class_of_read
    cdef public Py_ssize_t n_classes


def build_classes(const int32_t[::1] read, const int32_t[::1] ref, const int32_t[::1] code, int64_t offset,
                  const double[::1] values, double cutoff, keep, const int32_t[::1] read_new,
                  const int32_t[::1] ref_new, Py_ssize_t n_new, Py_ssize_t n_ref_new, Py_ssize_t n_passing,
                  bint grouped):
    """Each read's entries (its passing records in file order, the first per reference), merged into classes."""
    cdef Py_ssize_t n = read.shape[0], k, i, j, m, a, s, cap, r
    cdef const uint8_t* kp = NULL
    cdef const uint8_t[::1] keep_view
    if keep is not None:
        keep_view = keep.view(np.uint8)
        if n:
            kp = &keep_view[0]
    cdef const int32_t* cp = &code[0] if n else NULL
    cdef const double* vp = &values[0]
    # Records by read when a read's records are not consecutive: a counting sort (int32 per passing record).
    cdef int64_t[::1] first
    cdef int32_t[::1] perm
    if not grouped:
        first_array = np.zeros(n_new + 1, dtype=np.int64)
        first = first_array
        for k in range(n):
            if _passing(k, cp, offset, vp, cutoff, kp):
                first[read_new[read[k]] + 1] += 1
        for i in range(n_new):
            first[i + 1] += first[i]
        perm_array = np.empty(n_passing, dtype=np.int32)
        perm = perm_array
        fill = first_array[:-1].copy()
        for k in range(n):
            if _passing(k, cp, offset, vp, cutoff, kp):
                i = read_new[read[k]]
                perm[fill[i]] = <int32_t>k
                fill[i] += 1
        del fill
    stamp_array = np.full(max(n_ref_new, 1), -1, dtype=np.int32)
    cdef int32_t[::1] stamp = stamp_array
    scratch_array = np.empty(2 * max(n_ref_new, 1), dtype=np.int32)
    cdef int32_t[::1] scratch = scratch_array
    entry_ref = Vec(4)
    entry_code = Vec(4)
    start = Vec(4)
    count = Vec(4)
    class_of_read_array = np.empty(n_new, dtype=np.int32)
    cdef int32_t[::1] class_of_read = class_of_read_array
    cdef Py_ssize_t slots_n = 1024
    while slots_n < 2 * n_new + 2:
        slots_n *= 2
    slots_n = min(slots_n, 1 << 30)
    slots_array = np.full(slots_n, -1, dtype=np.int32)
    cdef int32_t[::1] slots = slots_array
    cdef Py_ssize_t mask = slots_n - 1, n_classes = 0
    cdef uint64_t h
    cdef int32_t c, g
    cdef int32_t* er
    cdef int32_t* ec
    cdef uint32_t* st
    start.ensure(1)
    (<uint32_t*>start.data)[0] = 0
    start.length = 1
    k = 0
    for r in range(n_new):
        m = 0
        if grouped:
            # The read's passing records are the next passing ones.
            while k < n:
                if not _passing(k, cp, offset, vp, cutoff, kp):
                    k += 1
                    continue
                if read_new[read[k]] != r:
                    break
                g = ref_new[ref[k]]
                if stamp[g] != r:
                    stamp[g] = <int32_t>r
                    scratch[2 * m] = g
                    scratch[2 * m + 1] = <int32_t>(code[k] - offset)
                    m += 1
                k += 1
        else:
            for i in range(first[r], first[r + 1]):
                j = perm[i]
                g = ref_new[ref[j]]
                if stamp[g] != r:
                    stamp[g] = <int32_t>r
                    scratch[2 * m] = g
                    scratch[2 * m + 1] = <int32_t>(code[j] - offset)
                    m += 1
        h = _hash(<const uint8_t*>&scratch[0], 8 * m)
        s = h & mask
        while True:
            c = slots[s]
            if c < 0:
                break
            a = (<uint32_t*>start.data)[c]
            if (<uint32_t*>start.data)[c + 1] - a == m:
                er = <int32_t*>entry_ref.data
                ec = <int32_t*>entry_code.data
                for i in range(m):
                    if er[a + i] != scratch[2 * i] or ec[a + i] != scratch[2 * i + 1]:
                        break
                else:
                    break
            s = (s + 1) & mask
        if c < 0:
            c = <int32_t>n_classes
            slots[s] = c
            n_classes += 1
            entry_ref.ensure(m)
            entry_code.ensure(m)
            er = <int32_t*>entry_ref.data
            ec = <int32_t*>entry_code.data
            for i in range(m):
                er[entry_ref.length + i] = scratch[2 * i]
                ec[entry_code.length + i] = scratch[2 * i + 1]
            entry_ref.length += m
            entry_code.length += m
            if entry_ref.length >= 4294967295:
                raise OverflowError("too many alignments")
            start.ensure(1)
            (<uint32_t*>start.data)[start.length] = <uint32_t>entry_ref.length
            start.length += 1
            count.ensure(1)
            (<int32_t*>count.data)[count.length] = 1
            count.length += 1
        else:
            (<int32_t*>count.data)[c] += 1
        class_of_read[r] = c
    del slots, slots_array
    if not grouped:
        del perm, perm_array, first, first_array
    result = Classes()
    result.entry_ref = entry_ref.array(np.int32)
    result.entry_code = entry_code.array(np.int32)
    result.start = start.array(np.uint32)
    result.count = count.array(np.int32)
    result.class_of_read = class_of_read_array
    result.n_classes = n_classes
    return result


def totals(Classes classes, const double[::1] weight, Py_ssize_t n_refs):
    """Read by read in matrix order, as the loop adds them: U's weights per reference (pi_sum_0), U's total, NU's
    total of w_max (each multi-mapping read's largest weight) and NU's length."""
    cdef const int32_t[::1] er = classes.entry_ref
    cdef const int32_t[::1] ec = classes.entry_code
    cdef const uint32_t[::1] st = classes.start
    cdef const int32_t[::1] cor = classes.class_of_read
    pi_sum_0_array = np.zeros(n_refs)
    cdef double[::1] pi_sum_0 = pi_sum_0_array
    cdef double u_total = 0.0, nu_total = 0.0, w, wmax
    cdef Py_ssize_t r, c, j, nu_length = 0
    for r in range(cor.shape[0]):
        c = cor[r]
        if st[c + 1] - st[c] == 1:
            w = weight[ec[st[c]]]
            pi_sum_0[er[st[c]]] += w
            u_total += w
    for r in range(cor.shape[0]):
        c = cor[r]
        if st[c + 1] - st[c] > 1:
            wmax = 0.0
            for j in range(st[c], st[c + 1]):
                if weight[ec[j]] > wmax:
                    wmax = weight[ec[j]]
            nu_total += wmax
            nu_length += 1
    return pi_sum_0_array, u_total, nu_total, nu_length


def em_iterate(Classes classes, const double[::1] weight, const double[::1] pi_sum_0, double u_total,
               double nu_total, Py_ssize_t nu_length, int max_iter, double epsilon, Py_ssize_t n_refs):
    """The EM (pi_prior = theta_prior = 0) over the multi-mapping classes; returns pi, theta, init_pi and the pi
    and theta the last E step used (from which the final x are recomputed exactly)."""
    cdef const int32_t[::1] er = classes.entry_ref
    cdef const int32_t[::1] ec = classes.entry_code
    cdef const uint32_t[::1] st = classes.start
    cdef const int32_t[::1] cnt = classes.count
    cdef Py_ssize_t c, j, a, b, g, it, iterations = 0
    pi = np.full(n_refs, 1.0 / n_refs) if n_refs else np.zeros(0)
    theta = pi.copy()
    init_pi = pi
    theta_sum_array = np.zeros(n_refs)
    scratch_array = np.zeros(max(n_refs, 1))
    cdef double[::1] theta_sum = theta_sum_array, xs = scratch_array, pv, tv, pov
    cdef double x_sum, wmax, s, xt, count, divisor = nu_total if nu_total != 0 else 1.0, total = u_total + nu_total
    cdef double cutoff
    pi_last = pi
    theta_last = theta
    for it in range(max_iter):
        iterations += 1
        pi_old = pi
        pi_last = pi
        theta_last = theta
        pv = pi
        tv = theta
        theta_sum[:] = 0.0
        for c in range(classes.n_classes):
            a = st[c]
            b = st[c + 1]
            if b - a < 2:
                continue
            x_sum = 0.0
            wmax = 0.0
            for j in range(a, b):
                g = er[j]
                s = weight[ec[j]]
                xt = pv[g] * tv[g] * s
                xs[j - a] = xt
                x_sum += xt
                if s > wmax:
                    wmax = s
            if x_sum == 0:
                continue
            count = cnt[c]
            for j in range(a, b):
                theta_sum[er[j]] += (xs[j - a] / x_sum * wmax) * count
        pi = (theta_sum_array + np.asarray(pi_sum_0)) / total
        theta = theta_sum_array / divisor
        if it == 0:
            init_pi = pi
        pov = pi_old
        pv = pi
        cutoff = 0.0
        for g in range(n_refs):
            cutoff += abs(pov[g] - pv[g])
        if cutoff <= epsilon or nu_length == 1:
            break
    return pi, theta, init_pi, pi_last, theta_last, iterations


cdef inline void _class_x(Py_ssize_t a, Py_ssize_t b, const int32_t[::1] er, const int32_t[::1] ec,
                          const double[::1] weight, const double* pv, const double* tv, double* xs) noexcept:
    """x of a multi-mapping class: initial (pv NULL: s / sum s) or from pi, theta (0 when the sum is 0)."""
    cdef Py_ssize_t j
    cdef double total = 0.0, v
    for j in range(a, b):
        v = weight[ec[j]] if pv == NULL else pv[er[j]] * tv[er[j]] * weight[ec[j]]
        xs[j - a] = v
        total += v
    for j in range(a, b):
        xs[j - a] = 0.0 if (pv != NULL and total == 0) else xs[j - a] / total


def best_hits(Classes classes, const double[::1] weight, pi_last, theta_last, Py_ssize_t n_refs,
              double level_1, double level_2):
    """compute_best_hit (HEAD rule), reads in matrix order: unique reads first, then the multi-mapping ones, as the
    loop adds them. Returns best-hit reads, level 1 and level 2 counts per reference."""
    cdef const int32_t[::1] er = classes.entry_ref
    cdef const int32_t[::1] ec = classes.entry_code
    cdef const uint32_t[::1] st = classes.start
    cdef const int32_t[::1] cor = classes.class_of_read
    best_array = np.zeros(n_refs)
    l1_array = np.zeros(n_refs)
    l2_array = np.zeros(n_refs)
    cdef double[::1] best = best_array, l1 = l1_array, l2 = l2_array
    xs_array = np.zeros(max(n_refs, 1))
    cdef double[::1] xs = xs_array
    cdef const double[::1] pv_view
    cdef const double[::1] tv_view
    cdef const double* pv = NULL
    cdef const double* tv = NULL
    if pi_last is not None and n_refs:
        pv_view = pi_last
        tv_view = theta_last
        pv = &pv_view[0]
        tv = &tv_view[0]
    cdef Py_ssize_t r, c, a, b, j, last = -1, n_best
    cdef double top, x
    for r in range(cor.shape[0]):
        c = cor[r]
        if st[c + 1] - st[c] == 1:
            best[er[st[c]]] += 1.0
            l1[er[st[c]]] += 1.0
    for r in range(cor.shape[0]):
        c = cor[r]
        a = st[c]
        b = st[c + 1]
        if b - a == 1:
            continue
        if c != last:
            _class_x(a, b, er, ec, weight, pv, tv, &xs[0])
            last = c
        top = xs[0]
        for j in range(1, b - a):
            if xs[j] > top:
                top = xs[j]
        n_best = 0
        for j in range(b - a):
            if xs[j] == top:
                n_best += 1
        if n_best == 0:
            n_best = 1
        for j in range(b - a):
            x = xs[j]
            if x == top:
                best[er[a + j]] += 1.0 / n_best
            if x >= level_1:
                l1[er[a + j]] += 1.0
            elif x >= level_2:
                l2[er[a + j]] += 1.0
    return best_array, l1_array, l2_array


def coverage(const int32_t[::1] read, const int32_t[::1] ref, const int32_t[::1] pos, const int32_t[::1] length,
             const int32_t[::1] code, int64_t offset, const double[::1] values, double score_cutoff, keep,
             const int32_t[::1] class_of_old, const int32_t[::1] ref_new, Classes classes,
             const double[::1] weight, pi_last, theta_last, const int32_t[::1] sq_of_ref,
             const int64_t[::1] sq_offset, const int64_t[::1] sq_length, Py_ssize_t total, double cutoff,
             bint assignment):
    """§1.6 coverage over every record (depth per position of every @SQ reference laid end to end, int32) and,
    with `assignment`, the records of each read's final best hit(s) (bool per record)."""
    cdef const int32_t[::1] er = classes.entry_ref
    cdef const int32_t[::1] ec = classes.entry_code
    cdef const uint32_t[::1] st = classes.start
    cdef Py_ssize_t n = read.shape[0], k, c, a, b, j, found, last = -1, sq, begin, end
    cdef const uint8_t* kp = NULL
    cdef const uint8_t[::1] keep_view
    if keep is not None:
        keep_view = keep.view(np.uint8)
        if n:
            kp = &keep_view[0]
    cdef const int32_t* cp = &code[0] if n else NULL
    depth_array = np.zeros(total + 1, dtype=np.int32)
    cdef int32_t[::1] depth = depth_array
    best_array = np.zeros(n if assignment else 0, dtype=np.bool_)
    cdef uint8_t[::1] best_records = best_array.view(np.uint8)
    n_refs = pi_last.shape[0] if pi_last is not None else 0
    xs_array = np.zeros(max(n_refs, 1))
    cdef double[::1] xs = xs_array
    cdef const double[::1] pv_view
    cdef const double[::1] tv_view
    cdef const double* pv = NULL
    cdef const double* tv = NULL
    if n_refs:
        pv_view = pi_last
        tv_view = theta_last
        pv = &pv_view[0]
        tv = &tv_view[0]
    cdef double top = 0.0, x
    cdef int32_t g
    cdef bint counted
    for k in range(n):
        if kp != NULL and not kp[k]:
            continue
        c = class_of_old[read[k]]
        if c < 0:
            continue
        g = ref_new[ref[k]]
        if g < 0:
            continue
        a = st[c]
        b = st[c + 1]
        found = -1
        for j in range(a, b):
            if er[j] == g:
                found = j - a
                break
        if b - a == 1:
            counted = found >= 0
            if assignment and found >= 0 and _passing(k, cp, offset, &values[0], score_cutoff, kp):
                best_records[k] = 1
        else:
            if c != last:
                _class_x(a, b, er, ec, weight, pv, tv, &xs[0])
                top = xs[0]
                for j in range(1, b - a):
                    if xs[j] > top:
                        top = xs[j]
                last = c
            x = xs[found] if found >= 0 else 0.0
            counted = x >= cutoff
            if assignment and found >= 0 and x == top and _passing(k, cp, offset, &values[0], score_cutoff, kp):
                best_records[k] = 1
        if not counted:
            continue
        sq = sq_of_ref[ref[k]]
        if sq < 0:
            continue
        begin = pos[k]
        end = begin + length[k]
        if end > sq_length[sq]:
            end = sq_length[sq]
        if begin < end:
            depth[sq_offset[sq] + begin] += 1
            depth[sq_offset[sq] + end] -= 1
    for k in range(1, total):
        depth[k] += depth[k - 1]
    return depth_array[:total], best_array
