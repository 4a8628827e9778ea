"""Which column of a lead file holds what: header synonyms (English and Chinese) and overrides.

Every column that is not the phone, the name or the priority becomes a custom field named after
its header. Headers starting with `#` are the dialer's own export columns and are ignored, so an
exported file imports back cleanly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PHONE = "phone"
NAME = "name"
PRIORITY = "priority"
IGNORE = "-"
STANDARD_FIELDS = (PHONE, NAME, PRIORITY)
EXPORT_COLUMN_PREFIX = "#"

_SYNONYMS: dict[str, tuple[str, ...]] = {
    PHONE: (
        "phone",
        "phonenumber",
        "phoneno",
        "mobile",
        "mobilephone",
        "mobilenumber",
        "cell",
        "cellphone",
        "tel",
        "telephone",
        "number",
        "msisdn",
        "e164",
        "contactnumber",
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "号码",
        "电话号码",
        "联系电话",
        "联系方式",
        "移动电话",
        "客户电话",
        "客户手机",
        "客户号码",
    ),
    NAME: (
        "name",
        "fullname",
        "customer",
        "customername",
        "contact",
        "contactname",
        "clientname",
        "姓名",
        "名字",
        "客户姓名",
        "客户名称",
        "客户名",
        "联系人",
        "称呼",
        "称谓",
    ),
    PRIORITY: ("priority", "优先级"),
}


def header_key(header: str) -> str:
    """A header reduced for matching: NFKC (full-width to ASCII), lower case, no separators."""
    text = unicodedata.normalize("NFKC", header).strip().lower()
    return "".join(ch for ch in text if ch not in " _-.:：/()（）\ufeff")


_BY_KEY: dict[str, str] = {
    header_key(synonym): standard
    for standard, synonyms in _SYNONYMS.items()
    for synonym in synonyms
}


class MissingPhoneColumn(ValueError):
    def __init__(self, headers: Sequence[str]) -> None:
        shown = ", ".join(repr(h) for h in headers) or "(none)"
        super().__init__(
            f"no phone number column found; headers in the file: {shown}. "
            "Name one with a mapping such as `--map 'HEADER=phone'`."
        )
        self.headers = list(headers)


class BadMapping(ValueError):
    pass


@dataclass(frozen=True)
class ColumnMap:
    """Column indexes for the standard fields and the custom fields."""

    phone: int
    name: int | None = None
    priority: int | None = None
    custom: tuple[tuple[int, str], ...] = ()
    ignored: tuple[str, ...] = field(default=())

    def describe(self, headers: Sequence[str]) -> dict[str, str]:
        """Header -> field, for reports."""
        described = {headers[self.phone]: PHONE}
        if self.name is not None:
            described[headers[self.name]] = NAME
        if self.priority is not None:
            described[headers[self.priority]] = PRIORITY
        for index, key in self.custom:
            described[headers[index]] = f"custom:{key}"
        for header in self.ignored:
            described[header] = "ignored"
        return described


def parse_mapping_args(items: Sequence[str]) -> dict[str, str]:
    """`["客户电话=phone", "备注=note"]` -> {"客户电话": "phone", "备注": "note"}."""
    mapping: dict[str, str] = {}
    for item in items:
        header, sep, target = item.rpartition("=")
        if not sep or not header.strip() or not target.strip():
            raise BadMapping(f"bad mapping {item!r}: expected HEADER=FIELD")
        mapping[header.strip()] = target.strip()
    return mapping


def map_columns(headers: Sequence[str], overrides: Mapping[str, str] | None = None) -> ColumnMap:
    """Decide what each column is. Overrides (header -> field) win over synonyms.

    An override's field is `phone`, `name`, `priority`, `-` (ignore) or any other text, which
    names a custom field.
    """
    overrides = dict(overrides or {})
    override_by_key = {header_key(h): target for h, target in overrides.items()}
    present = {header_key(h) for h in headers}
    unknown = [h for h in overrides if header_key(h) not in present]
    if unknown:
        raise BadMapping(
            f"mapping names headers not in the file: {unknown}; headers found: {list(headers)}"
        )
    taken: dict[str, int] = {}
    custom: list[tuple[int, str]] = []
    ignored: list[str] = []
    used_custom_keys: set[str] = set()
    # Explicit overrides first, so a synonym cannot steal their field.
    explicit = {f for f in override_by_key.values() if f in STANDARD_FIELDS}
    for index, header in enumerate(headers):
        key = header_key(header)
        target = override_by_key.get(key)
        if target is None:
            if header.strip().startswith(EXPORT_COLUMN_PREFIX) or not key:
                ignored.append(header)
                continue
            standard = _BY_KEY.get(key)
            if standard is not None and standard not in taken and standard not in explicit:
                taken[standard] = index
                continue
            target = header.strip()
        if target == IGNORE:
            ignored.append(header)
        elif target in STANDARD_FIELDS:
            if target in taken:
                raise BadMapping(f"two columns are mapped to {target!r}")
            taken[target] = index
        else:
            name = target
            suffix = 2
            while name in used_custom_keys:
                name = f"{target}_{suffix}"
                suffix += 1
            used_custom_keys.add(name)
            custom.append((index, name))
    if PHONE not in taken:
        raise MissingPhoneColumn(headers)
    return ColumnMap(
        phone=taken[PHONE],
        name=taken.get(NAME),
        priority=taken.get(PRIORITY),
        custom=tuple(custom),
        ignored=tuple(ignored),
    )
