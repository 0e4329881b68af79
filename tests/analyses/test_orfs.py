"""Virtool's ORF finder (`analyses.nuvs.orfs`) and the `find_orfs` command.

Every expected value below is worked out by hand in the comment above it. The sequences are repeats of one codon
with a few stops or Ns, so each of the six frames reads a short cycle of codons:

    GCT repeated:  + strand  frame 0 GCT=A   frame 1 CTG=L   frame 2 TGC=C
                   - strand (reverse complement AGC repeated)  frame 0 AGC=S   frame 1 GCA=A   frame 2 CAG=Q

Coordinates (workflows.md §2): + strand start = f + 3·a, end = min(len, f + 3·b + 3); - strand
start = len - f - 3·b - 3, end = len - f - 3·a, for the residues a..b (b exclusive) of frame f.
"""

from __future__ import annotations

import gzip
import io
import json

import pytest

from analyses.nuvs.orfs import InvalidNucleotideError, find_orfs, reverse_complement, translate
from tests.conftest import SHARED


def orf(pro: str, nuc: str, frame: int, strand: int, start: int, end: int) -> dict:
    return {"pro": pro, "nuc": nuc, "frame": frame, "strand": strand, "pos": [start, end]}


# --- translate and reverse_complement ---------------------------------------------------------------------------


def test_translate_standard_code_and_stops():
    # ATG=M GCT=A TGG=W | the three stops TAA TAG TGA = * * *
    assert translate("ATGGCTTGG") == "MAW"
    assert translate("TAATAGTGA") == "***"


def test_translate_four_fold_codons_ending_in_n():
    # CTN=L GTN=V TCN=S CCN=P ACN=T GCN=A CGN=R GGN=G: the third base does not matter in these eight families
    assert translate("CTNGTNTCNCCNACNGCNCGNGGN") == "LVSPTARG"


def test_translate_other_codons_are_x():
    # TTN (F or L), AAN (N or K), NNN, ANA, GNT (N not third), RCT (an IUPAC code), "A-T" (a gap): all X
    assert translate("TTNAANNNNANAGNTRCTA-T") == "XXXXXXX"


def test_translate_case_and_partial_codon():
    # upper-cased first: atg=M gcn=A; the trailing "gc" is not a codon and is dropped
    assert translate("atggcngc") == "MA"
    assert translate("AT") == ""
    assert translate("") == ""


def test_reverse_complement():
    # ACGTNacgtn -> complement TGCANTGCAN -> reversed NACGTNACGT, in upper case
    assert reverse_complement("ACGTNacgtn") == "NACGTNACGT"
    # the other IUPAC codes (an extension: Virtool's accepts only ACGTN): R<->Y K<->M B<->V D<->H, S and W stay
    # RYKMBVDHSW -> complement YRMKVBHDSW -> reversed WSDHBVKMRY
    assert reverse_complement("RYKMBVDHSW") == "WSDHBVKMRY"


def test_reverse_complement_rejects_other_letters():
    with pytest.raises(InvalidNucleotideError, match=r"'U' at position 4 is not a nucleotide") as caught:
        reverse_complement("ACGUA")
    assert (caught.value.letter, caught.value.position) == ("U", 4)


# --- find_orfs ----------------------------------------------------------------------------------------------------


def test_find_orfs_exactly_300_nt_is_not_searched():
    # (GCT)x100 would give A x100 in frame 0, an ORF of exactly 100 residues, but the gate is length > 300
    assert find_orfs("GCT" * 100) == []


def test_find_orfs_301_nt():
    # s = (GCT)x100 + G, len 301; reverse complement rc = C + (AGC)x100
    # + f0: (GCT)x100 -> A x100 (the final G is no codon): [0, min(301, 0 + 300 + 3)] = [0, 301], nuc s[0:301]
    # + f1: s[1:] = (CTG)x100 -> L x100: [1, min(301, 1 + 300 + 3)] = [1, 301], nuc s[1:301]
    # + f2: s[2:] = (TGC)x99 + TG -> C x99: 99 residues, too short
    # - f0: rc = (CAG)x100 + C -> Q x100: start 301 - 0 - 300 - 3 = -2, end 301 - 0 - 0 = 301; nuc rc[-2:301] = "GC"
    # - f1: rc[1:] = (AGC)x100 -> S x100: start 301 - 1 - 300 - 3 = -3, end 300; nuc rc[-3:300] = rc[298:300] = "AG"
    # - f2: rc[2:] = (GCA)x99 + GC -> A x99: too short
    sequence = "GCT" * 100 + "G"
    assert find_orfs(sequence) == [
        orf("A" * 100, sequence, 0, 1, 0, 301),
        orf("L" * 100, sequence[1:], 1, 1, 1, 301),
        orf("Q" * 100, "GC", 0, -1, -2, 301),
        orf("S" * 100, "AG", 1, -1, -3, 300),
    ]


def test_find_orfs_no_stop_in_any_frame_minus_starts_go_negative():
    # s = (GCT)x110, len 330; rc = (AGC)x110. No frame has a stop, so each frame is one ORF to its end.
    # + f0: A x110 [0, min(330, 333)] = [0, 330]
    # + f1: 329 nt = 109 codons CTG -> L x109: [1, min(330, 1 + 327 + 3)] = [1, 330]
    # + f2: 328 nt = 109 codons TGC -> C x109: [2, min(330, 2 + 327 + 3)] = [2, 330]
    # - f0: S x110: start 330 - 0 - 330 - 3 = -3, end 330; nuc rc[-3:330] = rc[327:330] = "AGC"
    # - f1: GCA x109 -> A x109: start 330 - 1 - 327 - 3 = -1, end 329; nuc rc[-1:329] = rc[329:329] = ""
    # - f2: CAG x109 -> Q x109: start 330 - 2 - 327 - 3 = -2, end 328; nuc rc[328:328] = ""
    sequence = "GCT" * 110
    assert find_orfs(sequence) == [
        orf("A" * 110, sequence, 0, 1, 0, 330),
        orf("L" * 109, sequence[1:], 1, 1, 1, 330),
        orf("C" * 109, sequence[2:], 2, 1, 2, 330),
        orf("S" * 110, "AGC", 0, -1, -3, 330),
        orf("A" * 109, "", 1, -1, -1, 329),
        orf("Q" * 109, "", 2, -1, -2, 328),
    ]


def test_find_orfs_stops_in_every_frame():
    # (TAAT)x80, len 320: the repeat is 4 nt, so every frame meets TAA within 4 codons (TAA TTA ATT AAT TAA...,
    # and on the - strand (ATTA)x80: ATT AAT TAA TTA ATT...): no stretch comes near 100 residues
    assert find_orfs("TAAT" * 80) == []


def test_find_orfs_stop_to_stop_order_and_stop_excluded():
    # s = TAA + (GCT)x100 + TGA + (GCT)x100 + TAG, len 609: s[0:3] TAA, s[3:303] GCTs, s[303:306] TGA,
    # s[306:606] GCTs, s[606:609] TAG.
    # + f0: * A x100 * A x100 * -> residues 1..101 and 102..202, no ATG needed, the stop not in `pro` but in `nuc`:
    #   [0 + 3, min(609, 0 + 303 + 3)] = [3, 306], nuc s[3:306] = (GCT)x100 + TGA
    #   [0 + 306, min(609, 0 + 606 + 3)] = [306, 609], nuc (GCT)x100 + TAG
    # + f1: AAG, CTG x99, CTT (CT+T of TGA), GAG (GA+G), CTG x99, CTT (CT+T of TAG), "AG" left: K L100 E L100, no
    #   stop: [1, min(609, 1 + 606 + 3)] = [1, 609]
    # + f2: AGC, TGC x99, TTG (T+TG), AGC (A+GC), TGC x99, TTA (T+TA), "G" left: S C99 L S C99 L: [2, 609]
    # rc = CTA + (AGC)x100 + TCA + (AGC)x100 + TTA
    # - f0: CTA=L, S x100, TCA=S, S x100, TTA=L: 203 residues, no stop: start 609 - 0 - 609 - 3 = -3, end 609;
    #   nuc rc[-3:609] = "TTA"
    # - f1: TAA (stop), GCA x99, GCT, CAA, GCA x99, GCT, "TA" left: * A100 Q A100: residues 1..202:
    #   start 609 - 1 - 606 - 3 = -1, end 609 - 1 - 3 = 605; nuc rc[-1:605] = rc[608:605] = ""
    # - f2: AAG, CAG x99, CTC, AAG, CAG x99, CTT, "A" left: K Q99 L K Q99 L: start 609 - 2 - 606 - 3 = -2,
    #   end 607; nuc rc[607:607] = ""
    sequence = "TAA" + "GCT" * 100 + "TGA" + "GCT" * 100 + "TAG"
    assert find_orfs(sequence) == [
        orf("A" * 100, "GCT" * 100 + "TGA", 0, 1, 3, 306),
        orf("A" * 100, "GCT" * 100 + "TAG", 0, 1, 306, 609),
        orf("K" + "L" * 100 + "E" + "L" * 100, sequence[1:], 1, 1, 1, 609),
        orf("S" + "C" * 99 + "LS" + "C" * 99 + "L", sequence[2:], 2, 1, 2, 609),
        orf("L" + "S" * 201 + "L", "TTA", 0, -1, -3, 609),
        orf("A" * 100 + "Q" + "A" * 100, "", 1, -1, -1, 605),
        orf("K" + "Q" * 99 + "LK" + "Q" * 99 + "L", "", 2, -1, -2, 607),
    ]


def test_find_orfs_n_runs_give_x_and_four_fold_residues():
    # s = (GCT)x60 + N x30 + (GCT)x60, len 390; rc = (AGC)x60 + N x30 + (AGC)x60
    # + f0: A x60, NNN x10 = X x10, A x60 (130): [0, min(390, 393)] = [0, 390]
    # + f1: CTG x59, CTN (CT + the first N) = L, NNN x9, NNG = X, CTG x59, "CT" left: L60 X10 L59: [1, 390]
    # + f2: TGC x59, TNN = X, NNN x9, NGC = X, TGC x59, "T" left: C59 X11 C59: [2, 390]
    # - f0: S x60 X x10 S x60: start 390 - 0 - 390 - 3 = -3, end 390; nuc rc[387:390] = "AGC"
    # - f1: GCA x59, GCN = A, NNN x9, NNA = X, GCA x59: A60 X10 A59: start 390 - 1 - 387 - 3 = -1, end 389; nuc ""
    # - f2: CAG x59, CNN = X, NNN x9, NAG = X, CAG x59: Q59 X11 Q59: start -2, end 388; nuc ""
    sequence = "GCT" * 60 + "N" * 30 + "GCT" * 60
    assert find_orfs(sequence) == [
        orf("A" * 60 + "X" * 10 + "A" * 60, sequence, 0, 1, 0, 390),
        orf("L" * 60 + "X" * 10 + "L" * 59, sequence[1:], 1, 1, 1, 390),
        orf("C" * 59 + "X" * 11 + "C" * 59, sequence[2:], 2, 1, 2, 390),
        orf("S" * 60 + "X" * 10 + "S" * 60, "AGC", 0, -1, -3, 390),
        orf("A" * 60 + "X" * 10 + "A" * 59, "", 1, -1, -1, 389),
        orf("Q" * 59 + "X" * 11 + "Q" * 59, "", 2, -1, -2, 388),
    ]


def test_find_orfs_lower_case():
    # The 301 nt case in lower case: the same residues and coordinates (translation upper-cases first); the +
    # strand's `nuc` is a slice of the input as given, the - strand's of the reverse complement, in upper case.
    sequence = "gct" * 100 + "g"
    assert find_orfs(sequence) == [
        orf("A" * 100, sequence, 0, 1, 0, 301),
        orf("L" * 100, sequence[1:], 1, 1, 1, 301),
        orf("Q" * 100, "GC", 0, -1, -2, 301),
        orf("S" * 100, "AG", 1, -1, -3, 300),
    ]


def test_find_orfs_iupac_codes_are_x():
    # The 301 nt case with its 11th codon GCT made GCY (Y = C or T), so s[32] = Y; only the eight xxN codons are
    # degenerate in the table, so every codon holding the Y is X. Codon k of frame f covers s[f + 3k : f + 3k + 3].
    #   + f0: 32 = 3·10 + 2 -> codon 10 = GCY -> X: A10 X A89        + f1: 32 = 1 + 3·10 + 1 -> codon 10 = CYG -> X
    #   rc[i] complements s[300 - i]: rc[268] = R. rc = C + (AGC)x100, frame 0 reads CAG, frame 1 AGC.
    #   - f0: 268 = 3·89 + 1 -> codon 89 = CRG -> X: Q89 X Q10        - f1: 268 = 1 + 3·89 -> codon 89 = RGC -> X
    # Frames + f2 and - f2 stay at 99 residues; the coordinates are the 301 nt case's.
    sequence = "GCT" * 10 + "GCY" + "GCT" * 89 + "G"
    orfs = find_orfs(sequence)
    assert [(o["strand"], o["frame"], o["pos"]) for o in orfs] == [
        (1, 0, [0, 301]),
        (1, 1, [1, 301]),
        (-1, 0, [-2, 301]),
        (-1, 1, [-3, 300]),
    ]
    assert orfs[0]["pro"] == "A" * 10 + "X" + "A" * 89
    assert orfs[1]["pro"] == "L" * 10 + "X" + "L" * 89
    assert orfs[2]["pro"] == "Q" * 89 + "X" + "Q" * 10
    assert orfs[3]["pro"] == "S" * 89 + "X" + "S" * 10


def test_find_orfs_rejects_letters_that_are_not_nucleotides():
    # A sequence that is searched may hold only IUPAC codes; the error names the letter and its 1-based position
    with pytest.raises(InvalidNucleotideError, match=r"^'-' at position 151 is not a nucleotide ORFs can be found"):
        find_orfs("GCT" * 50 + "-" + "GCT" * 60)
    with pytest.raises(InvalidNucleotideError, match=r"^character U\+0020 at position 4 "):
        find_orfs("GCT GCT" * 60)
    # 300 nt or fewer are not searched, so not read either (as in Virtool): no ORF and no error
    assert find_orfs("GCU" * 100) == []


# --- The find_orfs command ----------------------------------------------------------------------------------------

DEMO = SHARED / "data" / "references" / "demo-plant-viruses.json.gz"


def rprsv_sequences() -> list[tuple[str, str]]:
    """(accession, sequence) of the Raspberry ringspot virus sequences of the demo reference (RNA1 and RNA2)."""
    demo = json.loads(gzip.decompress(DEMO.read_bytes()))
    otu = next(otu for otu in demo["otus"] if otu["name"] == "Raspberry ringspot virus")
    return [(s["accession"], s["sequence"]) for isolate in otu["isolates"] for s in isolate["sequences"]]


def write_fasta(path, records, *, compress: bool = False) -> None:
    text = "".join(f">{name} from the demo reference\n{sequence}\n" for name, sequence in records).encode()
    path.write_bytes(gzip.compress(text) if compress else text)


def test_find_orfs_command_on_rprsv(tmp_path):
    from django.core.management import call_command

    records = rprsv_sequences()
    assert [name for name, _ in records] == ["AY310445", "AY310444", "NC_005267", "NC_005266"]
    write_fasta(tmp_path / "rprsv.fa", records)
    write_fasta(tmp_path / "rprsv.fa.gz", records, compress=True)
    for name in ("rprsv.fa", "rprsv.fa.gz"):
        out = io.StringIO()
        call_command("find_orfs", str(tmp_path / name), stdout=out)
        printed = json.loads(out.getvalue())
        # keyed by record id (the header up to its first space), in file order, each the finder's list as JSON
        assert list(printed) == [name for name, _ in records]
        assert printed == {name: find_orfs(sequence) for name, sequence in records}
    # Biology as a check on the wiring: each RNA of a nepovirus encodes one polyprotein on the + strand (RNA1's
    # about 2,100-2,400 residues, RNA2's about 1,100-1,400), far the longest ORF of its segment.
    for accession, shortest in (("AY310444", 2000), ("NC_005266", 2000), ("AY310445", 1000), ("NC_005267", 1000)):
        by_length = sorted(printed[accession], key=lambda found: len(found["pro"]), reverse=True)
        assert by_length[0]["strand"] == 1
        assert len(by_length[0]["pro"]) > shortest > 3 * len(by_length[1]["pro"])


def test_find_orfs_command_as_a_process(tmp_path, run_manage):
    records = rprsv_sequences()
    write_fasta(tmp_path / "rprsv.fa.gz", records, compress=True)
    result = run_manage("find_orfs", str(tmp_path / "rprsv.fa.gz"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {name: find_orfs(sequence) for name, sequence in records}

    (tmp_path / "reads.fq").write_text("@r1\nACGT\n+\nIIII\n")
    result = run_manage("find_orfs", str(tmp_path / "reads.fq"))
    assert result.returncode == 1
    assert "reads.fq: line 1: a FASTA record must start with '>' (found '@r1')" in result.stderr
    assert result.stdout == ""


def test_find_orfs_command_errors(tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=r"^cannot read .*missing\.fa: No such file or directory$"):
        call_command("find_orfs", str(tmp_path / "missing.fa"))
    with pytest.raises(CommandError, match=r"^cannot read .*: Is a directory$"):
        call_command("find_orfs", str(tmp_path))
    (tmp_path / "empty.fa").write_text("")
    with pytest.raises(CommandError, match=r"empty\.fa: the file holds no FASTA records$"):
        call_command("find_orfs", str(tmp_path / "empty.fa"))
    (tmp_path / "binary.fa").write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(CommandError, match=r"binary\.fa: the file is damaged or truncated"):
        call_command("find_orfs", str(tmp_path / "binary.fa"))
    (tmp_path / "twice.fa").write_text(">a one\nACGT\n>a two\nACGT\n")
    with pytest.raises(CommandError, match=r"twice\.fa: record 2: the id 'a' is used by an earlier record$"):
        call_command("find_orfs", str(tmp_path / "twice.fa"))
    (tmp_path / "rna.fa").write_text(">short\nACGU\n>long\n" + "GCU" * 101 + "\n")
    with pytest.raises(CommandError, match=r"rna\.fa: record 2 \(long\): 'U' at position 3 is not a nucleotide"):
        call_command("find_orfs", str(tmp_path / "rna.fa"))
