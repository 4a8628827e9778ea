"""Seed data: the default (global) disposition set of a Chinese outbound call centre.

The initial migration inserts these rows, so a fresh database is usable at once; campaigns can
add their own codes (rows with a campaign_id).
"""

from __future__ import annotations

from typing import Any

_FLAGS = ("human_answered", "success", "final", "callback", "dnc", "refusal", "complaint", "system")


def _row(code: str, label: str, dtmf: str | None, order: int, *flags: str) -> dict[str, Any]:
    unknown = set(flags) - set(_FLAGS)
    if unknown:
        raise ValueError(f"unknown disposition flags {unknown}")
    row: dict[str, Any] = {"campaign_id": None, "code": code, "label": label, "dtmf": dtmf}
    row.update({flag: flag in flags for flag in _FLAGS})
    row["sort_order"] = order
    return row


DEFAULT_DISPOSITIONS: list[dict[str, Any]] = [
    # Given by agents (also by DTMF on desk phones).
    _row("SALE", "成交", "1", 10, "human_answered", "success", "final"),
    _row("INTERESTED", "有意向", "2", 20, "human_answered", "callback"),
    _row("CALLBACK", "预约回访", "3", 30, "human_answered", "callback"),
    _row("NOT_NOW", "暂不需要", "4", 40, "human_answered", "final"),
    _row("REFUSED", "明确拒绝", "5", 50, "human_answered", "final", "refusal", "dnc"),
    _row("COMPLAINT", "投诉", "6", 60, "human_answered", "final", "refusal", "dnc", "complaint"),
    _row("DNC", "要求不再来电", "7", 70, "human_answered", "final", "dnc"),
    _row("WRONG_PERSON", "非本人", "8", 80, "human_answered", "final"),
    _row("HUNG_UP", "客户挂断", "9", 90, "human_answered"),
    _row("EMPTY_NUMBER", "空号", None, 100, "final"),
    _row("SUSPENDED", "停机", None, 110, "final"),
    _row("POWERED_OFF", "关机", None, 120),
    # Set by the dialer from the call's outcome.
    _row("NA", "无人接听", None, 200, "system"),
    _row("BUSY", "占线", None, 210, "system"),
    _row("CONGESTION", "线路拥塞", None, 220, "system"),
    _row("FAILED", "呼叫失败", None, 230, "system"),
    _row("MACHINE", "语音信箱/答录机", None, 240, "system"),
    _row("ABANDONED", "放弃（无空闲坐席）", None, 250, "system", "human_answered"),
    _row("DROPPED", "接通后客户挂断", None, 260, "system", "human_answered"),
]
