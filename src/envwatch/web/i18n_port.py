"""``scripts/i18n port [FILE...]``: move words written the old way,
``TEXT = {"key": {"zh": "…", "en": "…"}}``, into the gettext catalogues.

With FILEs, the ``TEXT`` dict of each (a ``web/i18n.py`` from before the
catalogues, e.g. ``git show BRANCH:src/envwatch/web/i18n.py > old.py``);
without, the words staged in ``envwatch.web.i18n.TEXT``. A msgid missing
from a catalogue is added; an empty translation is filled; a translation
already there is kept (``--replace`` overwrites it). Then ``scripts/i18n
compile`` (and, for staged words, empty ``TEXT``).

``scripts/i18n templates`` rewrites the older ``{{ t.key }}`` and
``t['prefix_' + x]`` of the templates into ``_("key")`` and ``_('prefix_' ~ x)``.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from envwatch.web.i18n import LANGUAGES, LOCALE_DIR, TEXT, catalogue_path

TEMPLATES_DIR = Path(__file__).with_name("templates")
OLD_COMPUTED = re.compile(r"""(?<![\w.])t\[((["'])[a-z_0-9]+\2) \+ ([^\]]+)\]""")
OLD_KEY = re.compile(r"""(?<![\w.'"])t\.([a-z_][a-z0-9_]*)\b(?!\s*\()""")

Words = dict[str, dict[str, str]]


def words_in(source: str) -> Words:
    """The ``TEXT`` dict literal assigned in Python ``source``."""
    for node in ast.walk(ast.parse(source)):
        target = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id == "TEXT":
            found = ast.literal_eval(value)
            if not isinstance(found, dict):
                raise ValueError("TEXT is not a dict")
            return {
                str(key): {str(lang): str(word) for lang, word in entry.items()}
                for key, entry in found.items()
            }
    raise ValueError("no TEXT = {...} in the file")


def port(
    words: Mapping[str, Mapping[str, str]],
    *,
    replace: bool = False,
    directory: Path = LOCALE_DIR,
) -> dict[str, int]:
    """Write ``words`` into both catalogues; how many translations each got."""
    written = {}
    for lang in LANGUAGES:
        path = catalogue_path(lang, directory=directory)
        with path.open("rb") as source:
            catalog = read_po(source)
        count = 0
        for key, entry in words.items():
            word = entry.get(lang, "")
            if not word:
                continue
            message = catalog.get(key)
            if message is None:
                catalog.add(key, word)
            elif not message.string or (replace and message.string != word):
                message.string = word
                message.flags.discard("fuzzy")
            else:
                continue
            count += 1
        with path.open("wb") as target:
            write_po(target, catalog, width=100, ignore_obsolete=True)
        written[lang] = count
    return written


def convert_template(text: str) -> str:
    """A template's ``t.key`` and ``t['prefix_' + x]`` as ``_()`` calls."""
    text = OLD_COMPUTED.sub(lambda m: f"_({m.group(1)} ~ {m.group(3)})", text)
    return OLD_KEY.sub(lambda m: f'_("{m.group(1)}")', text)


def convert_templates(directory: Path = TEMPLATES_DIR) -> list[str]:
    """Convert every template of ``directory``; the names of those changed."""
    changed = []
    for template in sorted(directory.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        converted = convert_template(text)
        if converted != text:
            template.write_text(converted, encoding="utf-8")
            changed.append(template.name)
    return changed


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["--templates"]:
        print("converted:", ", ".join(convert_templates()) or "none")
        return 0
    replace = "--replace" in argv
    files = [arg for arg in argv if arg != "--replace"]
    words: Words = {}
    for name in files:
        words.update(words_in(Path(name).read_text(encoding="utf-8")))
    if not files:
        words = {key: dict(entry) for key, entry in TEXT.items()}
    missing = [key for key, entry in words.items() if not all(entry.get(x) for x in LANGUAGES)]
    written = port(words, replace=replace)
    print(f"{len(words)} words read; translations written: {written}")
    if missing:
        print(f"without both languages (translate in the .po files): {', '.join(missing)}")
    if not files and words:
        print("now remove them from TEXT in src/envwatch/web/i18n.py and run scripts/i18n compile")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
