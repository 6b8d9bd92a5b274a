"""Glossary of monitored factors (pollutants and parameters) of HJ 212.

Source: HJ 212-2017 Appendix B (Table B.1 water, Table B.2 air / flue gas, Table B.3
noise), transcribed from the machine-readable copy ``srdgame/lua-HJ212:hj212.csv``
and checked against section 11 of the team's protocol summary ``shared/domain/hj212.md``.
The pollutant codes themselves are those of HJ 525-2009 (water, ``w…``) and
HJ 524-2009 (air, ``a…``).

``code_2005`` is the column the standard calls "原编码": the code of the same
factor in HJ/T 212-2005. Air codes there are two characters (``02``, ``S01``,
``B02``) and water codes three (``011``, ``B01``), so within Appendix B no 2005
code belongs to two factors; :func:`code_2017_from_2005` still takes a medium in
case a vendor table ever makes one ambiguous.

Units are the standard's own, written as symbols (毫克/立方米 → ``mg/m³``,
微克/升 → ``µg/L`` with U+00B5, 无量纲 → ``""``). Their magnitude is kept exactly
as printed, including values that look like misprints (see the comments in the
table): this module is a faithful copy of the standard, and corrections belong at
the edge where vendor data is interpreted.

Process codes (``e…``, ``g…``) and field-device information codes (``i…``) of
Appendix B are deliberately not part of this glossary: they are templates with
equipment indexes, not monitored factors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypeAlias

__all__ = [
    "FACTORS",
    "Factor",
    "Medium",
    "code_2017_from_2005",
    "factor",
    "medium_for_system_code",
]


class Medium(StrEnum):
    """Environmental medium a factor is measured in."""

    AIR = "air"  # flue gas / ambient air codes a......
    WATER = "water"  # w......
    NOISE = "noise"  # LA, Leq, ...
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Factor:
    """One monitored factor of HJ 212-2017 Appendix B."""

    code: str
    """2017 code, e.g. ``"a21026"``."""
    name_zh: str
    """Chinese name as printed in the standard, e.g. ``"二氧化硫"``."""
    name_en: str
    """English name, e.g. ``"sulphur dioxide"``."""
    medium: Medium
    unit: str
    """Unit of concentration / measurement, e.g. ``"mg/m³"``; ``""`` if dimensionless."""
    amount_unit: str | None
    """Unit of the emission amount (``-Cou``), e.g. ``"kg"``; ``None`` if there is none."""
    data_type: str | None
    """The standard's data type, e.g. ``"N5.2"``; ``None`` where none is printed."""
    code_2005: str | None
    """HJ/T 212-2005 code ("原编码"), e.g. ``"02"``; ``None`` if the factor had none."""


# (code, name_zh, name_en, unit, amount_unit, data_type, code_2005), sorted by code.
_Row: TypeAlias = tuple[str, str, str, str, str | None, str | None, str | None]

# fmt: off
# Table B.2: air and flue gas.
_AIR: Final[tuple[_Row, ...]] = (
    ("a00000", "废气", "flue gas (flow)", "m³/s", "m³", "N6.1", "B02"),
    ("a01001", "温度", "temperature", "°C", None, "N3.1", None),
    ("a01002", "湿度", "humidity", "%", None, "N3.1", None),
    ("a01006", "气压", "atmospheric pressure", "kPa", None, "N5.3", None),
    ("a01007", "风速", "wind speed", "m/s", None, "N4.1", None),
    ("a01008", "风向", "wind direction", "°", None, "N4", None),
    # 2005 code 37 continues the two-digit air series; it is not the water code 037.
    ("a01010", "林格曼黑度", "Ringelmann blackness (dimensionless)", "", None, "N1", "37"),
    ("a01011", "烟气流速", "flue gas velocity", "m/s", None, "N5.2", "S02"),
    ("a01012", "烟气温度", "flue gas temperature", "°C", None, "N3.1", "S03"),
    ("a01013", "烟气压力", "flue gas pressure", "kPa", None, "N5.3", "S08"),
    ("a01014", "烟气湿度", "flue gas humidity", "%", None, "N3.1", "S05"),
    ("a01015", "制冷温度", "cooler temperature", "°C", None, "N3.1", "S06"),
    ("a01016", "烟道截面积", "flue cross-section area", "m²", None, "N4.2", "S07"),
    ("a01017", "烟气动压", "flue gas dynamic pressure", "kPa", None, "N5.3", "S04"),
    ("a01901", "垃圾焚烧炉膛内焚烧平均温度", "incinerator furnace mean temperature", "°C", None, "N4.1", None),  # noqa: E501
    ("a01902", "垃圾焚烧炉膛内DCS温度", "incinerator furnace DCS temperature", "°C", None, "N4.1", None),  # noqa: E501
    ("a05001", "二氧化碳", "carbon dioxide", "mg/m³", "kg", "N3.3", "30"),
    # Methane is printed in ng/m³ (amount in g), unlike the other flue-gas organics.
    ("a05002", "甲烷", "methane", "ng/m³", "g", "N4.1", None),
    ("a05008", "三氯一氟甲烷", "trichlorofluoromethane", "mg/m³", "kg", "N7.3", None),
    ("a05009", "二氯二氟甲烷", "dichlorodifluoromethane", "mg/m³", "kg", "N7.3", None),
    ("a05013", "三氯三氟乙烷", "trichlorotrifluoroethane", "mg/m³", "kg", "N7.3", None),
    ("a19001", "氧气含量", "oxygen content", "%", None, "N3.1", "S01"),
    # N1.6 as printed (one integer digit, six decimals).
    ("a20007", "砷", "arsenic", "ng/m³", "g", "N1.6", None),
    ("a20016", "铍及其化合物", "beryllium and its compounds", "mg/m³", "kg", "N4.4", "36"),
    ("a20025", "镉及其化合物", "cadmium and its compounds", "mg/m³", "kg", "N3.4", "33"),
    ("a20026", "镉", "cadmium", "ng/m³", "g", "N3.3", None),
    ("a20043", "铅及其化合物", "lead and its compounds", "mg/m³", "kg", "N2.4", "32"),
    ("a20044", "铅", "lead", "ng/m³", "g", "N3.3", None),
    ("a20057", "汞及其化合物", "mercury and its compounds", "mg/m³", "kg", "N4.4", "31"),
    ("a20058", "汞", "mercury", "ng/m³", "g", "N3.2", None),
    ("a20063", "镍及其化合物", "nickel and its compounds", "mg/m³", "kg", "N3.3", "35"),
    ("a20091", "锡及其化合物", "tin and its compounds", "mg/m³", "kg", "N4.3", "34"),
    # Ammonia in ng/m³ as printed, although flue-gas NH3 is normally reported in mg/m³.
    ("a21001", "氨（氨气）", "ammonia", "ng/m³", "g", "N4.3", "10"),
    ("a21002", "氮氧化物", "nitrogen oxides", "mg/m³", "kg", "N5.1", "03"),
    ("a21003", "一氧化氮", "nitric oxide", "mg/m³", "kg", "N4.1", None),
    ("a21004", "二氧化氮", "nitrogen dioxide", "mg/m³", "kg", "N4.1", None),
    ("a21005", "一氧化碳", "carbon monoxide", "mg/m³", "kg", "N3.3", "04"),
    ("a21017", "氰化物", "cyanide", "mg/m³", "kg", "N3.3", "07"),
    ("a21018", "氟化物", "fluoride", "mg/m³", "kg", "N2.3", "06"),
    ("a21022", "氯气", "chlorine", "mg/m³", "kg", "N4.3", "11"),
    ("a21024", "氯化氢", "hydrogen chloride", "mg/m³", "kg", "N4.3", "08"),
    ("a21026", "二氧化硫", "sulphur dioxide", "mg/m³", "kg", "N5.2", "02"),
    ("a21028", "硫化氢", "hydrogen sulphide", "mg/m³", "kg", "N3.2", "05"),
    ("a23001", "酚类", "phenols", "mg/m³", "kg", "N3.3", "27"),
    ("a24003", "二氯甲烷", "dichloromethane", "mg/m³", "kg", "N7.3", None),
    ("a24004", "三氯甲烷", "trichloromethane", "mg/m³", "kg", "N7.3", None),
    ("a24005", "四氯甲烷", "tetrachloromethane", "mg/m³", "kg", "N7.3", None),
    ("a24006", "二溴一氯甲烷", "dibromochloromethane", "mg/m³", "kg", "N7.3", None),
    ("a24007", "一溴二氯甲烷", "bromodichloromethane", "mg/m³", "kg", "N7.3", None),
    ("a24008", "溴甲烷", "bromomethane", "mg/m³", "kg", "N7.3", None),
    ("a24009", "三溴甲烷", "tribromomethane", "mg/m³", "kg", "N7.3", None),
    ("a24015", "氯乙烷", "chloroethane", "mg/m³", "kg", "N7.3", None),
    ("a24016", "1,1-二氯乙烷", "1,1-dichloroethane", "mg/m³", "kg", "N7.3", None),
    ("a24017", "1,2-二氯乙烷", "1,2-dichloroethane", "mg/m³", "kg", "N7.3", None),
    ("a24018", "1,1,1-三氯乙烷", "1,1,1-trichloroethane", "mg/m³", "kg", "N7.3", None),
    ("a24019", "1,1,2-三氯乙烷", "1,1,2-trichloroethane", "mg/m³", "kg", "N7.3", None),
    ("a24020", "1,1,2,2-四氯乙烷", "1,1,2,2-tetrachloroethane", "mg/m³", "kg", "N7.3", None),
    ("a24027", "1,2-二氯丙烷", "1,2-dichloropropane", "mg/m³", "kg", "N7.3", None),
    ("a24034", "1,2-二溴乙烷", "1,2-dibromoethane", "mg/m³", "kg", "N7.3", None),
    ("a24036", "环己烷", "cyclohexane", "mg/m³", "kg", "N7.3", None),
    ("a24042", "正己烷", "n-hexane", "mg/m³", "kg", "N7.3", None),
    ("a24043", "正庚烷", "n-heptane", "mg/m³", "kg", "N7.3", None),
    ("a24046", "氯乙烯", "vinyl chloride", "mg/m³", "kg", "N4.3", "29"),
    ("a24047", "1,1-二氯乙烯", "1,1-dichloroethylene", "mg/m³", "kg", "N7.3", None),
    ("a24049", "三氯乙烯", "trichloroethylene", "mg/m³", "kg", "N7.3", None),
    ("a24050", "四氯乙烯", "tetrachloroethylene", "mg/m³", "kg", "N7.3", None),
    ("a24053", "丙烯", "propylene", "mg/m³", "kg", "N7.3", None),
    ("a24054", "1,3-二氯丙烯", "1,3-dichloropropene", "mg/m³", "kg", "N7.3", None),
    ("a24072", "1,4-二恶烷", "1,4-dioxane", "mg/m³", "kg", "N7.3", None),
    ("a24078", "1,3-丁二烯", "1,3-butadiene", "mg/m³", "kg", "N7.3", None),
    ("a24087", "碳氢化合物", "hydrocarbons", "mg/m³", "kg", "N5.2", "25"),
    ("a24088", "非甲烷总烃", "non-methane hydrocarbons", "mg/m³", "kg", "N7.3", None),
    ("a24099", "氯甲烷", "chloromethane", "mg/m³", "kg", "N7.3", None),
    ("a24110", "反式-1,2-二氯乙烯", "trans-1,2-dichloroethylene", "mg/m³", "kg", "N7.3", None),
    ("a24111", "顺式-1,2-二氯乙烯", "cis-1,2-dichloroethylene", "mg/m³", "kg", "N7.3", None),
    ("a24112", "反式-1,3-二氯丙烯", "trans-1,3-dichloropropene", "mg/m³", "kg", "N7.3", None),
    ("a24113", "六氯-1,3-丁二烯", "hexachloro-1,3-butadiene", "mg/m³", "kg", "N7.3", None),
    ("a25002", "苯", "benzene", "mg/m³", "kg", "N7.3", None),
    ("a25003", "甲苯", "toluene", "mg/m³", "kg", "N4.2", "17"),
    ("a25004", "乙苯", "ethylbenzene", "mg/m³", "kg", "N7.3", None),
    ("a25005", "二甲苯", "xylene", "mg/m³", "kg", "N4.2", "18"),
    ("a25006", "1,2-二甲基苯", "1,2-dimethylbenzene", "mg/m³", "kg", "N7.3", None),
    ("a25007", "1,3-二甲基苯", "1,3-dimethylbenzene", "mg/m³", "kg", "N7.3", None),
    ("a25008", "1,4-二甲基苯", "1,4-dimethylbenzene", "mg/m³", "kg", "N7.3", None),
    ("a25010", "氯苯", "chlorobenzene", "mg/m³", "kg", "N4.3", "23"),
    ("a25011", "1,2-二氯苯", "1,2-dichlorobenzene", "mg/m³", "kg", "N7.3", None),
    ("a25012", "1,3-二氯苯", "1,3-dichlorobenzene", "mg/m³", "kg", "N7.3", None),
    ("a25013", "1,4-二氯苯", "1,4-dichlorobenzene", "mg/m³", "kg", "N7.3", None),
    ("a25014", "1-乙基-4-甲基苯", "1-ethyl-4-methylbenzene", "mg/m³", "kg", "N7.3", None),
    ("a25015", "1,2,4-三氯苯", "1,2,4-trichlorobenzene", "mg/m³", "kg", "N7.3", None),
    ("a25019", "1,2,4-三甲基苯", "1,2,4-trimethylbenzene", "mg/m³", "kg", "N7.3", None),
    ("a25020", "1,2,3-三甲基苯", "1,2,3-trimethylbenzene", "mg/m³", "kg", "N7.3", None),
    ("a25021", "1,3,5-三甲基苯", "1,3,5-trimethylbenzene", "mg/m³", "kg", "N7.3", None),
    ("a25023", "硝基苯", "nitrobenzene", "mg/m³", "kg", "N3.4", "22"),
    ("a25038", "乙烯基苯", "styrene (vinylbenzene)", "mg/m³", "kg", "N7.3", None),
    ("a25044", "苯并[a]芘", "benzo[a]pyrene", "mg/m³", "kg", "N4.3", "20"),
    ("a25072", "四氢呋喃", "tetrahydrofuran", "mg/m³", "kg", "N7.3", None),
    ("a26001", "苯胺类", "anilines", "mg/m³", "kg", "N4.3", "21"),
    ("a29017", "乙酸乙酯", "ethyl acetate", "mg/m³", "kg", "N7.3", None),
    ("a29026", "乙酸乙烯酯", "vinyl acetate", "mg/m³", "kg", "N7.3", None),
    ("a30001", "甲醇", "methanol", "mg/m³", "kg", "N4.3", "28"),
    ("a30008", "异丙醇", "isopropanol", "mg/m³", "kg", "N7.3", None),
    ("a30022", "硫醇", "mercaptans", "mg/m³", "kg", "N4.3", "13"),
    ("a31001", "甲醛", "formaldehyde", "mg/m³", "kg", "N3.3", "19"),
    ("a31002", "乙醛", "acetaldehyde", "mg/m³", "kg", "N3.4", "26"),
    ("a31024", "丙酮", "acetone", "mg/m³", "kg", "N7.3", None),
    ("a31025", "2-丁酮", "2-butanone", "mg/m³", "kg", "N7.3", None),
    ("a31030", "甲基异丁基甲酮", "methyl isobutyl ketone", "mg/m³", "kg", "N7.3", None),
    # Appendix B prints 纳克/立方米 (ng/m³) for ambient particulates; GB 3095-2012 uses
    # µg/m³, so this is probably a misprint. Kept as printed; convert at the edge.
    ("a34001", "总悬浮颗粒物TSP", "total suspended particles (TSP)", "ng/m³", "g", "N4.3", None),
    ("a34002", "可吸入颗粒物PM10", "inhalable particles (PM10)", "ng/m³", "g", "N3.3", None),
    ("a34004", "细微颗粒物PM2.5", "fine particles (PM2.5)", "ng/m³", "g", "N3.3", None),
    ("a34005", "亚微米颗粒物PM1.0", "submicron particles (PM1.0)", "ng/m³", "g", "N3.3", None),
    # Appendix B prints no data type for dustfall.
    ("a34011", "降尘", "dustfall", "t/(km²·month)", None, None, None),
    ("a34013", "烟尘", "smoke dust (particulate matter)", "mg/m³", "kg", "N4", "01"),
    ("a34017", "炭黑尘", "carbon black dust", "mg/m³", "kg", "N4", None),
    ("a34038", "沥青烟", "asphalt fume", "mg/m³", "kg", "N4.3", "09"),
    ("a34039", "硫酸雾", "sulphuric acid mist", "mg/m³", "kg", "N4.3", "14"),
    ("a34040", "铬酸雾", "chromic acid mist", "mg/m³", "kg", "N2.3", "15"),
    ("a99010", "丙烯腈", "acrylonitrile", "mg/m³", "kg", "N7.3", None),
    ("a99049", "光气", "phosgene", "mg/m³", "kg", "N3.3", "24"),
    ("a99051", "二硫化碳", "carbon disulphide", "mg/m³", "kg", "N4.3", "12"),
)

# Table B.1: water.
_WATER: Final[tuple[_Row, ...]] = (
    ("w00000", "污水", "waste water (flow)", "L/s", "m³", "N5.2", "B01"),
    ("w01001", "pH值", "pH value (dimensionless)", "", None, "N2.2", "001"),
    # 色度 is in (platinum-cobalt) colour degrees, not an angle, hence no "°".
    ("w01002", "色度", "colour", "degree", None, "N3.2", "002"),
    ("w01006", "溶解性总固体", "total dissolved solids", "mg/L", "kg", "N4", None),
    ("w01009", "溶解氧", "dissolved oxygen", "mg/L", None, "N3.1", None),
    ("w01010", "水温", "water temperature", "°C", None, "N3.1", None),
    ("w01012", "悬浮物", "suspended solids", "mg/L", "kg", "N4", "003"),
    ("w01014", "电导率", "electrical conductivity", "µS/cm", None, "N3.1", None),
    ("w01017", "五日生化需氧量", "biochemical oxygen demand (BOD5)", "mg/L", "kg", "N5.1", "010"),
    ("w01018", "化学需氧量", "chemical oxygen demand (COD)", "mg/L", "kg", "N5.1", "011"),
    ("w01019", "高锰酸盐指数", "permanganate index", "mg/L", "kg", "N3.1", None),
    ("w01020", "总有机碳", "total organic carbon", "mg/L", "kg", "N3.1", "015"),
    # 个/升: organisms counted per litre.
    ("w02003", "粪大肠菌群", "faecal coliforms", "count/L", None, "N9", "550"),
    ("w02006", "细菌总数", "total bacterial count", "count/L", None, "N9", None),
    ("w03001", "总α放射性", "gross alpha radioactivity", "Bq/L", None, "N3.1", "570"),
    ("w03002", "总β放射性", "gross beta radioactivity", "Bq/L", None, "N3.1", "571"),
    ("w19001", "表面活性剂", "surfactants", "mg/L", "kg", "N3.2", None),
    ("w19002", "阴离子表面活性剂", "anionic surfactants", "mg/L", "kg", "N3.2", "520"),
    ("w20012", "钡", "barium", "mg/L", "kg", "N3.3", "039"),
    ("w20023", "硼", "boron", "mg/L", "kg", "N3.3", "037"),
    ("w20038", "钴", "cobalt", "mg/L", "kg", "N3.4", "040"),
    ("w20061", "钼", "molybdenum", "mg/L", "kg", "N3.4", "038"),
    ("w20089", "铊", "thallium", "ng/L", "mg", "N4", "041"),
    ("w20092", "锡", "tin", "mg/L", "kg", "N3.1", "036"),
    ("w20111", "总汞", "total mercury", "µg/L", "g", "N3.2", "020"),
    ("w20113", "烷基汞", "alkyl mercury", "ng/L", "mg", "N4", "021"),
    ("w20115", "总镉", "total cadmium", "µg/L", "g", "N3.1", "022"),
    ("w20116", "总铬", "total chromium", "mg/L", "kg", "N3.3", "023"),
    ("w20117", "六价铬", "hexavalent chromium", "µg/L", "g", "N2.3", "024"),
    ("w20119", "总砷", "total arsenic", "µg/L", "g", "N2.3", "026"),
    ("w20120", "总铅", "total lead", "µg/L", "g", "N4", "027"),
    ("w20121", "总镍", "total nickel", "mg/L", "kg", "N3.2", "028"),
    ("w20122", "总铜", "total copper", "mg/L", "kg", "N3.2", "029"),
    ("w20123", "总锌", "total zinc", "mg/L", "kg", "N3.3", "030"),
    ("w20124", "总锰", "total manganese", "mg/L", "kg", "N3.3", "031"),
    ("w20125", "总铁", "total iron", "mg/L", "kg", "N3.3", "032"),
    ("w20126", "总银", "total silver", "mg/L", "kg", "N3.3", "033"),
    ("w20127", "总铍", "total beryllium", "µg/L", "g", "N3.3", "034"),
    ("w20128", "总硒", "total selenium", "µg/L", "g", "N4.2", "035"),
    ("w20138", "铜", "copper", "mg/L", "kg", "N3.3", None),
    ("w20139", "锌", "zinc", "mg/L", "kg", "N3.3", None),
    ("w20140", "硒", "selenium", "mg/L", "kg", "N3.3", None),
    ("w20141", "砷", "arsenic", "mg/L", "kg", "N3.3", None),
    ("w20142", "汞", "mercury", "µg/L", "g", "N3.3", None),
    ("w20143", "镉", "cadmium", "µg/L", "g", "N3.3", None),
    ("w20144", "铅", "lead", "mg/L", "kg", "N3.3", None),
    ("w21001", "总氮", "total nitrogen", "mg/L", "kg", "N4.2", "065"),
    ("w21003", "氨氮", "ammonia nitrogen", "mg/L", "kg", "N4.2", "060"),
    ("w21004", "凯氏氮", "Kjeldahl nitrogen", "mg/L", "kg", "N3.1", "062"),
    ("w21006", "亚硝酸盐", "nitrite", "mg/L", "kg", "N2.3", "063"),
    ("w21007", "硝酸盐", "nitrate", "mg/L", "kg", "N2.3", "064"),
    ("w21011", "总磷", "total phosphorus", "mg/L", "kg", "N3.2", "101"),
    ("w21016", "氰化物", "cyanide", "mg/L", "kg", "N3.3", "070"),
    ("w21017", "氟化物", "fluoride", "mg/L", "kg", "N4.2", "072"),
    ("w21019", "硫化物", "sulphide", "mg/L", "kg", "N3.3", "071"),
    ("w21022", "氯化物", "chloride", "mg/L", "kg", "N3.1", "090"),
    ("w21038", "硫酸盐", "sulphate", "mg/L", "kg", "N6", None),
    ("w22001", "石油类", "petroleum oils", "mg/L", "kg", "N3.2", "080"),
    ("w23002", "挥发酚", "volatile phenols", "mg/L", "kg", "N3.4", "110"),
    # The water table prints 苯并[α]芘, the air table 苯并[a]芘; both kept as printed.
    ("w25043", "苯并[α]芘", "benzo[a]pyrene", "µg/L", "g", "N3.1", "540"),
    ("w33001", "六六六", "hexachlorocyclohexane (HCH)", "ng/L", "mg", "N4", "350"),
    ("w33007", "滴滴涕", "DDT", "ng/L", "mg", "N4", "351"),
    ("w99001", "有机氮", "organic nitrogen", "mg/L", "kg", "N3.1", "061"),
)

# Codes of HJ 524-2009 (air) and HJ 525-2009 (water) that ambient air and
# surface-water quality stations send (ST 22 and 21) but Appendix B does not
# print; units as those stations report them. [M]
_QUALITY_STATIONS: Final[tuple[_Row, ...]] = (
    ("a05024", "臭氧", "ozone (O3)", "µg/m³", None, "N4.1", None),
    ("w01003", "浊度", "turbidity", "NTU", None, "N4.1", None),
)

# Table B.3: noise. All levels are in dB (分贝).
_NOISE: Final[tuple[_Row, ...]] = (
    ("L10", "累计百分声级L10", "percentile sound level L10", "dB", None, "N3.1", None),
    ("L5", "累计百分声级L5", "percentile sound level L5", "dB", None, "N3.1", None),
    ("L50", "累计百分声级L50", "percentile sound level L50", "dB", None, "N3.1", None),
    ("L90", "累计百分声级L90", "percentile sound level L90", "dB", None, "N3.1", None),
    ("L95", "累计百分声级L95", "percentile sound level L95", "dB", None, "N3.1", None),
    ("LA", "A权声级", "A-weighted sound level", "dB", None, "N3.1", None),
    ("LMn", "最小的瞬时声级", "minimum instantaneous sound level", "dB", None, "N3.1", None),
    ("LMx", "最大的瞬时声级", "maximum instantaneous sound level", "dB", None, "N3.1", None),
    ("Ld", "昼间等效声级", "daytime equivalent sound level", "dB", None, "N3.1", None),
    ("Ldn", "昼夜等效声级", "day-night equivalent sound level", "dB", None, "N3.1", None),
    ("Leq", "等效声级", "equivalent continuous sound level", "dB", None, "N3.1", None),
    ("Ln", "夜间等效声级", "night-time equivalent sound level", "dB", None, "N3.1", None),
)
# fmt: on


def _build_factors() -> Mapping[str, Factor]:
    table: dict[str, Factor] = {}
    for medium, rows in (
        (Medium.AIR, sorted(_AIR + _QUALITY_STATIONS[:1])),
        (Medium.WATER, sorted(_WATER + _QUALITY_STATIONS[1:])),
        (Medium.NOISE, _NOISE),
    ):
        for code, name_zh, name_en, unit, amount_unit, data_type, code_2005 in rows:
            # A silently overwritten row would corrupt every lookup, so fail at import.
            if code in table:
                msg = f"duplicate factor code in glossary table: {code!r}"
                raise ValueError(msg)
            table[code] = Factor(
                code=code,
                name_zh=name_zh,
                name_en=name_en,
                medium=medium,
                unit=unit,
                amount_unit=amount_unit,
                data_type=data_type,
                code_2005=code_2005,
            )
    return MappingProxyType(table)


FACTORS: Final[Mapping[str, Factor]] = _build_factors()
"""All factors of Appendix B tables B.1–B.3 and the quality stations' codes
above, keyed by 2017 code (read-only)."""


def _build_2005_index() -> Mapping[str, tuple[Factor, ...]]:
    index: dict[str, list[Factor]] = {}
    for item in FACTORS.values():
        if item.code_2005 is not None:
            index.setdefault(item.code_2005, []).append(item)
    return MappingProxyType({code: tuple(items) for code, items in index.items()})


_BY_CODE_2005: Final[Mapping[str, tuple[Factor, ...]]] = _build_2005_index()

_MEDIUM_BY_SYSTEM_CODE: Final[Mapping[str, Medium]] = MappingProxyType(
    {
        "22": Medium.AIR,  # air quality
        "31": Medium.AIR,  # atmospheric (flue gas) pollution source
        "51": Medium.AIR,  # flue-gas process monitoring
        "21": Medium.WATER,  # surface water quality
        "24": Medium.WATER,  # groundwater quality
        "32": Medium.WATER,  # surface-water (waste-water) pollution source
        "33": Medium.WATER,  # groundwater pollution source
        "52": Medium.WATER,  # waste-water process monitoring
        "23": Medium.NOISE,  # acoustic environment quality
        "36": Medium.NOISE,  # noise pollution source
    }
)


def factor(code: str) -> Factor | None:
    """Return the factor with the HJ 212-2017 code ``code`` (exact match), or ``None``."""
    return FACTORS.get(code)


def code_2017_from_2005(code_2005: str, medium: Medium | None = None) -> str | None:
    """Map an HJ/T 212-2005 factor code ("原编码") to its HJ 212-2017 code.

    ``medium`` only breaks ties: a 2005 code that belongs to exactly one factor maps
    to it whatever ``medium`` says, because loggers are known to send air codes
    under a water ST and the code length already tells the two apart. If the code
    belongs to several factors, the one of ``medium`` is returned; with no medium,
    or none or several of that medium, the answer is ``None``. Unknown codes give
    ``None``.

    >>> code_2017_from_2005("02")
    'a21026'
    >>> code_2017_from_2005("011")
    'w01018'
    """
    return _choose(_BY_CODE_2005.get(code_2005, ()), medium)


def _choose(candidates: Sequence[Factor], medium: Medium | None) -> str | None:
    """Pick the 2017 code among the factors sharing one 2005 code (see above)."""
    if len(candidates) == 1:
        return candidates[0].code
    if medium is None:
        return None
    matching = [item for item in candidates if item.medium is medium]
    return matching[0].code if len(matching) == 1 else None


def medium_for_system_code(st: str) -> Medium | None:
    """Return the medium implied by an HJ 212 system code ``ST``, or ``None``.

    Only the systems whose data use the tables of this glossary are mapped; other
    codes (91 system interaction, 25 soil, vendor extensions, ...) give ``None``.
    """
    return _MEDIUM_BY_SYSTEM_CODE.get(st)
