"""Text out of uploads: plain text, HTML, .docx (tables too) and .pdf; broken files and zip
bombs get a Dutch reason, never a crash."""

from __future__ import annotations

import io
import zipfile

import pytest

from service.documents import DocumentError, extract_text

LIMIT = 5 * 1024 * 1024


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("Wij zoeken een stagiair (m/v/x).")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Leeftijd"
    table.rows[0].cells[1].text = "max. 22 jaar"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(text: str) -> bytes:
    """A one-page PDF with `text` in Helvetica, with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_plain_text_in_utf8_or_windows_1252() -> None:
    assert extract_text("v.txt", "Één stagiair".encode(), LIMIT).text == "Één stagiair"
    assert extract_text("v.txt", "café".encode("cp1252"), LIMIT).text == "café"
    bom = extract_text("v.TXT", b"\xef\xbb\xbfHallo", LIMIT)
    assert bom.text == "Hallo" and bom.content_type == "text/plain"


def test_html_is_left_to_the_analyzer_as_html() -> None:
    got = extract_text("v.html", b"<p>Stagiair <b>gezocht</b></p>", LIMIT)
    assert got.content_type == "text/html" and "<b>" in got.text


def test_docx_paragraphs_and_tables() -> None:
    got = extract_text("vacature.docx", docx_bytes(), LIMIT)
    assert "Wij zoeken een stagiair (m/v/x)." in got.text
    assert "Leeftijd\tmax. 22 jaar" in got.text
    assert got.kind == "docx"


def test_pdf_text() -> None:
    got = extract_text("vacature.pdf", pdf_bytes("Wij zoeken een jonge stagiair"), LIMIT)
    assert "jonge stagiair" in got.text


def zip_with(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("leeg.txt", b"", "leeg.txt is leeg."),
        ("binair.txt", b"abc\x00def", "binaire gegevens"),
        ("foto.jpg", b"\xff\xd8\xff", "bestandstype"),
        ("kapot.docx", b"PK\x03\x04 geen zip", "geen geldig Word-bestand"),
        ("zip.docx", zip_with({"iets.txt": b"hallo"}), "geen geldig Word-bestand"),
        (
            "rommel.docx",
            zip_with({"word/document.xml": b"<niet-af", "[Content_Types].xml": b"<x/>"}),
            "geen geldig Word-bestand",
        ),
        ("bom.docx", zip_with({"word/document.xml": b"0" * (8 * 1024 * 1024)}), "zip-bom"),
        ("kapot.pdf", b"%PDF-1.4\n dit is geen pdf", "geen geldige pdf"),
        ("nep.pdf", b"GIF89a", "geen geldige pdf"),
        ("leeg.pdf", pdf_bytes(""), "geen tekst"),
    ],
)
def test_bad_files_get_a_dutch_reason(name: str, data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        extract_text(name, data, LIMIT)


def test_the_size_limit() -> None:
    with pytest.raises(DocumentError, match=r"het maximum is 1 kB"):
        extract_text("groot.txt", b"a" * 2048, 1024)


def test_a_bomb_is_refused_without_unpacking_it(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = zip_with({"word/document.xml": b"0" * (60 * 1024 * 1024)})
    assert len(bomb) < 200_000

    def no_reading(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("the bomb was unpacked")

    monkeypatch.setattr(zipfile.ZipFile, "read", no_reading)
    with pytest.raises(DocumentError, match="zip-bom"):
        extract_text("bom.docx", bomb, LIMIT)
