"""NuVs's profile search (`analyses.nuvs.hmmer`): pyhmmer in process gives what the `hmmscan` command gives.

The ORFs searched:
- every ORF Virtool's finder finds in the demo reference (24 plant-virus OTUs, 40 sequences, about 670 ORFs):
  real proteins, none of them a papillomavirus L1, a baculovirus LEF-11 or a hepadnavirus surface antigen (the
  three vFam profiles), so they test that neither side reports a spurious hit;
- proteins sampled from the three real profiles by HMMER's `hmmemit` (fixed seed): as they are, mutated at random
  (fixed seed) in 30-55 % of their residues, and cut to fragments of 25-80 residues, so that hits range from
  E ~1e-60 to ~1e-5, the weakest a hit can be with three profiles (the last filter passes P <= 1e-5, and E is
  P times the 3 profiles); two joined into one ORF (a query that hits two profiles) and one repeated (two domains).
"""

from __future__ import annotations

import gzip
import itertools
import json
import logging
import random
import shutil
import subprocess
import threading

import pytest

from analyses.nuvs import hmmer
from analyses.nuvs.hmmer import HMMSearchError, hmm_search, parse_tblout
from analyses.nuvs.orfs import find_orfs
from tests.conftest import SHARED

HMM_DATA = SHARED / "data" / "hmm"
DEMO = SHARED / "data" / "references" / "demo-plant-viruses.json.gz"
AMINO = "ACDEFGHIKLMNPQRSTVWY"


@pytest.fixture
def installed(db, settings, tmp_path):
    """The real vFam profiles installed as the HMM app installs them (pressed by pyhmmer), and their clusters."""
    from hmm.selectors import hmm_clusters, hmm_files
    from hmm.services import hmm_install_files

    settings.DATA_PATH = tmp_path / "data"
    settings.DATA_PATH.mkdir()
    hmm_install_files(profiles=HMM_DATA / "profiles.hmm", annotations=HMM_DATA / "annotations.json.gz", user=None)
    files = hmm_files()
    assert files is not None
    return files.profiles, hmm_clusters()


@pytest.fixture
def cli_profiles(tmp_path):
    """The same profiles pressed by the `hmmpress` command, for the `hmmscan` command."""
    folder = tmp_path / "cli"
    folder.mkdir()
    shutil.copyfile(HMM_DATA / "profiles.hmm", folder / "profiles.hmm")
    subprocess.run(["hmmpress", str(folder / "profiles.hmm")], check=True, capture_output=True)
    return folder / "profiles.hmm"


def emitted(profiles, *, count: int, seed: int) -> list[tuple[str, str]]:
    """(profile, protein) sampled from each profile by `hmmemit`."""
    text = subprocess.run(
        ["hmmemit", "-N", str(count), "--seed", str(seed), str(profiles)], check=True, capture_output=True, text=True
    ).stdout
    records = [block.split("\n", 1) for block in text.split(">")[1:]]
    return [(header.split("-sample")[0], body.replace("\n", "")) for header, body in records]


def reference_contigs() -> list[list[str]]:
    """The proteins of the ORFs of each sequence of the demo reference that has any."""
    demo = json.loads(gzip.decompress(DEMO.read_bytes()))
    contigs = [
        [found["pro"] for found in find_orfs(sequence["sequence"])]
        for otu in demo["otus"]
        for isolate in otu["isolates"]
        for sequence in isolate["sequences"]
    ]
    return [proteins for proteins in contigs if proteins]


def sampled_contigs(profiles) -> list[list[str]]:
    """Proteins sampled from the profiles, mutated, joined and repeated (module docstring), three to a contig."""
    samples = emitted(profiles, count=6, seed=11)
    rng = random.Random(3)
    made = [protein for _, protein in samples]
    for _, protein in samples:
        share = rng.uniform(0.3, 0.55)
        made.append("".join(rng.choice(AMINO) if rng.random() < share else residue for residue in protein))
        length = rng.randrange(25, 80)
        start = rng.randrange(0, len(protein) - length)
        made.append(protein[start : start + length])
    by_profile = {name: protein for name, protein in samples}
    made.append(by_profile["vFam_100"] + by_profile["vFam_10"])
    made.append(by_profile["vFam_1000"] * 2)
    return [made[start : start + 3] for start in range(0, len(made), 3)]


def named(contigs: list[list[str]]) -> list[tuple[str, str]]:
    """`(sequence_{contig}.{orf}, protein)`, as NuVs names the ORFs it searches."""
    return [(f"sequence_{c}.{o}", protein) for c, proteins in enumerate(contigs) for o, protein in enumerate(proteins)]


def search_set(profiles) -> list[tuple[str, str]]:
    """The ORFs of the module docstring: the demo reference's, then the sampled ones."""
    return named(reference_contigs() + sampled_contigs(profiles))


def hmmscan(orfs, profiles, tmp_path, *, cpus: int) -> str:
    """`hmmscan --tblout hmm.tsv --noali --cpu N profiles.hmm orfs.fa`, as Virtool runs it; the table."""
    fasta = tmp_path / "orfs.fa"
    fasta.write_text("".join(f">{name}\n{protein}\n" for name, protein in orfs))
    table = tmp_path / "hmm.tsv"
    subprocess.run(
        ["hmmscan", "--tblout", str(table), "--noali", "--cpu", str(cpus), str(profiles), str(fasta)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return table.read_text()


def data_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("#")]


def test_hmm_search_equals_hmmscan(installed, cli_profiles, tmp_path):
    profiles, clusters = installed
    orfs = search_set(cli_profiles)
    assert len(orfs) > 600
    expected = hmmscan(orfs, cli_profiles, tmp_path, cpus=2)
    ours = hmm_search(orfs, profiles=profiles, cpus=2)

    # The same rows, byte for byte: columns, widths, numbers as printed, order of queries and of targets.
    assert data_lines(ours) == data_lines(expected)
    # And the same three header lines hmmscan writes before its first query.
    assert ours.splitlines()[:3] == expected.splitlines()[:3]
    rows = [line.split() for line in data_lines(expected)]
    # The set reaches what it is meant to: every profile, strong and weak hits, a query with two targets, two domains.
    assert {row[0] for row in rows} == {"vFam_10", "vFam_100", "vFam_1000"}
    assert max(float(row[4]) for row in rows) > 1e-6
    assert min(float(row[4]) for row in rows) < 1e-40
    assert len(rows) > 30
    assert any(row_a[2] == row_b[2] for row_a, row_b in itertools.pairwise(rows))
    assert any(int(row[15]) >= 2 for row in rows)  # `dom`: domains reported
    # No ORF of the plant viruses hits: every hit is on a sampled protein (the contigs after the reference's).
    first_sampled = len(reference_contigs())
    assert all(int(row[2].removeprefix("sequence_").split(".")[0]) >= first_sampled for row in rows)

    # Every field Virtool parses, from both tables.
    parsed = parse_tblout(ours, clusters)
    assert parsed == parse_tblout(expected, clusters)
    assert sum(len(hits) for hits in parsed.values()) == len(rows)
    for row in rows:
        contig, orf = (int(part) for part in row[2].removeprefix("sequence_").split("."))
        assert {
            "hit": clusters[int(row[0].removeprefix("vFam_"))],
            "full_e": float(row[4]),
            "full_score": float(row[5]),
            "full_bias": float(row[6]),
            "best_e": float(row[7]),
            "best_bias": float(row[8]),  # Virtool's swap: the best domain's score
            "best_score": float(row[9]),  # and its bias
        } in parsed[(contig, orf)]


def test_hmm_search_threads_and_disk_reading_change_nothing(installed, cli_profiles, tmp_path, monkeypatch):
    profiles, _ = installed
    orfs = search_set(cli_profiles)
    expected = data_lines(hmmscan(orfs, cli_profiles, tmp_path, cpus=1))
    assert data_lines(hmm_search(orfs, profiles=profiles, cpus=1)) == expected
    # A database too large to hold in memory is read from disk for every ORF, as hmmscan does: the same rows.
    monkeypatch.setattr(hmmer, "PRELOAD_MAX_BYTES", 0)
    assert data_lines(hmm_search(orfs, profiles=profiles, cpus=2)) == expected


def test_hmm_search_comment_lines(installed):
    profiles, _ = installed
    text = hmm_search([("sequence_0.0", "MKV" * 40)], profiles=profiles, cpus=1)
    lines = text.splitlines()
    assert lines[0].startswith("#  ")
    assert "--- full sequence ----" in lines[0]
    assert data_lines(text) == []
    assert f"# Target file:     {profiles} (3 profiles)" in lines
    assert "# Query file:      1 ORF" in lines
    assert lines[-1] == "# [ok]"
    assert data_lines(hmm_search([], profiles=profiles, cpus=1)) == []


def test_hmm_search_errors(installed, tmp_path, monkeypatch):
    profiles, _ = installed
    shutil.copyfile(HMM_DATA / "profiles.hmm", tmp_path / "profiles.hmm")
    with pytest.raises(HMMSearchError, match=r"are not pressed: profiles\.hmm\.h3m, .*\.h3p missing"):
        hmm_search([("sequence_0.0", "MKV")], profiles=tmp_path / "profiles.hmm", cpus=1)
    with pytest.raises(HMMSearchError, match=r"^ORF sequence_0\.1 is not a protein sequence"):
        hmm_search([("sequence_0.0", "MKV"), ("sequence_0.1", "MK1V")], profiles=profiles, cpus=1)
    with pytest.raises(HMMSearchError, match=r"^ORF name 'sequence 0\.0' is empty or holds whitespace"):
        hmm_search([("sequence 0.0", "MKV")], profiles=profiles, cpus=1)
    with pytest.raises(HMMSearchError, match=r"^cpus must be at least 1, not 0"):
        hmm_search([("sequence_0.0", "MKV")], profiles=profiles, cpus=0)
    with pytest.raises(
        HMMSearchError, match=r"^ORF sequence_0\.0 has 100,001 residues: HMMER searches at most 100,000"
    ):
        hmm_search([("sequence_0.0", "M" * 100_001)], profiles=profiles, cpus=1)
    # A damaged pressed database: a clear error, whether it fails on opening or on reading the profiles, held in
    # memory or read per ORF.
    h3p = profiles.with_suffix(".hmm.h3p").read_bytes()[:5000]
    for damaged, data, preload in ((".h3m", b"not pressed", 1 << 30), (".h3p", h3p, 1 << 30), (".h3p", h3p, 0)):
        for suffix in (".h3m", ".h3i", ".h3f", ".h3p"):
            shutil.copyfile(profiles.with_suffix(".hmm" + suffix), tmp_path / ("profiles.hmm" + suffix))
        (tmp_path / ("profiles.hmm" + damaged)).write_bytes(data)
        monkeypatch.setattr(hmmer, "PRELOAD_MAX_BYTES", preload)
        with pytest.raises(HMMSearchError, match=r"^The pressed HMM profiles at .* could not be read"):
            hmm_search(
                [("sequence_0.0", "MKV" * 50), ("sequence_0.1", "MKV" * 60)], profiles=tmp_path / "profiles.hmm", cpus=2
            )


def test_hmm_search_progress_and_stopping(installed, cli_profiles):
    profiles, _ = installed
    orfs = named(sampled_contigs(cli_profiles))
    seen: list[tuple[int, int]] = []
    hmm_search(orfs, profiles=profiles, cpus=2, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(done, len(orfs)) for done in range(1, len(orfs) + 1)]

    class Cancelled(Exception):
        pass

    def cancel(done: int, total: int) -> None:
        if done == 3:
            raise Cancelled

    threads = threading.active_count()
    with pytest.raises(Cancelled):
        hmm_search(orfs, profiles=profiles, cpus=2, progress=cancel)
    assert threading.active_count() == threads  # the search's threads are stopped, not left running


# --- parse_tblout on hand-written lines -----------------------------------------------------------------------

HEADER = """\
#                                                               --- full sequence ---- --- best 1 domain ---- ---
# target name        accession  query name           accession    E-value  score  bias   E-value  score  bias   exp
#------------------- ---------- -------------------- ---------- --------- ------ ----- --------- ------ -----   ---
"""


def row(target: str, query: str, numbers: str, domains: str = "1.0   1   0   0   1   1   1   1") -> str:
    """A tblout data line as hmmscan lays it out (the lines are wider than this file allows)."""
    return f"{target:<20} -          {query:<20} -          {numbers}   {domains} -\n"


TABLE = (
    HEADER
    + row("vFam_10", "sequence_3.0", "  5.2e-62  197.7   4.5   6.2e-62  197.4   0.3")
    + row(
        "vFam_1000", "sequence_3.0", "      2.1   10.5   0.2       3.4    9.8   0.1", "1.3   1   0   0   1   1   0   0"
    )
    + row(
        "vFam_100", "sequence_12.4", "    3e-16   46.9   0.1   8.1e-15   42.3   0.1", "1.9   1   1   1   2   2   2   2"
    )
    + row("PFam_77", "sequence_1.1", "    1e-99  300.0   0.0     1e-99  300.0   0.0")
    + " "
    + row("vFam_10", "sequence_1.2", "    1e-99  300.0   0.0     1e-99  300.0   0.0")
    + row("vFam_555", "sequence_0.7", "   0.0012   20.0   1.5    0.0015   19.6   1.4")
    + "#\n# Program:         hmmscan\n# [ok]\n"
)


def test_parse_tblout_keeps_virtools_swap_and_skips_other_lines(caplog):
    clusters = {10: "hmm-ten", 100: "hmm-hundred", 1000: "hmm-thousand"}
    with caplog.at_level(logging.WARNING, logger="analyses.nuvs.hmmer"):
        parsed = parse_tblout(TABLE, clusters)
    # Columns 5-10: full E, score, bias; best domain E, score, bias. Virtool reads the best domain's score (197.4)
    # into best_bias and its bias (0.3) into best_score; kept so.
    # The PFam line and the line starting with a space are not `vFam` lines: ignored, as in Virtool.
    assert parsed == {
        (3, 0): [
            {
                "hit": "hmm-ten",
                "full_e": 5.2e-62,
                "full_score": 197.7,
                "full_bias": 4.5,
                "best_e": 6.2e-62,
                "best_bias": 197.4,
                "best_score": 0.3,
            },
            {
                "hit": "hmm-thousand",
                "full_e": 2.1,
                "full_score": 10.5,
                "full_bias": 0.2,
                "best_e": 3.4,
                "best_bias": 9.8,
                "best_score": 0.1,
            },
        ],
        (12, 4): [
            {
                "hit": "hmm-hundred",
                "full_e": 3e-16,
                "full_score": 46.9,
                "full_bias": 0.1,
                "best_e": 8.1e-15,
                "best_bias": 42.3,
                "best_score": 0.1,
            }
        ],
        # vFam_555 has no annotation: the hit stays, with no annotation id, and a warning names it.
        (0, 7): [
            {
                "hit": None,
                "full_e": 0.0012,
                "full_score": 20.0,
                "full_bias": 1.5,
                "best_e": 0.0015,
                "best_bias": 19.6,
                "best_score": 1.4,
            }
        ],
    }
    assert [record.getMessage() for record in caplog.records] == [
        "hmmscan hit of vFam_555 on sequence_0.7: the cluster has no annotation"
    ]
    assert parse_tblout("", clusters) == {}


def test_parse_tblout_malformed_lines():
    with pytest.raises(ValueError, match=r"^hmmscan table line 2: expected at least 10 fields, found 4$"):
        parse_tblout("# comment\nvFam_10 - sequence_0.0 -\n", {})
    with pytest.raises(ValueError, match=r"^hmmscan table line 1: expected a vFam_<cluster> target, a sequence_"):
        parse_tblout("vFam_10 - orf0 - 1e-5 20.0 0.1 1e-5 19.0 0.1 1.0 1 0 0 1 1 1 1 -\n", {})
