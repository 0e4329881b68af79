"""File downloads for every API that serves files (uploads, sample reads, index and subtraction files)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from django.http import FileResponse, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.http import content_disposition_header
from rest_framework.request import Request

CHUNK = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def ranged_file_response(request: Request, path: Path, filename: str) -> HttpResponseBase:
    """Stream a file with Content-Length, honouring a single `Range: bytes=a-b` request."""
    size = path.stat().st_size
    match = _RANGE.match(request.META.get("HTTP_RANGE", ""))
    if not match or (not match.group(1) and not match.group(2)):
        whole = FileResponse(path.open("rb"), as_attachment=True, filename=filename)
        whole["Accept-Ranges"] = "bytes"
        return whole
    first, last = match.group(1), match.group(2)
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:
        start, end = max(0, size - int(last)), size - 1
    if start > end or start >= size:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused

    def chunks() -> Iterator[bytes]:
        with path.open("rb") as handle:
            handle.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                data = handle.read(min(CHUNK, remaining))
                if not data:
                    return
                remaining -= len(data)
                yield data

    response = StreamingHttpResponse(chunks(), status=206, content_type="application/octet-stream")
    response["Content-Length"] = str(end - start + 1)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    # Quoted and RFC 5987-encoded as FileResponse does, so a name with quotes or non-ASCII stays one header.
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
