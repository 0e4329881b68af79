"""The jobs pages name workflows as the workflows name themselves (the engine knows none by name)."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/jobs", "/jobs/abcd1234"])
def test_jobs_pages_carry_the_registered_workflows_display_names(make_user, path):
    response = client_for(make_user("joe")).get(path)
    assert response.status_code == 200
    found = re.search(r'<script id="workflow-labels" type="application/json">(.*?)</script>', response.text)
    labels = json.loads(found.group(1))
    assert labels["build_index"] == "Build index"
    assert labels["create_sample"] == "Create sample"
    assert labels["pathoscope_bowtie"] == labels["pathoscope"] == "PathoScope"  # an alias reads as its workflow
