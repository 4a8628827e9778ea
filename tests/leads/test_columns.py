"""Header mapping: synonyms (English and Chinese), overrides and clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.leads.columns import (
    BadMapping,
    MissingPhoneColumn,
    header_key,
    map_columns,
    parse_mapping_args,
)


@pytest.mark.parametrize(
    "header", ["电话", "手机", "手机号", "号码", "Phone Number", "MOBILE", "ｔｅｌ"]
)
def test_phone_synonyms(header: str) -> None:
    assert map_columns(["x", header]).phone == 1


@pytest.mark.parametrize("header", ["姓名", "名字", "Name", "customer_name", "联系人"])
def test_name_synonyms(header: str) -> None:
    assert map_columns(["手机", header]).name == 1


def test_extra_columns_become_custom_fields() -> None:
    columns = map_columns(["手机号", "姓名", "城市", "城市", "#status", ""])
    assert columns.custom == ((2, "城市"), (3, "城市_2"))
    assert columns.ignored == ("#status", "")


def test_first_matching_column_wins() -> None:
    columns = map_columns(["手机", "电话"])
    assert columns.phone == 0 and columns.custom == ((1, "电话"),)


def test_override_beats_synonym() -> None:
    columns = map_columns(["手机", "备用号码"], {"备用号码": "phone", "手机": "-"})
    assert columns.phone == 1 and columns.ignored == ("手机",)


def test_missing_phone_lists_headers() -> None:
    with pytest.raises(MissingPhoneColumn) as caught:
        map_columns(["姓名", "城市"])
    assert caught.value.headers == ["姓名", "城市"]
    assert "'姓名', '城市'" in str(caught.value)


def test_bad_mappings() -> None:
    with pytest.raises(BadMapping):
        map_columns(["手机", "电话"], {"手机": "phone", "电话": "phone"})
    with pytest.raises(BadMapping):
        map_columns(["手机"], {"没有": "phone"})
    with pytest.raises(BadMapping):
        parse_mapping_args(["no-equals-sign"])
    assert parse_mapping_args(["a=b=phone", " 客户 = name "]) == {"a=b": "phone", "客户": "name"}


@given(st.lists(st.text(max_size=12), min_size=1, max_size=8))
def test_every_column_is_accounted_for_once(headers: list[str]) -> None:
    try:
        columns = map_columns([*headers, "手机号"])
    except BadMapping:
        pytest.fail("synonyms alone never conflict")
    all_headers = [*headers, "手机号"]
    used = [columns.phone, *(i for i, _ in columns.custom)]
    used += [i for i in (columns.name, columns.priority) if i is not None]
    assert len(used) == len(set(used))
    assert len(used) + len(columns.ignored) == len(all_headers)
    assert header_key(all_headers[columns.phone]) in {header_key(h) for h in all_headers}
