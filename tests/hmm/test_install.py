"""Installing HMM data: the real vFam profiles and annotations, checked before anything changes, pressed once."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from pyhmmer.plan7 import HMMPressedFile

from hmm import selectors, services
from hmm.models import HMM
from tests.conftest import SHARED

pytestmark = pytest.mark.django_db(transaction=True)

DATA = SHARED / "data" / "hmm"


@pytest.fixture
def data_path(settings, tmp_path) -> Path:
    settings.DATA_PATH = tmp_path / "data"
    settings.DATA_PATH.mkdir()
    return settings.DATA_PATH


def install(**kwargs):
    return services.hmm_install_files(
        profiles=kwargs.pop("profiles", DATA / "profiles.hmm"),
        annotations=kwargs.pop("annotations", DATA / "annotations.json.gz"),
        user=kwargs.pop("user", None),
        **kwargs,
    )


def annotations() -> list[dict]:
    return json.loads(gzip.decompress((DATA / "annotations.json.gz").read_bytes()))


def test_real_profiles_install_pressed_with_their_annotations(data_path, admin_user):
    fractions: list[float] = []
    assert install(user=admin_user, progress=fractions.append) == 3
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    records = {record["cluster"]: record for record in annotations()}
    assert sorted(HMM.objects.values_list("cluster", flat=True)) == [10, 100, 1000]
    assert selectors.hmm_clusters() == {cluster: record["id"] for cluster, record in records.items()}
    first = HMM.objects.get(cluster=10)
    assert (first.names, first.length, first.mean_entropy, first.count) == (
        records[10]["names"],
        505,
        0.52,
        113,
    )
    assert first.families == {"Papillomaviridae": 102}
    files = selectors.hmm_files()
    assert files is not None
    assert selectors.hmm_installed()
    assert files.profiles.read_bytes() == (DATA / "profiles.hmm").read_bytes()
    with HMMPressedFile(files.profiles) as pressed:  # the database NuVs searches, pressed at install
        assert sorted(profile.name for profile in pressed) == ["vFam_10", "vFam_100", "vFam_1000"]
    status = selectors.hmm_status_get()
    assert status.installed["ready"] is True
    assert status.installed["user"] == {"id": admin_user.pk, "handle": admin_user.handle}


def test_reinstall_replaces_the_data_and_removes_the_old_folder(data_path):
    install()
    old = selectors.hmm_files().profiles.parent
    install()
    new = selectors.hmm_files().profiles.parent
    assert new != old
    assert not old.exists()
    assert new.exists()
    assert HMM.objects.count() == 3


@pytest.mark.parametrize(
    ("profiles", "annotations_content", "message"),
    [
        (None, b"not json", "The annotations file could not be read as (gzip) JSON"),
        (None, gzip.compress(b'{"cluster": 1}'), "The annotations file must hold a list of cluster annotations"),
        (None, gzip.compress(b'[{"cluster": "ten"}, {"cluster": 3, "names": "x"}]'), "has 2 problems"),
        (b"HMMER3/f nonsense\n", None, "The profiles file holds no profile HMM"),
        ((DATA / "profiles.hmm").read_bytes()[:5000], None, "The profiles file could not be read as HMMER3 profiles"),
        (None, gzip.compress(json.dumps([{"cluster": 10}]).encode()), "2 profiles have no annotation: vFam_100"),
    ],
    ids=["not-json", "not-a-list", "bad-records", "no-profiles", "cut-profiles", "unannotated"],
)
def test_bad_files_change_nothing(data_path, tmp_path, profiles, annotations_content, message):
    install()
    before = selectors.hmm_files()
    profiles_path, annotations_path = tmp_path / "profiles.hmm", tmp_path / "annotations.json.gz"
    profiles_path.write_bytes(profiles if profiles is not None else (DATA / "profiles.hmm").read_bytes())
    annotations_path.write_bytes(
        annotations_content if annotations_content is not None else (DATA / "annotations.json.gz").read_bytes()
    )
    with pytest.raises(services.HMMFileError) as raised:
        install(profiles=profiles_path, annotations=annotations_path)
    assert message in raised.value.message
    assert selectors.hmm_files() == before
    assert HMM.objects.count() == 3
    assert sorted(p.name for p in selectors.hmm_root().iterdir()) == [before.profiles.parent.name]


def test_bad_records_are_each_named(data_path, tmp_path):
    path = tmp_path / "annotations.json.gz"
    path.write_bytes(gzip.compress(b'[{"cluster": "ten"}, {"cluster": 3, "names": "x", "length": 1.5}]'))
    with pytest.raises(services.HMMFileError) as raised:
        services.read_annotations(path)
    assert raised.value.errors == [
        {"loc": [0, "cluster"], "msg": "must be a whole number"},
        {"loc": [1, "length"], "msg": "must be a whole number"},
        {"loc": [1, "names"], "msg": "must be a list of names"},
    ]


def test_purge_removes_annotations_and_files(data_path):
    install()
    folder = selectors.hmm_files().profiles.parent
    assert services.hmm_purge() == 3
    assert not HMM.objects.exists()
    assert selectors.hmm_files() is None
    assert not folder.exists()
    assert not selectors.hmm_installed()


def test_missing_pressed_files_mean_not_installed(data_path):
    install()
    files = selectors.hmm_files()
    files.pressed[0].unlink()
    assert selectors.hmm_files() is None
    shutil.rmtree(files.profiles.parent)
    assert not selectors.hmm_installed()
