"""Reading lead files: delimiter sniffing, encodings, and the row stream."""

from __future__ import annotations

import io

import pytest

from dialer.leads.reader import LeadFileError, open_lead_file, sniff_delimiter


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_sniff(delimiter: str) -> None:
    sample = "\n".join(delimiter.join(row) for row in [["a", "b", "c"], ["1", "2", "3"]] * 3)
    assert sniff_delimiter(sample) == delimiter


def test_sniff_single_column_defaults_to_comma() -> None:
    assert sniff_delimiter("phone\n13812345678\n13912345678\n") == ","


def test_rows_are_numbered_like_a_spreadsheet() -> None:
    data = b'\n\nphone,name\n1,a\n\n2,"b\nc"\n3,d\n'
    lead_file = open_lead_file(io.BytesIO(data), filename="x.csv")
    try:
        assert lead_file.headers == ["phone", "name"]
        rows = list(lead_file.rows)
    finally:
        lead_file.close()
    assert rows[0] == (4, ["1", "a"])
    assert rows[1] == (5, [])
    assert rows[2][1] == ["2", "b\nc"]


def test_the_caller_stream_stays_open() -> None:
    stream = io.BytesIO(b"phone\n13812345678\n")
    lead_file = open_lead_file(stream, filename="x.csv")
    list(lead_file.rows)
    lead_file.close()
    assert not stream.closed


def test_unseekable_stream_is_spooled() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = "手机,姓名\n13812345678,张伟\n".encode("gb18030")
    lead_file = open_lead_file(io.BufferedReader(Pipe(data)), filename="x.csv")
    try:
        assert lead_file.encoding == "gb18030"
        assert list(lead_file.rows) == [(2, ["13812345678", "张伟"])]
    finally:
        lead_file.close()


def test_unknown_encoding_name() -> None:
    with pytest.raises(LeadFileError, match="unknown encoding"):
        open_lead_file(io.BytesIO(b"phone\n1\n"), filename="x.csv", encoding="klingon")
