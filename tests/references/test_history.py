"""OTU, isolate and sequence edits: versions, Virtool's exact diffs, revert, patching back, rights."""

from __future__ import annotations

import pytest

from otus.models import OTU, Change
from otus.selectors import otu_at_version, otu_joined
from references.models import Reference
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)

SEQ = "ACGTACGTACGTACGTACGT"


@pytest.fixture
def curator(make_user):
    return make_user("cura", permissions=["create_ref"])


@pytest.fixture
def client(curator):
    return client_for(curator)


@pytest.fixture
def reference(client) -> dict:
    response = client.post("/api/refs", {"name": "Lab viruses", "organism": "virus"}, format="json")
    assert response.status_code == 201
    return response.json()


def create_otu(client, reference, name="Tobacco mosaic virus", abbreviation="TMV", schema=None) -> dict:
    body = {"name": name, "abbreviation": abbreviation}
    if schema is not None:
        body["schema"] = schema
    response = client.post(f"/api/refs/{reference['id']}/otus", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def latest_change(otu_id: str) -> dict:
    change = Change.objects.filter(otu_id=otu_id).order_by("-pk").first()
    return {
        "id": change.change_id,
        "method_name": change.method_name,
        "description": change.description,
        "diff": change.diff,
    }


def test_create_records_the_whole_document(client, reference, curator):
    otu = create_otu(client, reference)
    assert otu["version"] == 0
    assert otu["verified"] is False
    assert otu["issues"] == {
        "empty_otu": True,
        "empty_isolate": False,
        "empty_sequence": False,
        "isolate_inconsistency": False,
    }
    change = client.get(f"/api/history/{otu['id']}.0").json()
    assert change["method_name"] == "create"
    assert change["description"] == "Created Tobacco mosaic virus (TMV)"
    assert change["otu"] == {"id": otu["id"], "name": "Tobacco mosaic virus", "version": 0}
    assert change["index"] == {"id": "unbuilt", "version": "unbuilt"}
    assert change["user"] == {"id": curator.pk, "handle": "cura"}
    assert change["diff"] == {
        "_id": otu["id"],
        "abbreviation": "TMV",
        "isolates": [],
        "last_indexed_version": None,
        "lower_name": "tobacco mosaic virus",
        "name": "Tobacco mosaic virus",
        "reference": {"id": reference["id"]},
        "schema": [],
        "verified": False,
        "version": 0,
    }


def test_edit_name_writes_dictdiffer_diff(client, reference):
    otu = create_otu(client, reference)
    response = client.patch(f"/api/otus/{otu['id']}", {"name": "Tomato mosaic virus"}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 1
    change = latest_change(otu["id"])
    assert change["id"] == f"{otu['id']}.1"
    assert change["method_name"] == "edit"
    assert change["description"] == "Changed name to Tomato mosaic virus"
    assert change["diff"] == [
        ["change", "lower_name", ["tobacco mosaic virus", "tomato mosaic virus"]],
        ["change", "name", ["Tobacco mosaic virus", "Tomato mosaic virus"]],
        ["change", "version", [0, 1]],
    ]


def test_adding_an_isolate_and_a_sequence_verifies_the_otu(client, reference):
    otu = create_otu(client, reference)
    isolate = client.post(
        f"/api/otus/{otu['id']}/isolates", {"source_type": "Isolate", "source_name": "A1"}, format="json"
    ).json()
    assert isolate["default"] is True
    assert isolate["source_type"] == "isolate"
    change = latest_change(otu["id"])
    assert change["description"] == "Added Isolate A1 as default"
    assert change["diff"] == [
        [
            "add",
            "isolates",
            [
                [
                    0,
                    {
                        "default": True,
                        "id": isolate["id"],
                        "source_name": "A1",
                        "source_type": "isolate",
                        "sequences": [],
                    },
                ]
            ],
        ],
        ["change", "version", [0, 1]],
    ]
    response = client.post(
        f"/api/otus/{otu['id']}/isolates/{isolate['id']}/sequences",
        {"accession": "NC_001367", "definition": "TMV genome", "host": "Tobacco", "sequence": SEQ.lower()},
        format="json",
    )
    assert response.status_code == 201
    sequence = response.json()
    assert sequence["sequence"] == SEQ
    change = latest_change(otu["id"])
    assert change["description"] == "Created new sequence NC_001367 in Isolate A1"
    expected_sequence = {
        "_id": sequence["id"],
        "accession": "NC_001367",
        "definition": "TMV genome",
        "host": "Tobacco",
        "isolate_id": isolate["id"],
        "otu_id": otu["id"],
        "reference": {"id": reference["id"]},
        "segment": None,
        "sequence": SEQ,
        "target": None,
    }
    assert change["diff"] == [
        ["add", ["isolates", 0, "sequences"], [[0, expected_sequence]]],
        ["change", "verified", [False, True]],
        ["change", "version", [1, 2]],
    ]
    assert client.get(f"/api/otus/{otu['id']}").json()["verified"] is True


def test_bad_sequences_and_segments_are_refused_with_a_reason(client, reference):
    otu = create_otu(client, reference, schema=[{"name": "RNA1", "molecule": "ssRNA+", "required": True}])
    isolate = client.post(f"/api/otus/{otu['id']}/isolates", {}, format="json").json()
    url = f"/api/otus/{otu['id']}/isolates/{isolate['id']}/sequences"
    bad = client.post(url, {"accession": "X1", "definition": "d", "sequence": "ACGT-XZ"}, format="json")
    assert bad.status_code == 400
    assert "IUPAC" in bad.json()["message"]
    assert "XZ" in bad.json()["message"]
    segment = client.post(
        url, {"accession": "X1", "definition": "d", "sequence": SEQ, "segment": "RNA9"}, format="json"
    )
    assert segment.status_code == 400
    assert segment.json()["message"] == "Segment does not exist"
    missing = client.post(url, {"definition": "d", "sequence": SEQ}, format="json")
    assert missing.status_code == 400
    assert missing.json()[0]["loc"] == ["accession"]
    assert client.get(f"/api/otus/{otu['id']}").json()["version"] == 1  # nothing else was recorded
    duplicate = client.post(f"/api/refs/{reference['id']}/otus", {"name": "tobacco MOSAIC virus"}, format="json")
    assert duplicate.status_code == 400
    assert duplicate.json()["message"] == "Name already exists"


def test_every_kind_of_edit_reverts_bit_for_bit(client, reference):
    """Make one edit of each kind; reverting the newest change each time walks back through every state."""
    otu = create_otu(client, reference, schema=[{"name": "RNA1", "molecule": "ssRNA+", "required": True}])
    base = f"/api/otus/{otu['id']}"
    states = [otu_joined(otu_id=otu["id"])]

    def step(response):
        assert response.status_code in (200, 201, 204), response.content
        states.append(otu_joined(otu_id=otu["id"]))
        return response.json() if response.status_code != 204 else None

    a = step(client.post(f"{base}/isolates", {"source_type": "isolate", "source_name": "A"}, format="json"))
    b = step(client.post(f"{base}/isolates", {"source_type": "strain", "source_name": "B"}, format="json"))
    s1 = step(
        client.post(
            f"{base}/isolates/{a['id']}/sequences",
            {"accession": "AB1", "definition": "one", "sequence": SEQ, "segment": "RNA1"},
            format="json",
        )
    )
    step(
        client.post(
            f"{base}/isolates/{b['id']}/sequences",
            {"accession": "AB2", "definition": "two", "sequence": SEQ},
            format="json",
        )
    )
    step(
        client.patch(
            f"{base}/isolates/{a['id']}/sequences/{s1['id']}", {"sequence": SEQ + "GG", "host": "Vitis"}, format="json"
        )
    )
    step(client.put(f"{base}/isolates/{b['id']}/default"))
    step(client.patch(f"{base}/isolates/{a['id']}", {"source_name": "A-renamed"}, format="json"))
    step(client.patch(base, {"abbreviation": "ToMV", "schema": []}, format="json"))  # drops the segment of s1
    step(client.delete(f"{base}/isolates/{a['id']}/sequences/{s1['id']}"))
    step(client.delete(f"{base}/isolates/{b['id']}"))
    step(client.delete(base))
    assert states[-1] is None
    methods = list(Change.objects.filter(otu_id=otu["id"]).order_by("pk").values_list("method_name", flat=True))
    assert methods == [
        "create", "add_isolate", "add_isolate", "create_sequence", "create_sequence", "edit_sequence",
        "set_as_default", "edit_isolate", "edit", "remove_sequence", "remove_isolate", "remove",
    ]  # fmt: skip
    assert Change.objects.get(otu_id=otu["id"], method_name="remove").change_id == f"{otu['id']}.removed"
    # Any earlier version can be rebuilt by patching backwards from the current state.
    for version, state in enumerate(states[:-1]):
        assert otu_at_version(otu_id=otu["id"], version=version) == state
    # Revert the newest change, one at a time: each gives back exactly the state before it.
    for expected in reversed(states[:-1]):
        newest = Change.objects.filter(otu_id=otu["id"]).order_by("-pk").first()
        if newest.method_name == "create":
            break
        assert client.delete(f"/api/history/{newest.change_id}").status_code == 204
        assert otu_joined(otu_id=otu["id"]) == expected
    assert OTU.objects.get(pk=otu["id"]).version == 0


def test_revert_removes_that_change_and_every_later_one(client, reference):
    otu = create_otu(client, reference)
    base = f"/api/otus/{otu['id']}"
    before = otu_joined(otu_id=otu["id"])
    client.patch(base, {"name": "Renamed once"}, format="json")
    client.patch(base, {"name": "Renamed twice"}, format="json")
    assert client.delete(f"/api/history/{otu['id']}.1").status_code == 204
    assert otu_joined(otu_id=otu["id"]) == before
    assert list(Change.objects.filter(otu_id=otu["id"]).values_list("change_id", flat=True)) == [f"{otu['id']}.0"]
    history = client.get(f"{base}/history").json()
    assert [c["id"] for c in history] == [f"{otu['id']}.0"]


def test_reverting_a_create_removes_the_otu(client, reference):
    otu = create_otu(client, reference)
    assert client.delete(f"/api/history/{otu['id']}.0").status_code == 204
    assert not OTU.objects.filter(pk=otu["id"]).exists()
    assert client.get(f"/api/otus/{otu['id']}").status_code == 404


def test_fasta_downloads(client, reference):
    otu = create_otu(client, reference)
    isolate = client.post(
        f"/api/otus/{otu['id']}/isolates", {"source_type": "isolate", "source_name": "A"}, format="json"
    ).json()
    sequence = client.post(
        f"/api/otus/{otu['id']}/isolates/{isolate['id']}/sequences",
        {"accession": "AB1", "definition": "one", "sequence": SEQ},
        format="json",
    ).json()
    expected = f">Tobacco mosaic virus|Isolate A|{sequence['id']}|{len(SEQ)}\n{SEQ}\n"
    for url in (
        f"/api/otus/{otu['id']}.fa",
        f"/api/otus/{otu['id']}/isolates/{isolate['id']}.fa",
        f"/api/otus/{otu['id']}/isolates/{isolate['id']}/sequences/{sequence['id']}.fa",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.content.decode() == expected
        assert "attachment" in response["Content-Disposition"]


def test_search_otus_by_name_or_abbreviation(client, reference):
    create_otu(client, reference, "Tobacco mosaic virus", "TMV")
    create_otu(client, reference, "Grapevine fanleaf virus", "GFLV")

    def found(term):
        return [o["name"] for o in client.get(f"/api/refs/{reference['id']}/otus?find={term}").json()["documents"]]

    assert found("mosaic") == ["Tobacco mosaic virus"]
    assert found("gflv") == ["Grapevine fanleaf virus"]
    assert len(found("")) == 2


@pytest.mark.parametrize(
    ("member", "rights", "can_edit_otu", "can_modify", "can_build", "can_remove"),
    [
        ("none", {}, False, False, False, False),
        ("user", {"modify_otu": True}, True, False, False, False),
        ("user", {"modify": True}, False, True, False, False),
        ("group", {"modify_otu": True, "build": True}, True, False, True, False),
        ("group", {"remove": True}, False, False, False, True),
        ("admin", {}, True, True, True, True),
    ],
)
def test_reference_rights(
    client, reference, make_user, member, rights, can_edit_otu, can_modify, can_build, can_remove
):
    from django.contrib.auth.models import Group

    other = make_user("other", role="full" if member == "admin" else None)
    if member == "user":
        assert (
            client.post(
                f"/api/refs/{reference['id']}/users", {"user_id": other.pk, **rights}, format="json"
            ).status_code
            == 201
        )
    elif member == "group":
        group = Group.objects.create(name="lab")
        other.groups.add(group)
        assert (
            client.post(
                f"/api/refs/{reference['id']}/groups", {"group_id": group.pk, **rights}, format="json"
            ).status_code
            == 201
        )
    otu = create_otu(client, reference)
    theirs = client_for(other)
    code = lambda allowed, response: (response.status_code < 400) == allowed or response.json()  # noqa: E731
    assert code(can_edit_otu, theirs.patch(f"/api/otus/{otu['id']}", {"name": "Changed"}, format="json")) is True
    assert code(can_modify, theirs.patch(f"/api/refs/{reference['id']}", {"description": "x"}, format="json")) is True
    build = theirs.post(f"/api/refs/{reference['id']}/indexes")
    # Allowed builds are refused for another reason (the OTU is unverified): 409, never 403.
    assert (build.status_code != 403) == can_build, build.json()
    if not can_remove:
        assert theirs.delete(f"/api/refs/{reference['id']}").status_code == 403
    else:
        assert theirs.delete(f"/api/refs/{reference['id']}").status_code == 204
        assert not Reference.objects.exists()
    # Everybody may read references.
    assert theirs.get("/api/refs").status_code == 200


def test_creating_a_reference_needs_create_ref(make_user):
    nobody = client_for(make_user("nobody"))
    response = nobody.post("/api/refs", {"name": "Mine"}, format="json")
    assert response.status_code == 403


def test_changes_reach_browsers_live(client, reference, channel_reader):
    from core import events

    everyone = channel_reader().join(events.GROUP_ALL)
    otu = create_otu(client, reference)
    client.patch(f"/api/otus/{otu['id']}", {"name": "Renamed"}, format="json")
    messages = [(m["interface"], m["operation"]) for m in everyone.messages()]
    assert ("otus", "insert") in messages
    assert ("history", "insert") in messages
    assert ("references", "update") in messages
    assert client.delete(f"/api/history/{otu['id']}.1").status_code == 204
    deletes = [m for m in everyone.messages() if m["interface"] == "history" and m["operation"] == "delete"]
    assert [m["data"] for m in deletes] == [[f"{otu['id']}.1"]]
