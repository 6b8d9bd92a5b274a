"""The pages' words as gettext catalogues: every msgid the templates and the
web modules use (as ``babel.cfg`` extracts them) has a translation in both
catalogues and the catalogues hold nothing else; the words charts.js reads are
given to it; an old-style word is ported into the catalogues; a stale ``.mo``
is compiled again; and the pages render whole in Chinese and in English."""

from __future__ import annotations

import os
import re
import shutil
from html import unescape
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from envwatch.web import i18n
from envwatch.web.i18n import LANGUAGES, LOCALE_DIR, TEXT, catalogue_path, compiled, translator
from envwatch.web.i18n_port import convert_template, port, words_in
from tests.web.test_pages_and_api import base_url, session

__all__ = ["base_url"]

ROOT = Path(__file__).parents[2]
WEB = ROOT / "src/envwatch/web"


def used_msgids() -> set[str]:
    """What ``scripts/i18n extract`` collects, by ``babel.cfg``."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)  # type: ignore[no-untyped-call]
    return {
        message if isinstance(message, str) else str(message[0])
        for _, _, message, _, _ in extract_from_dir(
            WEB, method_map, options_map, keywords=DEFAULT_KEYWORDS
        )
    }


def catalogue(lang: str) -> dict[str, str]:
    with catalogue_path(lang).open("rb") as source:
        return {str(m.id): str(m.string) for m in read_po(source) if m.id}


def test_every_msgid_used_has_both_languages_and_nothing_else() -> None:
    used = used_msgids()
    assert {"login", "pt_status_online", "ev_measured", "cs_bad_form"} <= used
    for lang in LANGUAGES:
        words = translator(lang)
        untranslated = sorted(key for key in used if not words.get(key, "").strip())
        assert not untranslated, f"{lang}: {untranslated}"
        unused = sorted(set(catalogue(lang)) - used)
        assert not unused, f"{lang} catalogue holds msgids nothing uses: {unused}"
    # Chinese first: the two languages differ (a copied catalogue would not).
    assert translator("zh")["login"] == "登录" and translator("en")["login"] == "Log in"
    # Words added the old way until ported: both languages, or the page shows a key.
    for key, entry in TEXT.items():
        assert all(entry.get(lang, "").strip() for lang in LANGUAGES), key


def test_templates_use_the_catalogue_not_the_old_dict() -> None:
    old_form = re.compile(r"(?<![\w.'\"])t\.([a-z_][a-z0-9_]*)\b(?!\s*\()")
    for template in (WEB / "templates").glob("*.html"):
        found = old_form.findall(template.read_text(encoding="utf-8"))
        assert not found, f"{template.name}: t.{found[0]} (scripts/i18n templates rewrites it)"


def test_older_template_lookups_are_rewritten_as_gettext_calls() -> None:
    old = "{{ t.login }} {{ t['pt_status_' + p.status] }} {{ t.get('x', y) }} {{ alert.state }}"
    assert convert_template(old) == (
        "{{ _(\"login\") }} {{ _('pt_status_' ~ p.status) }} {{ t.get('x', y) }} {{ alert.state }}"
    )


def test_charts_get_every_word_they_show() -> None:
    script = (WEB / "static/charts.js").read_text(encoding="utf-8")
    given = (WEB / "templates/_chart_words.html").read_text(encoding="utf-8")
    shown = set(re.findall(r'word\("([a-z_]+)"\)', script))
    computed = set(re.findall(r'word\("([a-z_]+_)" \+', script))
    assert {"no_data", "limit"} <= shown and "meter_" in computed
    for key in shown:
        assert f'"pt_{key}": _("pt_{key}")' in given, key
    for prefix in computed:
        assert re.search(rf'"pt_{prefix}\w+": _\("pt_{prefix}\w+"\)', given), prefix


def test_old_style_words_are_ported_into_both_catalogues(tmp_path: Path) -> None:
    directory = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, directory, ignore=shutil.ignore_patterns("*.mo"))
    old = (
        "TEXT: dict[str, dict[str, str]] = {\n"
        '    "login": {"zh": "登录系统", "en": "Sign in"},\n'
        '    "xx_new_word": {"zh": "新词", "en": "New word"},\n'
        "}\n"
    )
    words = words_in(old)
    assert port(words, directory=directory) == {"zh": 1, "en": 1}
    for lang, new in (("zh", "新词"), ("en", "New word")):
        with catalogue_path(lang, directory=directory).open("rb") as source:
            ported = {str(m.id): m.string for m in read_po(source) if m.id}
        assert ported["xx_new_word"] == new
        assert ported["login"] == translator(lang)["login"]  # a translation is kept
    assert port(words, directory=directory) == {"zh": 0, "en": 0}
    assert port(words, replace=True, directory=directory) == {"zh": 1, "en": 1}
    with pytest.raises(ValueError, match="TEXT"):
        words_in("WORDS = {}\n")


def test_a_missing_or_stale_mo_is_compiled_at_first_use(tmp_path: Path) -> None:
    directory = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, directory, ignore=shutil.ignore_patterns("*.mo"))
    mo = compiled("en", directory)
    assert mo == catalogue_path("en", ".mo", directory) and mo.stat().st_size > 1000
    assert compiled("en", directory) == mo
    po = catalogue_path("en", directory=directory)
    po.write_text(po.read_text(encoding="utf-8").replace('"Log in"', '"Sign in"'), "utf-8")
    older = po.stat().st_mtime - 60  # the .mo of before the .po changed
    os.utime(mo, (older, older))
    assert compiled("en", directory).stat().st_mtime >= po.stat().st_mtime
    with mo.open("rb") as source:
        assert b"Sign in" in source.read()


PAGES = ("/", "/alerts", "/enterprises", "/cases", "/registry", "/coverage", "/users", "/account")
KEY_LIKE = re.compile(r"\b(?:pt|cs|reg|us|ev|kind|kind_name)_[a-z0-9_]+\b")


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_the_pages_render_whole_in_both_languages(base_url: str) -> None:
    admin, _ = session(base_url, "admin")
    login_zh = admin.get("/login", params={"lang": "zh"}).text
    assert "智慧环境监管平台" in login_zh
    for path in PAGES:
        zh = admin.get(path, params={"lang": "zh"})
        en = admin.get(path, params={"lang": "en"})
        assert zh.status_code == en.status_code == 200, path
        assert '<html lang="zh-CN">' in zh.text and '<html lang="en">' in en.text, path
        for page in (zh.text, en.text):
            leaked = KEY_LIKE.findall(visible_text(page))
            assert not leaked, f"{path}: a msgid shown instead of its word: {leaked[:5]}"
        assert re.search(r"[\u4e00-\u9fff]", visible_text(zh.text)), path
        english_words = visible_text(en.text)
        assert translator("en")["logout"] in english_words, path
        assert translator("zh")["logout"] not in english_words, path
    admin.close()


def test_reloading_keeps_the_words() -> None:
    before = translator("en")
    i18n.reload()
    assert translator("en") == before


def test_a_read_only_installation_compiles_into_a_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "site-packages" / "locale"
    shutil.copytree(LOCALE_DIR, directory, ignore=shutil.ignore_patterns("*.mo"))
    compile_for_real = i18n.compile_catalogue

    def read_only(po: Path, mo: Path) -> None:
        if directory in mo.parents:
            raise PermissionError(mo)
        compile_for_real(po, mo)

    monkeypatch.setattr(i18n, "compile_catalogue", read_only)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    mo = compiled("zh", directory)
    assert mo.parent == tmp_path / "cache/envwatch/locale/zh_Hans"
    assert compiled("zh", directory) == mo
    with mo.open("rb") as source:
        assert "登录".encode() in source.read()
