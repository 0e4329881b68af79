"""The evidence behind a PathoScope hit, on the real `rprsv` sample: the reads the EM assigned to RpRSV (FASTQ) and
the consensus of its segments (FASTA), with the refusals of both downloads."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
from collections import Counter
from statistics import mean

import pytest
from Bio import Align

from analyses.models import Analysis
from core import seqio
from samples.models import Sample
from tests.analyses.test_workflow import RPRSV, RPRSV_RNA1, RPRSV_RNA2, SAMPLES, prepare
from tests.conftest import client_for, run_waiting_jobs
from tests.references.conftest import DEMO

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scientist(make_user):
    return make_user("sci", permissions=["create_ref", "create_sample", "upload_file"])


def fasta_records(text: str) -> dict[str, tuple[str, str]]:
    """accession -> (header, sequence) of a FASTA text."""
    records: dict[str, tuple[str, str]] = {}
    for block in text.split(">")[1:]:
        header, _, body = block.partition("\n")
        records[header.split()[0].removesuffix("_consensus")] = (header, body.replace("\n", ""))
    return records


def called_identity(consensus: str, reference: str) -> tuple[float, int]:
    """Share of the consensus's called positions (not N) equal to the reference base they align to (global
    alignment), and how many positions it calls."""
    aligner = Align.PairwiseAligner(mode="global", match_score=2, mismatch_score=-3)
    aligner.open_gap_score, aligner.extend_gap_score = -5, -2
    aligner.end_gap_score = 0
    alignment = aligner.align(consensus, reference)[0]
    top, bottom = alignment[0], alignment[1]
    called = sum(1 for base in consensus if base != "N")
    matches = sum(1 for a, b in zip(top, bottom, strict=True) if a != "N" and a != "-" and a == b)
    return matches / called, called


def mismatches(folder, name: str, sequences: dict[str, str], fastq) -> dict[str, int]:
    """Read -> mismatches (XM) of its best alignment to `sequences`, with the workflow's bowtie2 flags."""
    (folder / f"{name}.fa").write_text("".join(f">{a}\n{s}\n" for a, s in sequences.items()))
    subprocess.run(["bowtie2-build", f"{name}.fa", name], cwd=folder, check=True, capture_output=True)
    sam = subprocess.run(
        ["bowtie2", "--local", "--no-unal", "--score-min", "L,20,1.0", "-N", "0", "-L", "15",
         "-x", str(folder / name), "-U", str(fastq), "--no-hd"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    found = {}
    for line in sam.splitlines():
        fields = line.split("\t")
        found[fields[0]] = next(int(tag[5:]) for tag in fields[11:] if tag.startswith("XM:i:"))
    return found


def rprsv_analysis(client, scientist):
    reference, sample = prepare(client, scientist)
    analysis = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json").json()
    assert run_waiting_jobs() == ["complete"]
    document = client.get(f"/api/analyses/{analysis['id']}").json()
    otu = next(o for o in document["results"]["hits"] if o["name"] == RPRSV)
    return sample, document, otu


def test_rprsv_reads_and_consensus(scientist, jobs_here, tmp_path, make_user):
    client = client_for(scientist)
    sample, document, otu = rprsv_analysis(client, scientist)
    analysis_id = document["id"]
    stored = Analysis.objects.get(pk=analysis_id).results
    evidence = stored["evidence"]
    assert evidence["min_depth"] == 3
    assert evidence["depth_cap"]["window"] == 50
    assert evidence["depth_cap"]["per_window"] == 100
    assert set(evidence["otus"]) == {hit["otu"]["id"] for hit in stored["hits"]}
    assigned = evidence["otus"][otu["id"]]

    # The reads: each once, as sequenced (equal to the sample's record of that name), as many as were assigned.
    response = client.get(f"/api/analyses/{analysis_id}/otus/{otu['id']}/reads.fq.gz")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('_reads.fq.gz"')
    fastq = tmp_path / "rprsv.fq.gz"
    fastq.write_bytes(b"".join(response.streaming_content))
    reads = {record.name: record for record in seqio.read_fastq(fastq)}
    assert len(reads) == assigned["reads"] > 1000
    sample_reads = {
        record.name.split()[0]: record
        for name in ("rprsv_1.fq.gz", "rprsv_2.fq.gz")
        for record in seqio.read_fastq(SAMPLES / name)
    }
    for name, record in reads.items():
        assert (record.sequence, record.qualities) == (sample_reads[name].sequence, sample_reads[name].qualities)
    # The result shows per sequence the whole best-hit reads (a read tied between k sequences counts 1/k to each):
    # with no read tied to another OTU, the assigned reads are their sum before truncation, so the shown total
    # is at most that and short of it by less than one read per sequence shown.
    shown = otu["reads"]
    hit_sequences = sum(len(isolate["sequences"]) for isolate in otu["isolates"])
    assert assigned["shared"] == 0
    assert 0 <= assigned["reads"] - shown < hit_sequences, (assigned, shown, hit_sequences)

    # Every one of them maps to RpRSV's sequences with the workflow's own bowtie2 flags.
    demo = json.loads(gzip.decompress(DEMO.read_bytes()))
    rprsv = next(o for o in demo["otus"] if o["name"] == RPRSV)
    sequences = {s["accession"]: s["sequence"] for i in rprsv["isolates"] for s in i["sequences"]}
    assert set(mismatches(tmp_path, "rprsv", sequences, fastq)) == set(reads)

    # The consensus of the best isolate's segments. The sample's RpRSV is a strain about 10 % apart from NC_005266
    # (its reads carry ~12 mismatches per 125 aligned bases, mostly at codons' third positions), so the consensus,
    # which follows the reads, matches NC_005266 at ~90 % of the positions it calls, not the 95 % (the
    # consensus of reads drawn from NC_005266 itself does, in the next test). That it follows the reads: they
    # align to it with a fraction of the mismatches they have against the reference.
    response = client.get(f"/api/analyses/{analysis_id}/otus/{otu['id']}/consensus.fa")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('_consensus.fa"')
    consensus = fasta_records(response.content.decode())
    best = otu["isolates"][0]
    assert set(consensus) == {s["accession"] for s in best["sequences"]} == {RPRSV_RNA1, RPRSV_RNA2}
    header = consensus[RPRSV_RNA1][0]
    assert RPRSV in header
    assert "depth below 3 as N" in header
    for accession in (RPRSV_RNA1, RPRSV_RNA2):
        identity, called = called_identity(consensus[accession][1], sequences[accession])
        assert 0.85 <= identity < 0.95, (accession, identity)
        assert called >= 0.5 * len(sequences[accession]), (accession, called)
    on_reference = mismatches(tmp_path, "reference", {a: sequences[a] for a in consensus}, fastq)
    on_consensus = mismatches(tmp_path, "consensus", {a: record[1] for a, record in consensus.items()}, fastq)
    assert len(on_consensus) >= 0.95 * len(reads)
    assert mean(on_consensus.values()) < 0.25 * mean(on_reference.values()), (
        mean(on_consensus.values()),
        mean(on_reference.values()),
    )

    # The files are the analysis's recorded files, the alignments an indexed BAM.
    files = {f["name"]: f for f in client.get(f"/api/analyses/{analysis_id}").json()["files"]}
    assert {"evidence.bam", "evidence.bam.bai", "consensus.fa.gz", f"reads_{otu['id']}.fq.gz"} <= set(files)
    bam = client.get(f"/api/analyses/{analysis_id}/files/{files['evidence.bam']['id']}")
    bam_path = tmp_path / "evidence.bam"
    bam_path.write_bytes(b"".join(bam.streaming_content))
    assert bam_path.read_bytes()[:4] == b"\x1f\x8b\x08\x04"  # BGZF
    # The depth cap: rprsv's RpRSV is deep in a few places; there the BAM keeps 100 alignments starting in a
    # window of 50 bases, and the analysis says how many it left out (the FASTQ above kept all their reads).
    records = subprocess.run(["samtools", "view", str(bam_path)], capture_output=True, text=True, check=True).stdout
    starts = Counter((line.split("\t")[2], (int(line.split("\t")[3]) - 1) // 50) for line in records.splitlines())
    assert evidence["depth_cap"]["capped"] > 0
    assert max(starts.values()) == 100

    # Refusals: an OTU that is not a hit; someone who may not read the sample; an analysis from before.
    missing = client.get(f"/api/analyses/{analysis_id}/otus/nothere/consensus.fa")
    assert missing.status_code == 404
    assert missing.json() == {"id": "not_found", "message": "OTU nothere is not among the hits of this analysis"}
    assert client.get(f"/api/analyses/{analysis_id}/otus/nothere/reads.fq.gz").status_code == 404
    assert client.get(f"/api/analyses/nope/otus/{otu['id']}/reads.fq.gz").status_code == 404
    Sample.objects.filter(pk=sample["id"]).update(all_read=False, all_write=False)
    stranger = client_for(make_user("stranger"))
    assert stranger.get(f"/api/analyses/{analysis_id}/otus/{otu['id']}/reads.fq.gz").status_code == 403
    assert stranger.get(f"/api/analyses/{analysis_id}/otus/{otu['id']}/consensus.fa").status_code == 403
    Analysis.objects.filter(pk=analysis_id).update(results={k: v for k, v in stored.items() if k != "evidence"})
    for download in ("reads.fq.gz", "consensus.fa"):
        before = client.get(f"/api/analyses/{analysis_id}/otus/{otu['id']}/{download}")
        assert before.status_code == 404
        assert before.json()["message"].startswith("This analysis was made before reads and consensus sequences")


def test_negative_control_has_no_evidence(scientist, jobs_here):
    client = client_for(scientist)
    reference, sample = prepare(client, scientist, reads=("small_50bp_1.fq.gz", "small_50bp_2.fq.gz"))
    analysis = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json").json()
    assert run_waiting_jobs() == ["complete"]
    stored = Analysis.objects.get(pk=analysis["id"]).results
    assert stored["evidence"] == {
        "min_depth": 3,
        "depth_cap": {"window": 50, "per_window": 100, "capped": 0},
        "otus": {},
    }
    response = client.get(f"/api/analyses/{analysis['id']}/otus/any/reads.fq.gz")
    assert response.status_code == 404
    assert response.json()["message"] == "OTU any is not among the hits of this analysis"


def simulated_reads(sequences: list[str], *, count: int, seed: int = 11) -> bytes:
    """Reads of 150 nt drawn from `sequences` on both strands with 0.5 % substitutions, as gzip FASTQ."""
    rng = random.Random(seed)
    complement = str.maketrans("ACGT", "TGCA")
    lines = []
    for n in range(count):
        source = rng.choice(sequences)
        start = rng.randrange(0, len(source) - 150)
        read = list(source[start : start + 150])
        for i in range(len(read)):
            if rng.random() < 0.005:
                read[i] = rng.choice([b for b in "ACGT" if b != read[i]])
        text = "".join(read)
        if rng.random() < 0.5:
            text = text.translate(complement)[::-1]
        lines.append(f"@sim{n}\n{text}\n+\n{'F' * 150}\n")
    return gzip.compress("".join(lines).encode())


def test_consensus_of_reads_from_nc_005266_matches_it(scientist, jobs_here, tmp_path):
    demo = json.loads(gzip.decompress(DEMO.read_bytes()))
    rprsv = next(o for o in demo["otus"] if o["name"] == RPRSV)
    sequences = {s["accession"]: s["sequence"] for i in rprsv["isolates"] for s in i["sequences"]}
    reads = tmp_path / "sim.fq.gz"
    reads.write_bytes(simulated_reads([sequences[RPRSV_RNA1], sequences[RPRSV_RNA2]], count=3000))
    client = client_for(scientist)
    reference, sample = prepare(client, scientist, reads=(str(reads),))
    analysis = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json").json()
    assert run_waiting_jobs() == ["complete"]
    otu = next(o for o in client.get(f"/api/analyses/{analysis['id']}").json()["results"]["hits"] if o["name"] == RPRSV)
    consensus = fasta_records(
        client.get(f"/api/analyses/{analysis['id']}/otus/{otu['id']}/consensus.fa").content.decode()
    )
    assert set(consensus) == {RPRSV_RNA1, RPRSV_RNA2}  # the isolate the reads came from is the best one
    identity, called = called_identity(consensus[RPRSV_RNA1][1], sequences[RPRSV_RNA1])
    assert identity >= 0.95, identity
    assert called >= 0.9 * len(sequences[RPRSV_RNA1])
