"""Virtool's ORF finder (`virtool.bio.find_orfs`, `vt:packages/bio/src/bio.ts::findOrfs`), quirks included.

`workflows.md` §2 "ORF finder". Only a sequence longer than 300 nt is searched. Both strands (+1: the sequence;
-1: its reverse complement), each in frames 0, 1 and 2, are translated codon by codon with the standard table,
which also knows the eight four-fold codons ending in N (`GCN` is A); any other codon (`NNN`, `ANA`, a codon with
a letter other than ACGTN...) is `X`. An ORF is every stretch between stops (or the ends of the translation) of at
least 100 residues: no start codon is needed, and the stop is not part of `pro`.

Coordinates are Virtool's, because `pos` is stored in every NuVs result and drawn by the client:

- strand +1: `start = frame + 3·aa_start`, `end = min(len, frame + 3·aa_end + 3)` (the stop's three bases are
  added, then clamped, so an ORF running off the end ends at the sequence length);
- strand -1: `start = len - frame - 3·aa_end - 3`, `end = len - frame - 3·aa_start`; never clamped, so an ORF that
  runs off the 5' end of the sequence (no stop there) starts at -1, -2 or -3.

`nuc` is Virtool's too: the strand's sequence sliced with Python's semantics at those coordinates. On strand -1 the
coordinates are the forward strand's but the string sliced is the reverse complement (a negative start counts
back from its end), so there `nuc` is not the ORF's bases; Virtool drops `nuc` before storing, as NuVs does here.
On strand +1 `nuc` keeps the case of the input; the reverse complement is upper case.

Letters: Virtool's reverse complement accepts only A, C, G, T and N (either case) and stops with a KeyError on
anything else. Here the other IUPAC nucleotide codes (R Y S W K M B D H V, either case) are accepted too: they are
complemented by IUPAC's rules (R and Y, K and M, B and V, D and H swap; S and W stay) and any codon holding one is
`X`, so a reference sequence with an ambiguous base still has its ORFs, and a sequence Virtool accepts gives
exactly Virtool's result. Anything else (U, a gap, a digit, a space) raises `InvalidNucleotideError` naming the
letter and its position. SPAdes writes only ACGTN, so no NuVs contig holds any of these. Sequences of 300 nt or
fewer are not read at all and give no ORFs, as in Virtool.

Speed: each strand is translated once in all three frames together (numpy: a code per base, a number per
overlapping triplet, one table lookup), and frame f is every third residue of that from f.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

#: Sequences of this length or shorter are not searched (Virtool's gate is `length > 300`).
MIN_CONTIG_LENGTH = 300
#: The fewest residues an ORF may have.
MIN_ORF_LENGTH = 100

# The standard genetic code, plus the four-fold degenerate codons written with N (Virtool's TRANSLATION_TABLE).
_CODONS = {
    "TTT": "F", "TTC": "F", "TTA": "L", "TTG": "L",
    "CTT": "L", "CTC": "L", "CTA": "L", "CTG": "L", "CTN": "L",
    "ATT": "I", "ATC": "I", "ATA": "I", "ATG": "M",
    "GTT": "V", "GTC": "V", "GTA": "V", "GTG": "V", "GTN": "V",
    "TCT": "S", "TCC": "S", "TCA": "S", "TCG": "S", "TCN": "S", "AGT": "S", "AGC": "S",
    "CCT": "P", "CCC": "P", "CCA": "P", "CCG": "P", "CCN": "P",
    "ACT": "T", "ACC": "T", "ACA": "T", "ACG": "T", "ACN": "T",
    "GCT": "A", "GCC": "A", "GCA": "A", "GCG": "A", "GCN": "A",
    "TAT": "Y", "TAC": "Y", "TAA": "*", "TAG": "*", "TGA": "*",
    "CAT": "H", "CAC": "H", "CAA": "Q", "CAG": "Q",
    "AAT": "N", "AAC": "N", "AAA": "K", "AAG": "K",
    "GAT": "D", "GAC": "D", "GAA": "E", "GAG": "E",
    "TGT": "C", "TGC": "C", "TGG": "W",
    "CGT": "R", "CGC": "R", "CGA": "R", "CGG": "R", "CGN": "R", "AGA": "R", "AGG": "R",
    "GGT": "G", "GGC": "G", "GGA": "G", "GGG": "G", "GGN": "G",
}  # fmt: skip

# Each base becomes a code 0-4 (ACGTN, upper case: callers upper-case first), anything else 5; a triplet is then
# the number 36·a + 6·b + c, and _RESIDUES[number] its residue (X for every triplet not in _CODONS).
_BASES = "ACGTN"
_OTHER = len(_BASES)
_CODE = bytes(_BASES.index(chr(byte)) if chr(byte) in _BASES else _OTHER for byte in range(256))
_RESIDUES = np.full(216, ord("X"), dtype=np.uint8)
for _codon, _residue in _CODONS.items():
    _RESIDUES[36 * _BASES.index(_codon[0]) + 6 * _BASES.index(_codon[1]) + _BASES.index(_codon[2])] = ord(_residue)

# Virtool's ACGTN, then the other IUPAC codes (an extension: Virtool stops on them).
_COMPLEMENT = str.maketrans("ACGTNRYSWKMBDHVacgtnryswkmbdhv", "TGCANYRSWMKVHDBTGCANYRSWMKVHDB")
_NOT_NUCLEOTIDE = re.compile(r"[^ACGTNRYSWKMBDHVacgtnryswkmbdhv]")


class InvalidNucleotideError(ValueError):
    """A sequence to search holds a letter that is not an IUPAC nucleotide code; the message says which and where."""

    def __init__(self, letter: str, position: int) -> None:
        self.letter = letter
        self.position = position  # 1-based
        super().__init__(
            f"{_show(letter)} at position {position} is not a nucleotide ORFs can be found in: "
            "a sequence may hold A, C, G, T, N and the IUPAC codes R Y S W K M B D H V (either case)"
        )


def _show(letter: str) -> str:
    if letter.isprintable() and not letter.isspace():
        return repr(letter)
    return f"character U+{ord(letter):04X}"


def check_nucleotides(sequence: str) -> None:
    """Raise `InvalidNucleotideError` for the first letter that is not an IUPAC nucleotide code (either case)."""
    bad = _NOT_NUCLEOTIDE.search(sequence)
    if bad is not None:
        raise InvalidNucleotideError(bad.group(), bad.start() + 1)


def reverse_complement(sequence: str) -> str:
    """The reverse complement, in upper case, of a sequence of IUPAC nucleotide codes (Virtool's takes only ACGTN)."""
    check_nucleotides(sequence)
    return sequence.translate(_COMPLEMENT)[::-1]


def _triplets(sequence: str) -> bytes:
    """The residue of the triplet starting at every position (len - 2 of them): frame f is `[f::3]`."""
    # Upper-cased first, as Virtool does; a letter outside Latin-1 becomes '?' so positions stay one byte each.
    codes = np.frombuffer(sequence.upper().encode("latin-1", "replace").translate(_CODE), dtype=np.uint8)
    if codes.size < 3:
        return b""
    numbers = codes[:-2] * np.uint8(36) + codes[1:-1] * np.uint8(6) + codes[2:]  # at most 215: fits uint8
    return _RESIDUES[numbers].tobytes()


def translate(nuc: str) -> str:
    """Virtool's `translate`: the protein of `nuc` read from its first base, codon by codon (a trailing partial
    codon is dropped); case-insensitive; a codon that is not in the table (any letter but ACGT, N as the third
    base of a four-fold codon excepted) is `X`, a stop `*`."""
    return _triplets(nuc)[::3].decode("ascii")


def find_orfs(sequence: str) -> list[dict[str, Any]]:
    """Every ORF of at least 100 residues, as Virtool's `find_orfs`: strand +1 then -1, frames 0-2, by position.

    Each is `{"pro", "nuc", "frame", "strand", "pos": [start, end]}` (see the module docstring for the
    coordinates). Nothing for a sequence of 300 nt or fewer; `InvalidNucleotideError` for a longer one holding a
    letter that is not an IUPAC nucleotide code.
    """
    length = len(sequence)
    if length <= MIN_CONTIG_LENGTH:
        return []
    orfs: list[dict[str, Any]] = []
    for strand, nuc in ((1, sequence), (-1, reverse_complement(sequence))):
        residues = _triplets(nuc)
        for frame in range(3):
            aa_start = 0
            for peptide in residues[frame::3].decode("ascii").split("*"):
                aa_end = aa_start + len(peptide)
                if len(peptide) >= MIN_ORF_LENGTH:
                    if strand == 1:
                        start = frame + aa_start * 3
                        end = min(length, frame + aa_end * 3 + 3)
                    else:
                        start = length - frame - aa_end * 3 - 3
                        end = length - frame - aa_start * 3
                    orfs.append(
                        {"pro": peptide, "nuc": nuc[start:end], "frame": frame, "strand": strand, "pos": [start, end]}
                    )
                aa_start = aa_end + 1
    return orfs
