"""The simulator's inbox and voucher file connections over real HTTP: a document uploaded, attached to
a voucher, listed, detached, and what is refused."""

from __future__ import annotations

import base64
from typing import Any

import requests

from fortnox_sim import FortnoxSimulator
from tests.integration.simulator_api import TENANT
from tests.integration.simulator_books import Y2024, BooksApi, error


def _upload(books: BooksApi, content: bytes, name: str = "po_1.csv") -> requests.Response:
    return books.call(
        "POST", "/inbox", files={"file": (name, content, "text/csv")}, params={"path": "inbox_v"}
    )


def test_a_file_is_uploaded_and_connected_to_a_voucher(sim: FortnoxSimulator, books: BooksApi) -> None:
    books.voucher()
    content = b"id,amount\r\nch_1,100.00\r\n\x00\xff\xfe binary tail"
    uploaded = _upload(books, content)
    assert uploaded.status_code == 201, uploaded.text
    file = uploaded.json()["File"]
    assert (file["Name"], file["Size"], file["Path"]) == ("po_1.csv", len(content), "inbox_v")
    assert books.call("GET", "/inbox").json()["Folder"]["Files"] == [file]

    body = {"FileId": file["Id"], "VoucherSeries": "A", "VoucherNumber": "1", "VoucherYear": Y2024}
    connected = books.call("POST", "/voucherfileconnections", json={"VoucherFileConnection": body})
    assert connected.status_code == 201, connected.text
    connection = connected.json()["VoucherFileConnection"]
    assert connection == {
        "@url": f"{sim.api_url}/voucherfileconnections/{file['Id']}",
        "FileId": file["Id"],
        "VoucherDescription": "Stripe payout po_1",
        "VoucherNumber": "1",
        "VoucherSeries": "A",
        "VoucherYear": Y2024,
    }
    error(
        books.call("POST", "/voucherfileconnections", json={"VoucherFileConnection": body}),
        400,
        "file_already_connected",
    )
    listed = books.call("GET", "/voucherfileconnections").json()
    assert (
        listed["VoucherFileConnections"] == [connection] and listed["MetaInformation"]["@TotalResources"] == 1
    )
    assert (
        books.call("GET", f"/voucherfileconnections/{file['Id']}").json()["VoucherFileConnection"]
        == connection
    )

    inspected = requests.get(sim.base_url + "/_sim/vouchers", params={"tenant": TENANT}, timeout=5).json()
    (stored,) = inspected["tenants"][TENANT]["files"]
    assert base64.b64decode(stored["ContentBase64"]) == content
    assert stored["Connection"]["VoucherNumber"] == "1"
    assert inspected["tenants"][TENANT]["vouchers"][0]["VoucherRows"][2]["Account"] == 1580

    assert books.call("DELETE", f"/voucherfileconnections/{file['Id']}").status_code == 204
    error(books.call("GET", f"/voucherfileconnections/{file['Id']}"), 404, "file_not_found")
    # The year can be named by ?financialyear instead of VoucherYear; the number as a number.
    again = {"FileId": file["Id"], "VoucherSeries": "A", "VoucherNumber": 1}
    reconnected = books.call(
        "POST",
        "/voucherfileconnections",
        json={"VoucherFileConnection": again},
        params={"financialyear": Y2024},
    )
    assert reconnected.status_code == 201, reconnected.text
    assert sim.stats()["inbox_files"] == 1


def test_uploads_and_connections_are_checked(books: BooksApi) -> None:
    books.voucher()
    error(books.call("POST", "/inbox", json={"file": "x"}), 400, "invalid_content_type")
    error(books.call("POST", "/inbox", files={"attachment": ("a.txt", b"x")}), 400, "required_field")
    file_id = _upload(books, b"x").json()["File"]["Id"]

    def connect(**fields: Any) -> requests.Response:
        body = {"FileId": file_id, "VoucherSeries": "A", "VoucherNumber": 1, "VoucherYear": Y2024, **fields}
        return books.call("POST", "/voucherfileconnections", json={"VoucherFileConnection": body})

    error(connect(FileId="00000000-0000-4000-8000-00000000ffff"), 400, "file_not_found")
    error(connect(VoucherNumber=2), 400, "voucher_not_found")
    error(connect(VoucherYear=Y2024 + 1), 400, "voucher_not_found")
    error(connect(VoucherSeries=""), 400, "required_field")
    error(connect(VoucherNumber="one"), 400, "wrong_type")
    # Without a year, today's year is meant: A 1 is not there.
    no_year = {"FileId": file_id, "VoucherSeries": "A", "VoucherNumber": 1}
    error(
        books.call("POST", "/voucherfileconnections", json={"VoucherFileConnection": no_year}),
        400,
        "voucher_not_found",
    )
    assert connect().status_code == 201
