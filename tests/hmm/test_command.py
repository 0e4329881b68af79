"""`manage.py install_hmms PATH`: a folder or a release archive, installed in the command's own process with a
progress bar; bad input is a clear message and a non-zero exit, and changes nothing."""

from __future__ import annotations

import json

import pytest

from hmm import selectors
from hmm.models import HMM
from tests.conftest import client_for
from tests.hmm.conftest import DATA, annotations, hmm_upload, release_archive, tar_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_folder_is_installed(data_path, run_manage, admin_user):
    result = run_manage("install_hmms", str(DATA))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Installed 3 HMM profiles from {DATA} in ")
    assert "100% Installing" in result.stderr  # the progress bar
    assert sorted(HMM.objects.values_list("cluster", flat=True)) == [10, 100, 1000]
    status = selectors.hmm_status_get()
    assert status.installed["name"] == "hmm"
    assert status.installed["source"] == "folder"
    assert status.installed["user"] == {"id": admin_user.pk, "handle": "admin"}
    assert selectors.hmm_installed()
    # The staging folder goes; only the installed data stays.
    assert [path.name for path in selectors.hmm_root().iterdir()] == [selectors.hmm_files().profiles.parent.name]


def test_a_release_archive_is_installed_for_a_named_user(data_path, run_manage, make_user, tmp_path):
    make_user("curator")
    archive = tmp_path / "vthmm.tar.gz"
    archive.write_bytes(release_archive(gzip_profiles=True))
    result = run_manage("install_hmms", str(archive), "--user", "curator")
    assert result.returncode == 0, result.stderr
    assert "Decompressing" in result.stderr
    installed = selectors.hmm_status_get().installed
    assert (installed["name"], installed["source"], installed["size"], installed["user"]["handle"]) == (
        "vthmm.tar.gz",
        "archive",
        archive.stat().st_size,
        "curator",
    )
    assert selectors.hmm_files().profiles.read_bytes() == (DATA / "profiles.hmm").read_bytes()


def test_bad_input_is_refused_with_a_reason(data_path, run_manage, tmp_path):
    run_manage("install_hmms", str(DATA))
    before = (selectors.hmm_files(), sorted(HMM.objects.values_list("pk", flat=True)))

    missing = run_manage("install_hmms", str(tmp_path / "nowhere"))
    assert missing.returncode != 0
    assert "nowhere does not exist" in missing.stderr

    not_archive = tmp_path / "notes.txt"
    not_archive.write_text("hello")
    result = run_manage("install_hmms", str(not_archive))
    assert result.returncode != 0
    assert "notes.txt is not a readable tar archive" in result.stderr

    records = annotations()
    records[0]["names"] = "L1"
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(
        tar_bytes(
            {
                "hmm/profiles.hmm": (DATA / "profiles.hmm").read_bytes(),
                "hmm/annotations.json": json.dumps(records).encode(),
            }
        )
    )
    result = run_manage("install_hmms", str(bad))
    assert result.returncode != 0
    assert "0.names: must be a list of names" in result.stderr
    assert "The annotations file has 1 problem; nothing was installed" in result.stderr

    unknown = run_manage("install_hmms", str(DATA), "--user", "nobody")
    assert (unknown.returncode, "no user with handle 'nobody'" in unknown.stderr) == (1, True)

    assert (selectors.hmm_files(), sorted(HMM.objects.values_list("pk", flat=True))) == before
    assert [path.name for path in selectors.hmm_root().iterdir()] == [before[0].profiles.parent.name]


def test_the_command_is_refused_while_an_install_job_runs(data_path, run_manage, admin_user, jobs_here):
    client_for(admin_user).post("/api/hmms/status/updates", {"upload_id": hmm_upload(admin_user).pk}, format="json")
    result = run_manage("install_hmms", str(DATA))
    assert result.returncode != 0
    assert "HMMs are being installed by job" in result.stderr
    assert not HMM.objects.exists()
