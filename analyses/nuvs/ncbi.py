"""NCBI's BLAST URL API (`settings.VIRTOOL_BLAST_URL`), as Virtool uses it, through the one shared HTTP client.

- submit: `CMD=Put` with Virtool's parameters and the contig as `QUERY`; the answer's `QBlastInfo` block gives the
  request id (RID) and NCBI's estimate of the seconds it needs (RTOE);
- status: `CMD=Get&FORMAT_OBJECT=SearchInfo&RID=…` → `Status=WAITING|READY|FAILED|UNKNOWN`, `ThereAreHits=yes|no`;
- result: `CMD=Get&FORMAT_TYPE=JSON2_S&RID=…` (one JSON document; a zipped JSON2 answer is read too), formatted as
  Virtool's `format_blast_content` does.

Failures that may pass (no connection, a time-out, HTTP 429 or 5xx) raise `NCBIUnavailable`; an answer that makes no
sense raises `NCBIError`.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from analyses.constants import BLAST_PUT_PARAMS
from core.http import http_session

# (connect, read) seconds: NCBI answers a Put only once it has queued the search.
TIMEOUT = (10.0, 60.0)
_INFO = re.compile(r"QBlastInfoBegin(.*?)QBlastInfoEnd", re.DOTALL)
_FIELD = re.compile(r"^\s*(\w+)\s*=\s*(.*?)\s*$", re.MULTILINE)


class NCBIError(Exception):
    """NCBI answered something that cannot be used."""


class NCBIUnavailable(NCBIError):
    """NCBI could not be reached or is overloaded for now; asking again later may work."""


@dataclass(frozen=True)
class SearchInfo:
    """Where a search is: `status` WAITING, READY, FAILED or UNKNOWN, and whether it found anything."""

    status: str
    there_are_hits: bool


def _get(params: dict[str, str], *, data: dict[str, str] | None = None) -> requests.Response:
    # No retries inside the client: the BLAST task retries with its own backoff, between two checks, so that a
    # worker never sleeps in a request.
    with http_session(retries=0) as session:
        try:
            if data is None:
                response = session.get(settings.VIRTOOL_BLAST_URL, params=params, timeout=TIMEOUT)
            else:
                response = session.post(settings.VIRTOOL_BLAST_URL, params=params, data=data, timeout=TIMEOUT)
        except requests.Timeout as error:
            raise NCBIUnavailable(f"no answer within {int(TIMEOUT[1])} seconds") from error
        except requests.ConnectionError as error:
            raise NCBIUnavailable(_reason(error)) from error
        except requests.RequestException as error:
            raise NCBIError(str(error)) from error
    if response.status_code == 429 or response.status_code >= 500:
        raise NCBIUnavailable(f"NCBI answered HTTP {response.status_code} {response.reason or ''}".strip())
    if response.status_code != 200:
        raise NCBIError(f"NCBI answered HTTP {response.status_code} {response.reason or ''}".strip())
    return response


def _reason(error: requests.ConnectionError) -> str:
    """What happened, in the operating system's words (refused, unknown host, reset), without urllib3's wrapping."""
    text = str(error)
    if "reset" in text.lower():
        return "the connection was reset"
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    return match.group(1).strip().lower() if match else "the connection failed"


def _info(text: str) -> dict[str, str]:
    """The `key=value` fields of every `QBlastInfo` block of an answer."""
    fields: dict[str, str] = {}
    for block in _INFO.findall(text):
        fields.update(dict(_FIELD.findall(block)))
    return fields


def blast_submit(*, sequence: str) -> tuple[str, int]:
    """Ask NCBI to BLAST `sequence`; NCBI's request id (RID) and its estimate of the seconds it needs (RTOE)."""
    params = dict(BLAST_PUT_PARAMS)
    answer = _get({"CMD": params.pop("CMD")}, data={**params, "QUERY": sequence})
    fields = _info(answer.text)
    rid = fields.get("RID", "")
    if not rid:
        raise NCBIError("NCBI accepted no search (its answer holds no request id)")
    try:
        rtoe = int(fields.get("RTOE", "0"))
    except ValueError:
        rtoe = 0
    return rid, rtoe


def blast_status(*, rid: str) -> SearchInfo:
    """Where the search `rid` is on NCBI."""
    fields = _info(_get({"CMD": "Get", "FORMAT_OBJECT": "SearchInfo", "RID": rid}).text)
    status = fields.get("Status", "").upper()
    if status not in {"WAITING", "READY", "FAILED", "UNKNOWN"}:
        raise NCBIError(f"NCBI gave no status for the search {rid}")
    return SearchInfo(status=status, there_are_hits=fields.get("ThereAreHits", "").lower() == "yes")


def blast_result(*, rid: str) -> dict[str, Any]:
    """The finished search `rid`, formatted as Virtool stores it."""
    answer = _get({"CMD": "Get", "FORMAT_TYPE": "JSON2_S", "RID": rid})
    return format_blast_content(_json(answer.content, rid), rid=rid)


def _json(content: bytes, rid: str) -> dict[str, Any]:
    try:
        if content[:2] == b"PK":  # a zipped JSON2 answer (`FORMAT_TYPE=JSON2`): the report is `<RID>_1.json`
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = [name for name in archive.namelist() if name.endswith("_1.json")] or archive.namelist()
                content = archive.read(names[0])
        data = json.loads(content)
    except (ValueError, zipfile.BadZipFile, IndexError, KeyError) as error:
        raise NCBIError(f"the result of the search {rid} is not BLAST JSON") from error
    if not isinstance(data, dict):
        raise NCBIError(f"the result of the search {rid} is not BLAST JSON")
    return data


def format_blast_content(raw: dict[str, Any], *, rid: str) -> dict[str, Any]:
    """NCBI's JSON2 report as Virtool keeps it: the search's program, parameters, target and statistics, its
    masking and one record per hit (best alignment)."""
    try:
        (output,) = raw["BlastOutput2"]
        report = output["report"]
        search = report["results"]["search"]
        return {
            "rid": rid,
            "program": report["program"],
            "params": report.get("params", {}),
            "version": report.get("version", ""),
            "target": report.get("search_target", {}),
            "stat": search.get("stat", {}),
            "masking": search.get("query_masking"),
            "hits": [_hit(hit) for hit in search.get("hits", [])],
        }
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise NCBIError(f"the result of the search {rid} is not the BLAST report expected") from error


def _hit(hit: dict[str, Any]) -> dict[str, Any]:
    description = hit["description"][0]
    hsp = hit["hsps"][0]
    return {
        "accession": description.get("accession", ""),
        "taxid": description.get("taxid", ""),
        "title": description.get("title", ""),
        "name": description.get("sciname", "No name"),
        **{key: hsp[key] for key in ("identity", "evalue", "align_len", "score", "bit_score")},
        "gaps": hsp.get("gaps", 0),
        "len": hit["len"],
    }
