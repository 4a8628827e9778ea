"""Shared query parameters."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from fastapi import Query
from pydantic import AwareDatetime

Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Since = Annotated[AwareDatetime | None, Query(description="window start, ISO-8601 with offset")]
Until = Annotated[AwareDatetime | None, Query(description="window end (exclusive)")]

# Row ids: bounded so an absurd number is a 422, never a database overflow.
DbId = Annotated[int, Ge(1), Le(2**31 - 1)]
BigDbId = Annotated[int, Ge(1), Le(2**63 - 1)]
