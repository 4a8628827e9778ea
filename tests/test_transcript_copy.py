"""The recorded transcripts kept with the tests are exactly the shared originals."""

import pytest

from tests.conftest import SHARED_TRANSCRIPTS_DIR, TRANSCRIPTS_DIR


def test_copy_matches_shared_recordings() -> None:
    if not SHARED_TRANSCRIPTS_DIR.is_dir():
        pytest.skip("the shared recordings are not beside this checkout")
    shared = {p.name: p.read_bytes() for p in SHARED_TRANSCRIPTS_DIR.iterdir() if p.is_file()}
    ours = {p.name: p.read_bytes() for p in TRANSCRIPTS_DIR.iterdir() if p.is_file()}
    assert ours == shared
