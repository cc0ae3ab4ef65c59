"""/3/inbox and /3/voucherfileconnections: a document uploaded, then attached to a voucher.

  POST /3/inbox[?path=inbox_v]      multipart/form-data with a part named "file" -> 201 {"File": {...}}
  GET  /3/inbox                     the root folder: {"Folder": {"Files": [...], ...}}
  POST /3/voucherfileconnections    {"VoucherFileConnection": {FileId, VoucherSeries, VoucherNumber,
                                    VoucherYear}} -> 201; VoucherYear is the financial year's Id
                                    (?financialyear= or today's year when left out)
  GET  /3/voucherfileconnections[/{FileId}], DELETE /3/voucherfileconnections/{FileId}

The spec's upload is multipart/form-data only (fortnox_Folder_FileRow back); the simulator keeps the
name and the bytes (/_sim/vouchers shows them). A file is connected to one voucher at a time.
Integrators disagree on whether Fortnox accepts VoucherYear in the body or only ?financialyear=; the
simulator takes either. Folders, the archive and downloading a file are not simulated.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Final

from .journal import Journal
from .listing import page, positive
from .replies import Response, _bad
from .resource import Call, Resource, routes
from .validation import Field, FieldChecker, media_type
from .voucher_fields import required
from .years import current_or_requested

__all__ = ["INBOX", "VOUCHER_FILE_CONNECTIONS", "Inbox", "render_files"]

_MAX_FILE_BYTES: Final = 10 * 1024 * 1024
_CONNECTION_FIELDS: Final = {
    "FileId": Field("str"),
    "VoucherNumber": Field("int", minimum=1),  # a string in the spec; numbers are accepted too
    "VoucherSeries": Field("str", max_len=10),
    "VoucherYear": Field("int", minimum=1),
}
_CONNECTION_READ_ONLY: Final = frozenset({"@url", "VoucherDescription"})


@dataclass
class Inbox:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # Id -> file, "_content" its bytes
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)  # FileId -> connection


def _file_row(file: dict[str, Any], base_url: str) -> dict[str, Any]:
    return {
        "@url": f"{base_url}/inbox/{file['Id']}",
        **{k: v for k, v in file.items() if not k.startswith("_")},
    }


def _uploaded(content_type: str | None, body: bytes) -> tuple[str, bytes]:
    """The name and bytes of the part named "file" of a multipart/form-data body."""
    if media_type(content_type) != "multipart/form-data" or content_type is None:
        raise _bad("invalid_content_type", "Upload the file as multipart/form-data")
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(EmailMessage, policy=policy.HTTP).parsebytes(head + body)
    for part in message.iter_parts() if message.is_multipart() else ():
        if part.get_param("name", header="content-disposition") == "file":
            content = part.get_payload(decode=True)
            if isinstance(content, bytes):
                return part.get_filename() or "file", content
    raise _bad("required_field", 'The upload has no part named "file"')


def _upload(call: Call) -> Response:
    name, content = _uploaded(call.content_type, call.body)
    if len(content) > _MAX_FILE_BYTES:
        raise _bad("too_long", f"The file is larger than {_MAX_FILE_BYTES} bytes")
    inbox = call.part(Inbox)
    # Fortnox's file Ids are UUIDs; counting keeps a run's Ids the same from one run to the next.
    file_id = str(uuid.UUID(int=len(inbox.files) + 1, version=4))
    file = {
        "Id": file_id,
        "ArchiveFileId": file_id,
        "Comments": "",
        "Name": name,
        "Path": call.param("path") or "inbox_v",
        "Size": len(content),
        "_content": content,
    }
    inbox.files[file_id] = file
    return Response(201, {"File": _file_row(file, call.base_url)})


def _folder(call: Call) -> Response:
    files = [_file_row(f, call.base_url) for f in call.part(Inbox).files.values()]
    folder = {
        "@url": f"{call.base_url}/inbox",
        "Email": "",
        "Files": files,
        "Folders": [],
        "Id": "root",
        "Name": "Inbox",
    }
    return Response(200, {"Folder": folder})


def _connect(call: Call) -> Response:
    checker = FieldChecker()
    wrapper = "VoucherFileConnection"
    fields = checker.body(call.content_type, call.body, wrapper, _CONNECTION_FIELDS, _CONNECTION_READ_ONLY)
    file_id, series = required(fields, "FileId"), required(fields, "VoucherSeries")
    number = required(fields, "VoucherNumber")
    inbox = call.part(Inbox)
    if file_id not in inbox.files:
        raise _bad("file_not_found", f"File {file_id} is not in the inbox")
    if file_id in inbox.connections:
        raise _bad("file_already_connected", f"File {file_id} is already connected to a voucher")
    year_id = fields.get("VoucherYear") or current_or_requested(call).id
    voucher = call.part(Journal).find(year_id, series, number)
    if voucher is None:
        raise _bad("voucher_not_found", f"Voucher {series}{number} not found in financial year {year_id}")
    inbox.connections[file_id] = {
        "FileId": file_id,
        "VoucherDescription": voucher["Description"],
        "VoucherNumber": str(number),
        "VoucherSeries": series,
        "VoucherYear": year_id,
    }
    return Response(201, {wrapper: _connection(inbox.connections[file_id], call.base_url)})


def _connection(connection: dict[str, Any], base_url: str) -> dict[str, Any]:
    return {"@url": f"{base_url}/voucherfileconnections/{connection['FileId']}", **connection}


def _connections(call: Call) -> Response:
    limit = positive(call.query, "limit", 100, 500)
    page_number = positive(call.query, "page", 1, None)
    chunk, meta = page(list(call.part(Inbox).connections.values()), limit, page_number)
    items = [_connection(c, call.base_url) for c in chunk]
    return Response(200, {"VoucherFileConnections": items, "MetaInformation": meta})


def _found_connection(call: Call) -> dict[str, Any]:
    connection = call.part(Inbox).connections.get(call.number)
    if connection is None:
        raise _bad("file_not_found", f"File {call.number} is connected to no voucher", 404)
    return connection


def _read_connection(call: Call) -> Response:
    return Response(200, {"VoucherFileConnection": _connection(_found_connection(call), call.base_url)})


def _disconnect(call: Call) -> Response:
    del call.part(Inbox).connections[_found_connection(call)["FileId"]]
    return Response(204)


INBOX = Resource("inbox", routes(list=_folder, create=_upload))
VOUCHER_FILE_CONNECTIONS = Resource(
    "voucherfileconnections",
    routes(list=_connections, create=_connect, read=_read_connection, delete=_disconnect),
)


def render_files(inbox: Inbox, base_url: str) -> list[dict[str, Any]]:
    """For /_sim/vouchers: each file with its bytes (base64) and the voucher it is connected to."""
    return [
        {
            **_file_row(file, base_url),
            "ContentBase64": base64.b64encode(file["_content"]).decode("ascii"),
            "Connection": inbox.connections.get(file_id),
        }
        for file_id, file in inbox.files.items()
    ]
