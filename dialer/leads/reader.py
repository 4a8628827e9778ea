"""Reading lead files as rows of text: CSV in any common delimiter and encoding, and XLSX.

Encodings: a BOM decides (UTF-8, UTF-16); otherwise the whole file is checked as UTF-8 (a fast
C-level scan) and, failing that, as GB18030, which Chinese spreadsheet exports use. A file that
is neither, or that looks binary, is refused with a clear message. Rows are streamed.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, BinaryIO

XLSX_SUFFIXES = (".xlsx", ".xlsm")
CANDIDATE_DELIMITERS = (",", "\t", ";", "|")
_SCAN_CHUNK = 1 << 20
_SNIFF_CHARS = 64 * 1024
# CSV fields far beyond this are garbage, not leads; the csv module's default limit is 128 KiB.
csv.field_size_limit(1 << 20)


class LeadFileError(ValueError):
    """The file as a whole cannot be read (empty, undecodable, not a spreadsheet...)."""


@dataclass
class LeadFile:
    """An opened lead file: its header, a row stream and what was detected."""

    format: str  # "csv" | "xlsx"
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number in the file, header = 1; cells)
    encoding: str | None
    delimiter: str | None
    size_bytes: int
    _position: Callable[[], int] | None = None
    _closer: contextlib.ExitStack | None = None

    def bytes_read(self) -> int:
        return self._position() if self._position else 0

    def close(self) -> None:
        if self._closer is not None:
            self._closer.close()


def _seekable_binary(source: Path | IO[bytes], stack: contextlib.ExitStack) -> BinaryIO:
    if isinstance(source, Path):
        return stack.enter_context(source.open("rb"))
    if source.seekable():
        source.seek(0)
        return source  # type: ignore[return-value]
    spool = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (the stack closes it)
    shutil.copyfileobj(source, spool)
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _size(binary: BinaryIO) -> int:
    here = binary.tell()
    end = binary.seek(0, io.SEEK_END)
    binary.seek(here)
    return end


def _decodes_fully(binary: BinaryIO, encoding: str) -> tuple[bool, int]:
    """Whether the whole stream decodes; on failure also the byte offset of the first error."""
    binary.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    try:
        while chunk := binary.read(_SCAN_CHUNK):
            decoder.decode(chunk)
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return False, offset + exc.start
    finally:
        binary.seek(0)
    return True, -1


def detect_encoding(binary: BinaryIO) -> str:
    head = binary.read(4)
    binary.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    ok, utf8_error_at = _decodes_fully(binary, "utf-8")
    if ok:
        return "utf-8-sig"
    ok, gb_error_at = _decodes_fully(binary, "gb18030")
    if ok:
        return "gb18030"
    raise LeadFileError(
        "the file is neither UTF-8 nor GB18030 text "
        f"(UTF-8 fails at byte {utf8_error_at}, GB18030 at byte {gb_error_at}); "
        "save it as CSV UTF-8 or give --encoding"
    )


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample: the candidate that splits the lines most consistently."""
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    with contextlib.suppress(csv.Error):
        return (
            csv.Sniffer()
            .sniff("\n".join(lines), delimiters="".join(CANDIDATE_DELIMITERS))
            .delimiter
        )
    best, best_score = ",", 0
    for candidate in CANDIDATE_DELIMITERS:
        counts = [line.count(candidate) for line in lines]
        if counts[0] == 0:
            continue
        score = sum(1 for count in counts if count == counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def _open_csv(
    binary: BinaryIO,
    size: int,
    delimiter: str | None,
    encoding: str | None,
    stack: contextlib.ExitStack,
) -> LeadFile:
    if encoding is None:
        encoding = detect_encoding(binary)
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise LeadFileError(f"unknown encoding {encoding!r}") from None
    text = io.TextIOWrapper(binary, encoding=encoding, newline="", errors="strict")
    # Detach before the binary file is closed, and never close a stream the caller owns.
    stack.callback(text.detach)
    try:
        sample = text.read(_SNIFF_CHARS)
    except UnicodeDecodeError as exc:
        raise LeadFileError(f"the file is not valid {encoding} text: {exc.reason}") from None
    if "\x00" in sample:
        raise LeadFileError("the file looks binary (it contains NUL characters), not CSV text")
    if not sample.strip():
        raise LeadFileError("the file is empty")
    if delimiter is None:
        delimiter = sniff_delimiter(sample)
    text.seek(0)
    reader = csv.reader(text, delimiter=delimiter)
    header: list[str] | None = None
    for cells in reader:
        if any(cell.strip() for cell in cells):
            header = [cell.strip().lstrip("\ufeff") for cell in cells]
            break
    if header is None:
        raise LeadFileError("the file is empty")
    first_data_row = reader.line_num + 1

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = first_data_row - 1
        for cells in reader:
            number += 1
            yield number, cells

    return LeadFile(
        format="csv",
        headers=header,
        rows=rows(),
        encoding=encoding,
        delimiter=delimiter,
        size_bytes=size,
        _position=binary.tell,
    )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _open_xlsx(binary: BinaryIO, size: int, stack: contextlib.ExitStack) -> LeadFile:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(binary, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise LeadFileError(f"not a readable XLSX workbook: {exc}") from None
    stack.callback(workbook.close)
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    if sheet is None:
        raise LeadFileError("the workbook has no sheets")
    values = sheet.iter_rows(values_only=True)
    header: list[str] | None = None
    row_number = 0
    for row in values:
        row_number += 1
        cells = [_cell_text(v) for v in row]
        if any(cells):
            header = cells
            break
    if header is None:
        raise LeadFileError("the file is empty")
    while header and not header[-1]:
        header.pop()
    start = row_number
    counter = {"row": start}

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = start
        for row in values:
            number += 1
            counter["row"] = number
            yield number, [_cell_text(v) for v in row]

    total_rows = sheet.max_row or 0

    # XLSX progress is reported in rows scaled to the file size.
    def position() -> int:
        return int(size * counter["row"] / total_rows) if total_rows else 0

    return LeadFile(
        format="xlsx",
        headers=header,
        rows=rows(),
        encoding=None,
        delimiter=None,
        size_bytes=size,
        _position=position,
    )


def open_lead_file(
    source: Path | IO[bytes],
    *,
    filename: str,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> LeadFile:
    """Open a CSV or XLSX lead file (by its name's suffix); raise `LeadFileError` if unreadable."""
    stack = contextlib.ExitStack()
    try:
        binary = _seekable_binary(source, stack)
        size = _size(binary)
        if size == 0:
            raise LeadFileError("the file is empty")
        if filename.lower().endswith(XLSX_SUFFIXES):
            lead_file = _open_xlsx(binary, size, stack)
        else:
            lead_file = _open_csv(binary, size, delimiter, encoding, stack)
    except BaseException:
        stack.close()
        raise
    lead_file._closer = stack
    return lead_file
