"""Reading uploaded batch files: CSV, XLSX, JSONL; Dutch errors for files that cannot be used."""

from __future__ import annotations

import io
import json

import pytest

from service.uploads import MAX_UPLOAD_BYTES, UploadError, parse_upload, upload_format


def xlsx(rows: list[list[object]]) -> bytes:
    """A workbook with one sheet holding `rows`."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_csv_with_comma_and_kinds() -> None:
    data = (
        b'id,text,kind\nv1,"Wij zoeken een stagiair, max. 22 jaar.",vacancy\nv2,Helaas.,afwijzing\n'
    )
    items = parse_upload(data, "vacatures.csv")
    assert [(i.row, i.id, i.kind) for i in items] == [(1, "v1", "vacancy"), (2, "v2", "rejection")]
    assert items[0].text == "Wij zoeken een stagiair, max. 22 jaar."
    assert all(i.error is None for i in items)


def test_csv_from_dutch_excel_semicolons_and_bom() -> None:
    data = "\ufeffID;Tekst\n1;Jong team zoekt stagiair\n\n2;Wij zoeken een kok\n".encode()
    items = parse_upload(data, "export.csv")
    assert [(i.id, i.kind, i.text) for i in items] == [
        ("1", "vacancy", "Jong team zoekt stagiair"),
        ("2", "vacancy", "Wij zoeken een kok"),
    ]


def test_missing_column_is_named_in_dutch() -> None:
    with pytest.raises(UploadError, match=r"kolom 'text' ontbreekt.*gevonden: id, omschrijving"):
        parse_upload(b"id,omschrijving\n1,x\n", "a.csv")
    with pytest.raises(UploadError, match="'id' en 'text'"):
        parse_upload(b"naam\nx\n", "a.csv")


def test_bad_files_get_a_dutch_reason() -> None:
    with pytest.raises(UploadError, match="leeg"):
        parse_upload(b"  \n", "a.csv")
    with pytest.raises(UploadError, match="geen rijen"):
        parse_upload(b"id,text\n", "a.csv")
    with pytest.raises(UploadError, match="niet in UTF-8"):
        parse_upload("id,text\n1,café\n".encode("latin-1"), "a.csv")
    with pytest.raises(UploadError, match=r"\.xls\)"):
        parse_upload(b"\xd0\xcf\x11\xe0", "oud.xls")
    with pytest.raises(UploadError, match="geen geldig Excel"):
        parse_upload(b"PK\x03\x04 not really a zip", "a.xlsx")
    with pytest.raises(UploadError, match="niet ondersteund"):
        parse_upload(b"%PDF-1.7", "vacature.pdf")
    with pytest.raises(UploadError, match="groter dan 5 MB"):
        parse_upload(b"x" * (MAX_UPLOAD_BYTES + 1), "a.csv")


def test_too_many_rows() -> None:
    data = "id,text\n" + "".join(f"{n},tekst {n}\n" for n in range(11))
    assert len(parse_upload(data.encode(), "a.csv", max_rows=11)) == 11
    with pytest.raises(UploadError, match="meer dan 10 rijen"):
        parse_upload(data.encode(), "a.csv", max_rows=10)


def test_bad_rows_are_kept_with_an_error_not_skipped() -> None:
    data = b"id,text,kind\n1,,vacancy\n2,Goede tekst,stage\n3,Nog een tekst,\n"
    items = parse_upload(data, "a.csv")
    assert [i.error for i in items] == [
        "de tekst is leeg",
        "onbekende soort 'stage'; gebruik vacancy of rejection",
        None,
    ]
    assert items[1].text == ""
    long_text = parse_upload(b"id,text\n1," + b"a" * 50 + b"\n", "a.csv", max_text_chars=10)
    assert long_text[0].error == "de tekst is 50 tekens lang; de grens is 10"


def test_xlsx_first_sheet_numbers_as_written() -> None:
    data = xlsx(
        [
            ["id", "text", "kind"],
            [1, "Max. 25 jaar", None],
            [None, None, None],
            [2.0, "Kok", "rejection"],
        ]
    )
    items = parse_upload(data, "vacatures.xlsx")
    assert [(i.row, i.id, i.kind, i.text) for i in items] == [
        (1, "1", "vacancy", "Max. 25 jaar"),
        (3, "2", "rejection", "Kok"),
    ]
    with pytest.raises(UploadError, match="kolom 'text'"):
        parse_upload(xlsx([["id", "body"], [1, "x"]]), "a.xlsx")


def test_jsonl_lines_and_line_errors() -> None:
    lines = [
        json.dumps({"id": "a", "text": "Wij zoeken een jonge stagiair"}),
        "",
        "{not json",
        json.dumps({"id": "c"}),
        json.dumps({"id": 4, "text": "Helaas", "kind": "rejection"}),
    ]
    items = parse_upload("\n".join(lines).encode(), "x.jsonl")
    assert [(i.id, i.kind, i.error is None) for i in items] == [
        ("a", "vacancy", True),
        (None, "vacancy", False),
        ("c", "vacancy", False),
        ("4", "rejection", True),
    ]
    assert items[1].error is not None and "geen geldige JSON" in items[1].error


def test_format_is_sniffed_without_an_extension() -> None:
    assert upload_format("", b"PK\x03\x04") == "xlsx"
    assert upload_format("upload", b' {"id"') == "jsonl"
    assert upload_format("", b"id,text") == "csv"
