"""GenBank autofill: a nucleotide record fetched from NCBI E-utilities (`efetch`, GenBank flat file) through the
shared HTTP client and read with Biopython, as Virtool's `GET /genbank/{accession}` does.

- the accession must look like one (letters, digits and `_`, an optional `.version`; or a GI number) before NCBI
  is asked: otherwise a 400 naming the field;
- NCBI refusing the id (HTTP 400 "Failed to retrieve sequence" or "Failed to understand id", or an empty answer) is a
  404; NCBI refusing the request otherwise (403: a blocked instance) is a 502;
- NCBI unreachable, silent, or answering 429/5xx after the client's retries, and an answer that is not one readable
  GenBank record, are a 502 whose message says what happened.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from typing import TypedDict

import requests
from Bio import BiopythonParserWarning, SeqIO
from django.conf import settings

from core.errors import BadGateway, BadRequest, NotFound
from core.http import http_session

logger = logging.getLogger(__name__)

TOOL = "virtool"
# (connect, read) seconds: someone is waiting in the sequence form, and the client retries three times.
TIMEOUT = (5.0, 20.0)
# Seconds before the client's second retry (doubling after), on a 429/5xx or a lost connection.
RETRY_BACKOFF = 0.5
# The largest answer read: a record of the longest sequence an OTU takes (1 Mnt) is about 1.3 MB as a flat file.
MAX_BYTES = 16 * 1024 * 1024
# GenBank, EMBL, DDBJ and RefSeq accessions (`AY310445`, `NC_005267.1`, WGS `AAAA01000001`), or a GI number; at
# most 28 characters. The API schema gives the same pattern.
ACCESSION_PATTERN = r"^(?:[A-Za-z]{1,6}_?[A-Za-z]{0,4}[0-9]{1,12}(?:\.[0-9]{1,4})?|[0-9]{1,15})$"
ACCESSION = re.compile(ACCESSION_PATTERN)
# NCBI's words when it knows no record by that id (kblin/ncbi-entrez-error-messages); any other error text is NCBI's
# own failure.
NOT_FOUND_TEXTS = ("failedtoretrievesequence", "failedtounderstandid", "cannotprocessidlist", "idlistisempty")


class GenBankRecord(TypedDict):
    """What the sequence form is filled with: Virtool's `{accession, definition, host, sequence}`."""

    accession: str
    definition: str
    host: str
    sequence: str


def _unreachable(reason: str) -> BadGateway:
    return BadGateway(f"Could not reach NCBI: {reason}. Try again later.")


def _reason(error: requests.RequestException) -> str:
    """What went wrong, in a few words, without urllib3's wrapping."""
    text = str(error)
    lowered = text.lower()
    # After the retries a time-out reaches us as a ConnectionError (urllib3's MaxRetryError), so read the text too.
    if isinstance(error, requests.ConnectTimeout) or "connecttimeout" in lowered.replace(" ", ""):
        return f"no connection within {TIMEOUT[0]:g} seconds"
    if isinstance(error, requests.Timeout) or "timed out" in lowered:
        return f"no answer within {TIMEOUT[1]:g} seconds"
    if "refused" in lowered:
        return "connection refused"
    if "reset" in lowered or "aborted" in lowered or "remotedisconnected" in lowered.replace(" ", ""):
        return "the connection was closed without an answer"
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    return match.group(1).strip().lower() if match else "the connection failed"


def _normalised(text: str) -> str:
    # NCBI sometimes spaces out the letters of its messages or sends '+' for spaces.
    return re.sub(r"[\s+]", "", text).lower()


def _is_not_found(text: str) -> bool:
    squeezed = _normalised(text)
    return any(phrase in squeezed for phrase in NOT_FOUND_TEXTS)


def _download(accession: str) -> tuple[int, str]:
    params = {"db": "nuccore", "id": accession, "rettype": "gb", "retmode": "text", "tool": TOOL}
    if settings.VIRTOOL_NCBI_EMAIL:
        params["email"] = settings.VIRTOOL_NCBI_EMAIL
    url = f"{settings.VIRTOOL_NCBI_EUTILS_URL.rstrip('/')}/efetch.fcgi"
    with http_session(backoff=RETRY_BACKOFF) as session:
        try:
            with session.get(url, params=params, timeout=TIMEOUT, stream=True) as response:
                body = bytearray()
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise BadGateway(f"NCBI's record for {accession} is larger than {MAX_BYTES} bytes")
                status = response.status_code
                reason = response.reason or ""
        except requests.RequestException as error:
            raise _unreachable(_reason(error)) from error
    text = body.decode("utf-8", errors="replace")
    if status == 429 or status >= 500:
        raise _unreachable(f"NCBI answered HTTP {status} {reason}".strip())
    return status, text


def _parse(accession: str, text: str) -> GenBankRecord:
    unreadable = f"NCBI's answer for {accession} is not a GenBank record that can be read"
    try:
        with warnings.catch_warnings(record=True) as caught:
            # Biopython reads past small flaws (it warns); a record it cannot read at all raises.
            warnings.simplefilter("always", BiopythonParserWarning)
            record = SeqIO.read(io.StringIO(text), "genbank")
        sequence = str(record.seq).upper()
    except Exception as error:  # ValueError, AssertionError, IndexError...: whatever broken input makes it raise
        logger.warning("unreadable GenBank record for %s: %s", accession, error)
        raise BadGateway(unreadable) from error
    # A record cut short still parses, with a part of its sequence: never fill the form with that.
    flaws = [str(w.message) for w in caught if issubclass(w.category, BiopythonParserWarning)]
    if any("Premature end" in flaw or "Expected sequence length" in flaw for flaw in flaws):
        logger.warning("incomplete GenBank record for %s: %s", accession, "; ".join(flaws))
        raise BadGateway(f"NCBI's record for {accession} was cut short: try again")
    if not sequence:
        raise BadGateway(f"NCBI's record for {accession} holds no sequence")
    host = ""
    for feature in record.features:
        if feature.type == "source":
            host = (feature.qualifiers.get("host") or [""])[0]
            break
    return {"accession": record.id, "definition": record.description, "host": host, "sequence": sequence}


def genbank_fetch(*, accession: str) -> GenBankRecord:
    """The NCBI nuccore record of `accession`, as the sequence form is filled with it."""
    if not ACCESSION.fullmatch(accession):
        message = (
            "accession is not a GenBank accession: letters, digits and '_' with an optional '.version' "
            "(e.g. NC_005267.1), or a GI number"
        )
        raise BadRequest(message, errors=[{"loc": ["accession"], "msg": message}])
    status, text = _download(accession)
    if status in (400, 404) or (status == 200 and not text.strip()):
        # NCBI's answer to an id it has no record of (Virtool, too, takes any refusal for "not found").
        if status != 200 and not _is_not_found(text):
            logger.warning("unexpected GenBank answer for %s: HTTP %s %s", accession, status, text[:200])
        raise NotFound("Accession not found")
    if status != 200:  # 401/403 (an instance NCBI blocks), a redirect loop...: NCBI's doing, not the accession's
        logger.warning("GenBank refused %s: HTTP %s %s", accession, status, text[:200])
        raise BadGateway(f"NCBI refused the request for {accession} (HTTP {status})")
    if not text.lstrip().startswith("LOCUS"):
        if _is_not_found(text[:1000]):  # NCBI's error text in a 200 answer
            raise NotFound("Accession not found")
        raise BadGateway(f"NCBI's answer for {accession} is not a GenBank record that can be read")
    return _parse(accession, text)
