"""Release archives: the two files are found whatever the folder, taken out safely, and anything else is refused
with a reason; folders are read the same way."""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile

import pytest

from hmm.archive import archive_extract, archive_inspect, folder_sources
from hmm.errors import HMMFileError
from tests.hmm.conftest import DATA, annotations, release_archive, tar_bytes

PROFILES = (DATA / "profiles.hmm").read_bytes()
ANNOTATIONS_JSON = json.dumps(annotations()).encode()


def write(tmp_path, data: bytes, name: str = "vthmm.tar.gz"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("folder", "gzip_profiles", "plain_annotations"),
    [("hmm", False, True), ("vthmm-v0.2.1", False, False), ("", True, True), ("a/b", True, False)],
    ids=["virtool-release", "other-folder", "top-level-gzipped-profiles", "nested"],
)
def test_the_two_files_are_found_and_extracted(tmp_path, folder, gzip_profiles, plain_annotations):
    archive = write(
        tmp_path, release_archive(folder=folder, gzip_profiles=gzip_profiles, plain_annotations=plain_annotations)
    )
    fractions = []
    files = archive_extract(
        path=archive,
        label="vthmm.tar.gz",
        target=tmp_path / "out",
        progress=lambda done, total: fractions.append(done / total),
    )
    assert files.profiles == tmp_path / "out" / "profiles.hmm"
    assert files.profiles.read_bytes() == PROFILES  # decompressed when it came gzipped
    assert files.annotations.parent == tmp_path / "out"
    content = files.annotations.read_bytes()
    assert json.loads(gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content) == annotations()
    assert fractions[-1] == 1.0
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(
        ["profiles.hmm", files.annotations.name]
    )


def test_plain_tar_and_other_members_are_fine(tmp_path):
    archive = write(
        tmp_path,
        tar_bytes(
            {"hmm/README.md": b"notes", "hmm/profiles.hmm": PROFILES, "hmm/annotations.json": ANNOTATIONS_JSON},
            compression="",
        ),
        "vthmm.tar",
    )
    members = archive_inspect(path=archive, label="vthmm.tar")
    assert (members.profiles, members.annotations) == ("hmm/profiles.hmm", "hmm/annotations.json")


def _with_link(name: str, *, hard: bool) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("hmm/annotations.json")
        info.size = len(ANNOTATIONS_JSON)
        tar.addfile(info, io.BytesIO(ANNOTATIONS_JSON))
        link = tarfile.TarInfo(name)
        link.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"profiles", "vthmm.tar.gz is not a readable tar archive. Upload Virtool's HMM release archive"),
        (gzip.compress(PROFILES), "vthmm.tar.gz is not a readable tar archive"),
        (release_archive()[:2000], "vthmm.tar.gz is not a readable tar archive"),
        (tar_bytes({"hmm/annotations.json": ANNOTATIONS_JSON}), "The archive holds no profiles.hmm"),
        (tar_bytes({"hmm/profiles.hmm": PROFILES}), "The archive holds no annotations.json or annotations.json.gz"),
        (
            tar_bytes(
                {
                    "a/profiles.hmm": PROFILES,
                    "a/annotations.json": ANNOTATIONS_JSON,
                    "b/profiles.hmm": PROFILES,
                    "b/annotations.json": ANNOTATIONS_JSON,
                }
            ),
            "The archive holds HMM data in more than one folder (a, b)",
        ),
        (
            tar_bytes({"hmm/profiles.hmm": PROFILES, "hmm/annotations.json": ANNOTATIONS_JSON, "../evil": b"x"}),
            "The archive holds an unsafe path ('../evil')",
        ),
        (
            tar_bytes({"/etc/profiles.hmm": PROFILES, "hmm/annotations.json": ANNOTATIONS_JSON}),
            "The archive holds an unsafe path ('/etc/profiles.hmm')",
        ),
        (_with_link("hmm/profiles.hmm", hard=False), "profiles.hmm in the archive is a link"),
        (_with_link("hmm/profiles.hmm", hard=True), "profiles.hmm in the archive is a link"),
        (
            tar_bytes({"hmm/profiles.hmm": b"", "hmm/annotations.json": ANNOTATIONS_JSON}),
            "profiles.hmm in the archive is empty",
        ),
    ],
    ids=[
        "not-an-archive",
        "gzip-not-tar",
        "cut-short",
        "no-profiles",
        "no-annotations",
        "two-folders",
        "traversal",
        "absolute",
        "symlink",
        "hardlink",
        "empty",
    ],
)
def test_archives_without_hmm_data_are_refused_with_a_reason(tmp_path, data, message):
    archive = write(tmp_path, data)
    with pytest.raises(HMMFileError) as raised:
        archive_extract(path=archive, label="vthmm.tar.gz", target=tmp_path / "out")
    assert message in raised.value.message
    assert raised.value.status == 400
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_sizes_are_limited_as_the_files_are_decompressed(tmp_path, settings):
    settings.VIRTOOL_HMM_MAX_SIZE = len(PROFILES) - 1
    with pytest.raises(HMMFileError, match=r"profiles\.hmm is larger than the \d+ bytes"):
        archive_inspect(path=write(tmp_path, release_archive()), label="vthmm.tar.gz")
    # A gzipped member's size in the archive says nothing of what it becomes: counted while decompressing.
    bomb = write(tmp_path, release_archive(gzip_profiles=True), "bomb.tar.gz")
    assert archive_inspect(path=bomb, label="bomb.tar.gz").profiles == "hmm/profiles.hmm.gz"
    with pytest.raises(HMMFileError, match=r"profiles\.hmm\.gz is larger than the \d+ bytes"):
        archive_extract(path=bomb, label="bomb.tar.gz", target=tmp_path / "out")


def test_a_damaged_gzipped_member_is_named(tmp_path):
    broken = gzip.compress(PROFILES)[:-200]
    archive = write(tmp_path, tar_bytes({"hmm/profiles.hmm.gz": broken, "hmm/annotations.json": ANNOTATIONS_JSON}))
    with pytest.raises(
        HMMFileError, match=re.escape("profiles.hmm.gz could not be read to its end: it is damaged or cut short")
    ):
        archive_extract(path=archive, label="vthmm.tar.gz", target=tmp_path / "out")


def test_folders_hold_the_files_or_one_subfolder_does(tmp_path):
    files = folder_sources(path=DATA, target=tmp_path / "unused")
    assert (files.profiles, files.annotations) == (DATA / "profiles.hmm", DATA / "annotations.json.gz")
    assert not (tmp_path / "unused").exists()  # plain files are read where they are

    release = tmp_path / "release"
    (release / "hmm").mkdir(parents=True)
    (release / "hmm" / "profiles.hmm.gz").write_bytes(gzip.compress(PROFILES))
    (release / "hmm" / "annotations.json").write_bytes(ANNOTATIONS_JSON)
    files = folder_sources(path=release, target=tmp_path / "staged")
    assert files.profiles == tmp_path / "staged" / "profiles.hmm"
    assert files.profiles.read_bytes() == PROFILES
    assert files.annotations == release / "hmm" / "annotations.json"

    (release / "other").mkdir()
    (release / "other" / "profiles.hmm").write_bytes(PROFILES)
    (release / "other" / "annotations.json").write_bytes(ANNOTATIONS_JSON)
    with pytest.raises(HMMFileError, match="holds HMM data in more than one folder: hmm, other"):
        folder_sources(path=release, target=tmp_path / "staged")

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(
        HMMFileError, match=re.escape("holds no profiles.hmm with annotations.json or annotations.json.gz")
    ):
        folder_sources(path=empty, target=tmp_path / "x")
