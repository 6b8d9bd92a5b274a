"""Babel extractors for the pages' msgids (``babel.cfg``, ``scripts/i18n extract``).

Besides the gettext calls Babel knows (``_("key")``, ``gettext``, ``N_``, …),
the web modules look a word up in the dict ``translator(lang)`` gives
(``words["key"]``, ``words.get("key")``, ``t["key"]``), and templates written
before the catalogues use ``t.key``: both count as using that msgid, so
extraction keeps them and the catalogue test holds them translated.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from jinja2.ext import babel_extract

WORD_DICTS = frozenset({"words", "t"})
"""The names the web modules give the dict of words."""
Extracted = tuple[int, str | None, str | tuple[str | None, ...] | None, list[str]]
TEMPLATE_WORD = re.compile(
    r"(?<![\w.'\"])t(?:\.([a-z_][a-z0-9_]*)\b(?!\s*\()|\[[\"']([a-z_][a-z0-9_]*)[\"']\])"
)
JINJA_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def _constant(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def extract_python(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any] | Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    """Gettext calls named in ``keywords`` (first argument a string) and
    lookups in a dict of words with a constant key."""
    tree = ast.parse(fileobj.read().decode(str(options.get("encoding", "utf-8"))))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if node.func.attr == "get" and isinstance(owner, ast.Name):
                    name = "get" if owner.id in WORD_DICTS else None
            key = _constant(node.args[0])
            if name is not None and key is not None and (name in keywords or name == "get"):
                yield node.lineno, None if name == "get" else name, key, []
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            key = _constant(node.slice)
            if node.value.id in WORD_DICTS and key is not None:
                yield node.lineno, None, key, []


def extract_templates(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any] | Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    """Jinja's own extraction (``_()``, ``gettext()``, ``{% trans %}``) and the
    older ``t.key`` / ``t["key"]`` lookups."""
    source = fileobj.read()
    fileobj.seek(0)
    yield from babel_extract(fileobj, keywords, comment_tags, dict(options))  # type: ignore[arg-type]
    text = source.decode(str(options.get("encoding", "utf-8")))
    for code in JINJA_CODE.finditer(text):
        for match in TEMPLATE_WORD.finditer(code.group(0)):
            line = text.count("\n", 0, code.start() + match.start()) + 1
            yield line, None, match.group(1) or match.group(2), []
