"""The pages' words, Chinese first and English second, from gettext catalogues.

The words live in ``locale/<locale>/LC_MESSAGES/messages.po`` (``zh_Hans`` and
``en``), kept with Babel: ``scripts/i18n extract`` collects every msgid the
templates (``_("key")``) and the web modules (``_()``, ``N_()``, ``words["key"]``)
use into ``locale/messages.pot``, ``scripts/i18n update`` merges it into both
catalogues, translators fill them, ``scripts/i18n compile`` writes the ``.mo``
files (``scripts/_venv.sh`` compiles too). A msgid is the stable key the words
always had (``"login"``, ``"pt_status_online"``), never the text itself.

``translator(lang)`` gives every word of a language as a dict (as before the
catalogues); ``gettext(lang, key)`` one word. A ``.mo`` missing or older than
its ``.po`` (a checkout that changed the catalogue since) is compiled at first
use, next to it or, where the package is read-only, into a cache.

``TEXT`` is where a word added the old way, ``{"key": {"zh": ..., "en": ...}}``,
still works until ``scripts/i18n port`` has moved it into the catalogues.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from fastapi import Request

log = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
LOCALES = {"zh": "zh_Hans", "en": "en"}
"""The catalogue (a CLDR locale) of each page language."""
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"

# Words added the old way, staged until ported into the catalogues (scripts/i18n port).
TEXT: dict[str, dict[str, str]] = {}


def N_(key: str) -> str:  # noqa: N802 (gettext's name for a marker)
    """Marks ``key`` as a msgid for extraction where the page looks it up by a
    computed key; returns it unchanged."""
    return key


# Msgids the pages look up by a computed key (``_("pt_status_" ~ status)``), so
# that extraction keeps them: one per value the key is computed from.
COMPUTED = (
    N_("kind_exceedance"), N_("kind_early_warning"), N_("kind_falsification"),
    N_("kind_electricity"), N_("kind_transmission"), N_("kind_quality"),
    N_("kind_name_exceedance"), N_("kind_name_early_warning"), N_("kind_name_falsification"),
    N_("kind_name_electricity"), N_("kind_name_transmission"), N_("kind_name_quality"),
    N_("cs_findings"), N_("cs_legal_basis"), N_("cs_penalty_reference"),
    N_("reg_cat_air"), N_("reg_cat_water"), N_("reg_cat_chemical_park"), N_("reg_cat_acid"),
    N_("reg_cat_hazardous_waste"), N_("reg_cat_medical"),
    N_("reg_kind_enterprises"), N_("reg_kind_outlets"), N_("reg_kind_points"),
    N_("reg_kind_limits"), N_("reg_kind_meters"), N_("reg_kind_stations"),
    N_("reg_kind_sections"),
    N_("pt_outlet_kind_air"), N_("pt_outlet_kind_water"),
    N_("pt_status_online"), N_("pt_status_offline"), N_("pt_status_never_connected"),
    N_("pt_meter_production"), N_("pt_meter_treatment"), N_("pt_meter_total"),
    N_("pt_cn_2011"), N_("pt_cn_2051"), N_("pt_cn_2061"), N_("pt_cn_2031"),
    N_("pt_source_uploaded"), N_("pt_source_computed"),
    N_("rp_kind_dry_run"), N_("rp_kind_replace"),
)  # fmt: skip


def language(request: Request) -> str:
    """``?lang=`` first, then the ``lang`` cookie, then Chinese."""
    asked = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    return asked if asked in LANGUAGES else "zh"


def catalogue_path(lang: str, suffix: str = ".po", directory: Path = LOCALE_DIR) -> Path:
    return directory / LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def compile_catalogue(po: Path, mo: Path) -> None:
    """Compile ``po`` into ``mo`` (what ``pybabel compile`` does), atomically."""
    with po.open("rb") as source:
        catalog = read_po(source)
    mo.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=mo.parent, delete=False, suffix=".tmp") as target:
        write_mo(target, catalog)
    os.replace(target.name, mo)


def compiled(lang: str, directory: Path = LOCALE_DIR) -> Path:
    """The ``.mo`` of ``lang``, compiled now if it is missing or older than its ``.po``."""
    po, mo = catalogue_path(lang, directory=directory), catalogue_path(lang, ".mo", directory)
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        return mo
    try:
        compile_catalogue(po, mo)
    except OSError:
        # A read-only installation: compile into a cache of our own instead,
        # named by the catalogue's content (installations may differ).
        cache_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        digest = hashlib.sha256(po.read_bytes()).hexdigest()[:16]
        mo = cache_dir / "envwatch" / "locale" / LOCALES[lang] / f"{DOMAIN}-{digest}.mo"
        if not mo.exists():
            compile_catalogue(po, mo)
    log.info("compiled the %s catalogue into %s", LOCALES[lang], mo)
    return mo


@cache
def _catalogue(lang: str) -> dict[str, str]:
    with compiled(lang).open("rb") as source:
        catalog = read_mo(source)
    return {
        message.id: message.string
        for message in catalog
        if message.id and isinstance(message.id, str) and isinstance(message.string, str)
        and message.string
    }  # fmt: skip


def translator(lang: str) -> dict[str, str]:
    """Every word of ``lang`` (``"zh"`` or ``"en"``) by its key."""
    words = dict(_catalogue(lang))
    for key, staged in TEXT.items():
        words.setdefault(key, staged[lang])
    return words


def gettext(lang: str, key: str) -> str:
    """One word of ``lang``; the key itself when no catalogue has it."""
    word = _catalogue(lang).get(key)
    if word is None and key in TEXT:
        return TEXT[key][lang]
    return key if word is None else word


def template_words(lang: str) -> dict[str, Callable[..., str]]:
    """The ``_``, ``gettext`` and ``ngettext`` Jinja's i18n extension calls, for ``lang``."""

    def one(key: str) -> str:
        return gettext(lang, key)

    def plural(singular: str, plural_key: str, n: int) -> str:
        return gettext(lang, singular if n == 1 else plural_key)

    return {"_": one, "gettext": one, "ngettext": plural}


def reload() -> None:
    """Forget the loaded catalogues (after ``scripts/i18n compile``, in tests)."""
    _catalogue.cache_clear()
