"""Realistic sample lead files (seeded): Chinese mobile numbers in the forms people type them,
Chinese names, a few custom columns, and optionally some garbage and repeated rows.

Used by the demo, the tests and the import benchmark.
"""

from __future__ import annotations

import csv
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Mobile prefixes in service (China Mobile, Unicom, Telecom, Broadnet).
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "166", "176", "177", "178",
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "191", "198", "199",
)  # fmt: skip
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红梅玉兰文辉鹏飞婷雪"
    "琳宇浩然子轩欣怡佳琪思远晨阳"
)
CITIES = (
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "西安",
    "重庆",
    "苏州",
    "天津",
)
SOURCES = ("官网注册", "线下活动", "老客户推荐", "合作渠道", "展会")
GARBAGE = (
    "",
    "N/A",
    "无",
    "12345",
    "abc",
    "0000000",
    "1380013800",
    "+86 1",
    "电话待补充",
    "99999999999999999",
)

SAMPLE_HEADERS = ("手机号", "姓名", "城市", "来源", "备注")


@dataclass
class SampleStats:
    rows: int = 0
    invalid: int = 0
    duplicates: int = 0


# Suffixes come from an affine permutation of 0..10^8-1, so numbers are unique without a set.
_SUFFIX_SPACE = 100_000_000
_SUFFIX_STEP = 48_271_723  # coprime with 10^8


def _written(rng: random.Random, digits: str) -> str:
    """A number the way people and CRMs write it."""
    style = rng.random()
    if style < 0.6:
        return digits
    if style < 0.75:
        return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
    if style < 0.85:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style < 0.95:
        return f"86{digits}"
    return f"0086{digits}"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def iter_sample_rows(
    rows: int,
    *,
    seed: int = 1,
    invalid_fraction: float = 0.0,
    duplicate_fraction: float = 0.0,
    stats: SampleStats | None = None,
) -> Iterator[list[str]]:
    """Rows (without the header), streamed; `stats` counts the invalid and repeated ones."""
    if rows > _SUFFIX_SPACE:
        raise ValueError(f"at most {_SUFFIX_SPACE} rows")
    stats = stats if stats is not None else SampleStats()
    rng = random.Random(seed)
    offset = rng.randrange(_SUFFIX_SPACE)
    recent: deque[str] = deque(maxlen=1000)
    unique = 0
    for index in range(rows):
        roll = rng.random()
        if roll < invalid_fraction:
            phone = rng.choice(GARBAGE)
            stats.invalid += 1
        elif roll < invalid_fraction + duplicate_fraction and recent:
            phone = _written(rng, rng.choice(recent))
            stats.duplicates += 1
        else:
            suffix = (unique * _SUFFIX_STEP + offset) % _SUFFIX_SPACE
            unique += 1
            digits = rng.choice(MOBILE_PREFIXES) + f"{suffix:08d}"
            recent.append(digits)
            phone = _written(rng, digits)
        stats.rows += 1
        yield [phone, _name(rng), rng.choice(CITIES), rng.choice(SOURCES), f"样本{index + 1}"]


def write_sample_leads(
    path: Path,
    rows: int,
    *,
    seed: int = 1,
    invalid_fraction: float = 0.0,
    duplicate_fraction: float = 0.0,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
) -> SampleStats:
    """Write a sample CSV (or XLSX when the path ends in .xlsx) and return what it contains."""
    stats = SampleStats()
    data = iter_sample_rows(
        rows,
        seed=seed,
        invalid_fraction=invalid_fraction,
        duplicate_fraction=duplicate_fraction,
        stats=stats,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("leads")
        sheet.append(list(SAMPLE_HEADERS))
        for row in data:
            sheet.append(row)
        workbook.save(path)
        return stats
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(SAMPLE_HEADERS)
        writer.writerows(data)
    return stats
