"""HMM constants."""

from __future__ import annotations

# The files of installed HMM data, in `<data_path>/hmm/`: the profiles (HMMER3 text), their pressed database
# (`hmmpress` output: .h3m .h3i .h3f .h3p beside it) and the annotations they were installed with.
PROFILES = "profiles.hmm"
ANNOTATIONS = "annotations.json.gz"
PRESSED_SUFFIXES = (".h3m", ".h3i", ".h3f", ".h3p")
# Profiles are named after their cluster: `vFam_123`.
PROFILE_PREFIX = "vFam_"
