"""GET /api/genbank/{accession} against a recorded NCBI E-utilities on 127.0.0.1: the record as Virtool gives it,
unknown accessions, NCBI failing or out of reach, broken answers, and accessions refused before NCBI is asked."""

from __future__ import annotations

import pytest

from otus.genbank import ACCESSION_PATTERN
from tests.conftest import client_for, free_port
from tests.otus.eutils_server import RECORDED, FakeEUtils, demo_sequence, eutils  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ncbi(settings, eutils, mocker):  # noqa: F811
    """The recorded E-utilities, and retries that do not wait long."""
    settings.VIRTOOL_NCBI_EUTILS_URL = eutils.url
    settings.VIRTOOL_NCBI_EMAIL = ""
    mocker.patch("otus.genbank.RETRY_BACKOFF", 0.01)
    return eutils


@pytest.fixture
def client(make_user):
    return client_for(make_user("curator"))


def unreachable(reason: str) -> dict:
    return {"id": "bad_gateway", "message": f"Could not reach NCBI: {reason}. Try again later."}


def test_genbank_gives_the_record_as_virtool_does(client, ncbi: FakeEUtils, settings):
    settings.VIRTOOL_NCBI_EMAIL = "lab@example.org"
    response = client.get("/api/genbank/NC_005267")
    assert response.status_code == 200, response.content
    reference = demo_sequence("NC_005267")
    assert response.json() == {
        "accession": "NC_005267.1",
        "definition": reference["definition"],
        "host": reference["host"],
        "sequence": reference["sequence"],
    }
    [(path, params)] = ncbi.requests
    assert path == "/entrez/eutils/efetch.fcgi"
    assert params == {
        "db": "nuccore",
        "id": "NC_005267",
        "rettype": "gb",
        "retmode": "text",
        "tool": "virtool",
        "email": "lab@example.org",
    }


def test_genbank_sends_no_email_when_none_is_set(client, ncbi: FakeEUtils):
    assert client.get("/api/genbank/NC_005267.1").status_code == 200
    [(_, params)] = ncbi.requests
    assert params["id"] == "NC_005267.1"
    assert "email" not in params


def recorded_as(tmp_path, mocker, text: str) -> None:
    """The fake answers `text` where it would answer the NC_005267 recording."""
    (tmp_path / "NC_005267.gb").write_text(text)
    mocker.patch("tests.otus.eutils_server.RECORDED", tmp_path)


def test_genbank_host_is_empty_without_a_host_qualifier(client, ncbi: FakeEUtils, tmp_path, mocker):
    text = (RECORDED / "NC_005267.gb").read_text()
    recorded_as(tmp_path, mocker, text.replace('                     /host="grapevine"\n', ""))
    response = client.get("/api/genbank/NC_005267")
    assert response.status_code == 200
    assert response.json()["host"] == ""
    assert response.json()["sequence"] == demo_sequence("NC_005267")["sequence"]


@pytest.mark.parametrize(
    "answer",
    [(400, "failed_to_retrieve.txt"), (400, "failed_to_understand_id.txt"), (200, "empty.txt")],
    ids=["failed-to-retrieve", "failed-to-understand-id", "empty"],
)
def test_genbank_unknown_accession_is_404(client, ncbi: FakeEUtils, answer):
    ncbi.unknown = answer
    response = client.get("/api/genbank/XX000000")
    assert response.status_code == 404
    assert response.json() == {"id": "not_found", "message": "Accession not found"}
    assert [params["id"] for _, params in ncbi.requests] == ["XX000000"]


def test_genbank_ncbi_refusing_the_instance_is_502(client, ncbi: FakeEUtils):
    ncbi.script("NC_005267", (403, "empty.txt"))
    response = client.get("/api/genbank/NC_005267")
    assert response.status_code == 502
    assert response.json() == {"id": "bad_gateway", "message": "NCBI refused the request for NC_005267 (HTTP 403)"}


def test_genbank_502_then_success_is_retried_by_the_client(client, ncbi: FakeEUtils):
    ncbi.script("NC_005267", (502, "bad_gateway.html"), (200, "NC_005267.gb"))
    response = client.get("/api/genbank/NC_005267")
    assert response.status_code == 200
    assert response.json()["accession"] == "NC_005267.1"
    assert len(ncbi.requests) == 2


def test_genbank_ncbi_failing_after_the_retries_is_502(client, ncbi: FakeEUtils):
    ncbi.script("NC_005267", (502, "bad_gateway.html"))
    response = client.get("/api/genbank/NC_005267")
    assert response.status_code == 502
    assert response.json() == unreachable("NCBI answered HTTP 502 Bad Gateway")
    assert len(ncbi.requests) == 4  # the request and the client's three retries


def test_genbank_dropped_connection_is_502(client, ncbi: FakeEUtils):
    ncbi.script("NC_005267", "drop")
    response = client.get("/api/genbank/NC_005267")
    assert response.status_code == 502
    assert response.json() == unreachable("the connection was closed without an answer")
    assert len(ncbi.requests) == 4


def test_genbank_dropped_once_then_answered(client, ncbi: FakeEUtils):
    ncbi.script("NC_005267", "drop", (200, "NC_005267.gb"))
    response = client.get("/api/genbank/NC_005267")
    assert response.status_code == 200
    assert len(response.json()["sequence"]) == 3914


def test_genbank_unreachable_ncbi_is_502(client, settings, mocker):
    settings.VIRTOOL_NCBI_EUTILS_URL = f"http://127.0.0.1:{free_port()}/entrez/eutils"
    mocker.patch("otus.genbank.RETRY_BACKOFF", 0.01)
    response = client.get("/api/genbank/NC_005267")
    assert response.status_code == 502
    assert response.json() == unreachable("connection refused")


def test_genbank_silent_ncbi_is_502(client, ncbi: FakeEUtils, mocker):
    mocker.patch("otus.genbank.TIMEOUT", (2.0, 0.2))
    ncbi.script("NC_005267", ("slow", 1.0))
    response = client.get("/api/genbank/NC_005267")
    assert response.status_code == 502
    assert response.json() == unreachable("no answer within 0.2 seconds")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("truncated.gb", "NCBI's record for NC_005267 was cut short: try again"),
        ("error_reading.txt", "NCBI's answer for NC_005267 is not a GenBank record that can be read"),
        ("bad_gateway.html", "NCBI's answer for NC_005267 is not a GenBank record that can be read"),
    ],
)
def test_genbank_unreadable_answer_is_502(client, ncbi: FakeEUtils, name, message):
    ncbi.script("NC_005267", (200, name))
    response = client.get("/api/genbank/NC_005267")
    assert response.status_code == 502
    assert response.json() == {"id": "bad_gateway", "message": message}


def test_genbank_record_without_a_sequence_is_502(client, ncbi: FakeEUtils, tmp_path, mocker):
    text = (RECORDED / "NC_005267.gb").read_text()
    # A LOCUS of 0 bp, no features and an empty ORIGIN: Biopython reads it, but there is nothing to fill in.
    head = text.split("FEATURES", 1)[0].replace("3914 bp", "0 bp").replace("(bases 1 to 3914)", "(bases 1 to 0)")
    recorded_as(tmp_path, mocker, f"{head}FEATURES             Location/Qualifiers\nORIGIN      \n//\n")
    response = client.get("/api/genbank/NC_005267")
    assert response.status_code == 502
    assert response.json() == {"id": "bad_gateway", "message": "NCBI's record for NC_005267 holds no sequence"}


IMPLAUSIBLE = ["NC%20005267", "ABC-123", "NC_005267.1.2", "%3Cb%3E", "A" * 31, "NC_005267;rm", "1" * 16, "NC_005267%0A"]


@pytest.mark.parametrize("accession", IMPLAUSIBLE)
def test_genbank_implausible_accession_is_400_without_asking_ncbi(client, ncbi: FakeEUtils, accession):
    response = client.get(f"/api/genbank/{accession}")
    assert response.status_code == 400
    body = response.json()
    assert body["id"] == "bad_request"
    assert body["message"].startswith("accession is not a GenBank accession")
    assert body["errors"] == [{"loc": ["accession"], "msg": body["message"]}]
    assert ncbi.requests == []


@pytest.mark.parametrize("accession", ["AY310445", "NC_003615.1", "KX838924.1", "NZ_AGVD00000000", "AAAA01000001"])
def test_genbank_plausible_accessions_are_asked_for(client, ncbi: FakeEUtils, accession):
    assert client.get(f"/api/genbank/{accession}").status_code == 404  # the recording knows only NC_005267
    assert [params["id"] for _, params in ncbi.requests] == [accession]


def test_genbank_needs_a_signed_in_user(anon_client, ncbi: FakeEUtils):
    response = anon_client.get("/api/genbank/NC_005267")
    assert response.status_code == 401
    assert response.json() == {"id": "unauthorized", "message": "Requires authorization"}
    assert ncbi.requests == []


def test_genbank_schema_documents_its_answers(admin_client):
    schema = admin_client.get("/api/schema?format=json").json()
    operation = schema["paths"]["/api/genbank/{accession}"]["get"]
    assert set(operation["responses"]) == {"200", "400", "401", "404", "502"}
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][body]["properties"]) == {"accession", "definition", "host", "sequence"}
    assert operation["responses"]["502"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    [parameter] = operation["parameters"]
    assert parameter["name"] == "accession"
    assert parameter["schema"]["pattern"] == ACCESSION_PATTERN
