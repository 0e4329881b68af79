"""HMM constants."""

from __future__ import annotations

# The files of installed HMM data, in `<data_path>/hmm/<folder>/`: the profiles (HMMER3 text), their pressed database
# (`hmmpress` output: .h3m .h3i .h3f .h3p beside it) and the annotations they were installed with.
PROFILES = "profiles.hmm"
ANNOTATIONS = "annotations.json.gz"
PRESSED_SUFFIXES = (".h3m", ".h3i", ".h3f", ".h3p")
# Profiles are named after their cluster: `vFam_123`.
PROFILE_PREFIX = "vFam_"

# The job that installs HMM data (Virtool's task type `install_hmms`).
INSTALL_WORKFLOW = "install_hmms"
# The release refresher's name: its lock in Redis (`core.refresh.run_once`), so one check runs at a time.
RELEASE_REFRESHER = "hmm_release"
# Virtool's id of the status document.
STATUS_ID = "hmm"

# The names the two files may have in a release archive or a folder, preferred first. Virtool's `vthmm.tar.gz`
# holds `hmm/profiles.hmm` and `hmm/annotations.json`; the files beside this project's data are `profiles.hmm`
# and `annotations.json.gz`; a gzipped `profiles.hmm.gz` is taken too.
PROFILE_NAMES = ("profiles.hmm", "profiles.hmm.gz")
ANNOTATION_NAMES = ("annotations.json.gz", "annotations.json")
# A release archive holds a handful of members; far more is not HMM data (and would only make reading it slow).
ARCHIVE_MAX_MEMBERS = 10_000
