"""Access lists (生态环境准入清单) of control units and the verdict on an
industry (pure).

A clause belongs to one of the four dimensions of the list and names the
industries it forbids or restricts by national industry code (GB/T 4754)
prefix: ``C25`` or ``25`` is every industry of division 25 (石油、煤炭及其他燃料
加工业), ``2511`` one class; ``*`` every industry. The door letter is optional
(the registry keeps codes as digits). An industry is *forbidden* where a
forbidding clause names it, else *restricted* where a restricting clause names
it, else *allowed*; over several units (a point on a border) the strictest
verdict wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

DIMENSIONS: Final = ("空间布局约束", "污染物排放管控", "环境风险防控", "资源开发效率")
"""The four dimensions of an access list."""
DIMENSION_NAMES_EN: Final = {
    "空间布局约束": "spatial layout constraints",
    "污染物排放管控": "pollutant discharge control",
    "环境风险防控": "environmental risk prevention",
    "资源开发效率": "resource use efficiency",
}
UNIT_TYPES: Final = ("优先保护", "重点管控", "一般管控")
"""Priority protection, key control, general control units."""
EFFECTS: Final = ("forbidden", "restricted")
EFFECT_WORDS: Final = {"禁止": "forbidden", "限制": "restricted"}
"""The Chinese words a clause file may use for its effect."""
VERDICTS: Final = ("allowed", "restricted", "forbidden")
"""Mildest first."""

_PREFIX = re.compile(r"^(?:\*|[A-Ta-t]?\d{1,4}|[A-Ta-t])$")


def industry_prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` is not a GB/T 4754 code prefix (None: it is one)."""
    if _PREFIX.match(prefix):
        return None
    return f"{prefix!r} is not a GB/T 4754 industry code prefix (e.g. C25, 2511, *)"


def _digits(code: str) -> str:
    return code.lstrip("ABCDEFGHIJKLMNOPQRSTabcdefghijklmnopqrst")


@dataclass(frozen=True, slots=True)
class Clause:
    unit_code: str
    dimension: str
    effect: str
    """forbidden or restricted."""
    industries: tuple[str, ...]
    """GB/T 4754 code prefixes, or ``*``."""
    text: str

    def names(self, industry_code: str) -> bool:
        """Whether the clause applies to ``industry_code`` (with or without door letter)."""
        digits = _digits(industry_code.strip())
        for prefix in self.industries:
            if prefix == "*":
                return True
            wanted = _digits(prefix)
            # A bare door letter (``C``: manufacturing) names no digits to match
            # against a registry code, so it matches only codes written with it.
            if wanted and digits.startswith(wanted):
                return True
            if not wanted and industry_code.strip().upper().startswith(prefix.upper()):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: str
    clauses: tuple[Clause, ...]
    """The clauses that apply, forbidding ones first."""


def judge(clauses: Iterable[Clause], industry_code: str) -> Verdict:
    """The verdict on ``industry_code`` under ``clauses`` (of one or more units)."""
    applying = [clause for clause in clauses if clause.names(industry_code)]
    applying.sort(key=lambda c: c.effect != "forbidden")
    if any(clause.effect == "forbidden" for clause in applying):
        verdict = "forbidden"
    elif applying:
        verdict = "restricted"
    else:
        verdict = "allowed"
    return Verdict(verdict, tuple(applying))
