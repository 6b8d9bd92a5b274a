"""Access lists (生态环境准入清单) of control units and the verdict on an
industry (pure).

A clause belongs to one of the four dimensions of the list and names the
industries it forbids or restricts by national industry code (GB/T 4754)
prefix: ``C25`` or ``25`` is every industry of division 25 (石油、煤炭及其他燃料
加工业), ``2511`` one class; ``*`` every industry. A clause may also be
conditioned on pollutants (HJ 212 codes): it applies only to what emits one
of them (a project's planned emissions, a registered enterprise's permitted
pollutants); where that is not known it is taken to apply. The door letter is optional
(the registry keeps codes as digits). An industry is *forbidden* where a
forbidding clause names it, else *restricted* where a restricting clause names
it, else *allowed*; over several units (a point on a border) the strictest
verdict wins.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
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

POLLUTANT_WORDS: Final = {
    "SO2": "a21026", "二氧化硫": "a21026", "NOX": "a21002", "氮氧化物": "a21002",
    "颗粒物": "a34013", "烟尘": "a34013", "PM": "a34013", "VOCS": "a24088",
    "挥发性有机物": "a24088", "非甲烷总烃": "a24088", "COD": "w01018", "化学需氧量": "w01018",
    "氨氮": "w21003", "NH3-N": "w21003",
}  # fmt: skip
"""Names a clause file or a pre-check may use for a pollutant, to its HJ 212
code (VOCs are monitored as non-methane hydrocarbons, a24088)."""
_CODE = re.compile(r"^[aw]\d{5}$")


def pollutant_code(text: str) -> str:
    """The HJ 212 code of ``text`` (a code, or a name of ``POLLUTANT_WORDS``);
    raises ``ValueError`` naming it."""
    word = text.strip()
    if _CODE.match(word):
        return word
    code = POLLUTANT_WORDS.get(word.upper()) or POLLUTANT_WORDS.get(word)
    if code is None:
        raise ValueError(
            f"{word!r} is not a pollutant: an HJ 212 code (a21026) or one of "
            f"{' / '.join(sorted(POLLUTANT_WORDS))}"
        )
    return code


def parse_emissions(text: str) -> dict[str, float]:
    """A planned project's emissions, ``a21026:12.5,VOCs:3`` (tonnes a year)
    or just the pollutants (``SO2,NOx``: amounts unknown, 0): by HJ 212 code.
    Raises ``ValueError`` naming the problem."""
    found: dict[str, float] = {}
    for part in text.replace("，", ",").replace("；", ",").replace(";", ",").split(","):
        if not part.strip():
            continue
        name, _, amount = part.partition(":")
        code = pollutant_code(name.replace("：", ""))
        try:
            tonnes = float(amount) if amount.strip() else 0.0
        except ValueError:
            raise ValueError(f"{part.strip()!r}: the amount is not a number of tonnes") from None
        if not 0 <= tonnes < 1e7:
            raise ValueError(f"{part.strip()!r}: tonnes a year between 0 and 10 000 000")
        found[code] = found.get(code, 0.0) + tonnes
    return found


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
    pollutants: tuple[str, ...] = ()
    """HJ 212 codes: the clause applies only to what emits one of them (none: to all)."""

    def applies(self, industry_code: str, emitted: Collection[str] | None = None) -> bool:
        """Whether the clause applies to ``industry_code`` emitting ``emitted``
        (HJ 212 codes; None: not known, and a pollutant condition is then
        taken to hold, the cautious reading for a pre-check)."""
        if not self.names(industry_code):
            return False
        if not self.pollutants or emitted is None:
            return True
        return any(code in emitted for code in self.pollutants)

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


def judge(
    clauses: Iterable[Clause], industry_code: str, emitted: Collection[str] | None = None
) -> Verdict:
    """The verdict on ``industry_code`` (emitting ``emitted``, when known)
    under ``clauses`` (of one or more units)."""
    applying = [clause for clause in clauses if clause.applies(industry_code, emitted)]
    applying.sort(key=lambda c: c.effect != "forbidden")
    if any(clause.effect == "forbidden" for clause in applying):
        verdict = "forbidden"
    elif applying:
        verdict = "restricted"
    else:
        verdict = "allowed"
    return Verdict(verdict, tuple(applying))
