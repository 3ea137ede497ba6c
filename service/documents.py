"""Text out of uploaded files: .txt, .html, .docx (python-docx) and .pdf (pypdf).

Every failure is a DocumentError with a Dutch message an officer can act on. Files are
checked before they are parsed: the size (STAGECHECK_MAX_UPLOAD_BYTES), and for .docx the
zip's directory, so a zip bomb (a small file that unpacks to gigabytes) is refused without
unpacking it. A PDF is read page by page up to a limit; one without a text layer (a scan)
is refused rather than analysed as empty.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

logger = logging.getLogger(__name__)

EXTENSIONS = {".txt": "text", ".html": "html", ".htm": "html", ".docx": "docx", ".pdf": "pdf"}
ACCEPT = ".txt,.html,.htm,.docx,.pdf"

# A real vacancy's .docx unpacks to well under a few MB; allow generous headroom.
DOCX_MAX_UNPACKED = 50 * 1024 * 1024
DOCX_MAX_RATIO = 200
DOCX_MAX_ENTRIES = 2_000
PDF_MAX_PAGES = 100


class DocumentError(ValueError):
    """A file whose text cannot be read; the message is Dutch and says what to do."""


@dataclass(frozen=True)
class ExtractedText:
    """The text of an upload, and how the analyzer should read it."""

    text: str
    content_type: str  # text/plain or text/html
    kind: str  # text, html, docx or pdf


def extract_text(filename: str, data: bytes, max_bytes: int) -> ExtractedText:
    """The text of an uploaded file; raise DocumentError with a Dutch reason."""
    name = PurePath(filename or "").name or "het bestand"
    if len(data) > max_bytes:
        raise DocumentError(
            f"{name} is {_size(len(data))}; het maximum is {_size(max_bytes)}. Plak de tekst "
            "liever in het tekstvak."
        )
    if not data:
        raise DocumentError(f"{name} is leeg.")
    kind = EXTENSIONS.get(PurePath(name).suffix.lower())
    if kind is None:
        raise DocumentError(
            f"{name} heeft een bestandstype dat Stagecheck niet leest. Kies een .txt-, .html-, "
            ".docx- of .pdf-bestand, of plak de tekst."
        )
    if kind == "text":
        return ExtractedText(_decode(data, name), "text/plain", kind)
    if kind == "html":
        return ExtractedText(_decode(data, name), "text/html", kind)
    if kind == "docx":
        return ExtractedText(_docx_text(data, name), "text/plain", kind)
    return ExtractedText(_pdf_text(data, name), "text/plain", kind)


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB".replace(".", ",")
    return f"{max(1, round(count / 1024))} kB"


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data:
        raise DocumentError(f"{name} is geen tekstbestand (het bevat binaire gegevens).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Windows tools still save as Windows-1252; it decodes almost anything, so
        # only after UTF-8 failed.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise DocumentError(
                f"{name} is geen leesbare tekst. Sla het op als UTF-8 of plak de tekst."
            ) from exc


def _docx_text(data: bytes, name: str) -> str:
    broken = DocumentError(
        f"{name} is geen geldig Word-bestand (.docx) of is beschadigd. Open het in Word en sla "
        "het opnieuw op, of plak de tekst."
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise broken from None
    with archive:
        entries = archive.infolist()
        if len(entries) > DOCX_MAX_ENTRIES:
            raise DocumentError(f"{name} bevat te veel onderdelen om veilig te openen.")
        unpacked = sum(entry.file_size for entry in entries)
        packed = max(1, sum(entry.compress_size for entry in entries))
        if unpacked > DOCX_MAX_UNPACKED or unpacked / packed > DOCX_MAX_RATIO:
            logger.warning("refused a .docx upload that would unpack to %d bytes", unpacked)
            raise DocumentError(
                f"{name} pakt uit tot {_size(unpacked)} en is daarom geweigerd (mogelijk een "
                "zip-bom). Plak de tekst in het tekstvak."
            )
        if "word/document.xml" not in archive.namelist():
            raise broken
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        parts: list[str] = [paragraph.text for paragraph in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                cells: list[str] = []
                for cell in row.cells:
                    if cell.text not in cells:  # merged cells repeat their text
                        cells.append(cell.text)
                parts.append("\t".join(cells))
    except Exception as exc:  # python-docx raises many kinds (KeyError, XMLSyntaxError, ...)
        logger.info("could not read a .docx upload: %s", type(exc).__name__)
        raise broken from None
    text = "\n".join(parts).strip()
    if not text:
        raise DocumentError(f"{name} bevat geen tekst.")
    return text


def _pdf_text(data: bytes, name: str) -> str:
    broken = DocumentError(
        f"{name} is geen geldige pdf of is beschadigd. Sla het opnieuw op als pdf, of plak de "
        "tekst."
    )
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise broken
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DocumentError(
                f"{name} is beveiligd met een wachtwoord. Maak een onbeveiligde kopie of plak "
                "de tekst."
            )
        pages = reader.pages
        if len(pages) > PDF_MAX_PAGES:
            raise DocumentError(
                f"{name} heeft {len(pages)} pagina's; Stagecheck leest er hoogstens "
                f"{PDF_MAX_PAGES}. Plak het deel dat je wilt controleren."
            )
        text = "\n\n".join((page.extract_text() or "").strip() for page in pages).strip()
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises its own errors and plain ones on broken files
        logger.info("could not read a .pdf upload: %s", type(exc).__name__)
        raise broken from None
    if not text:
        raise DocumentError(
            f"{name} bevat geen tekst die te lezen is (misschien is het een scan). Plak de "
            "tekst in het tekstvak."
        )
    return text
