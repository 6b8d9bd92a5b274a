"""``scripts/i18n port [FILE...]``: move words written the old way,
``TEXT = {"key": {"zh": "…", "en": "…"}}``, into the gettext catalogues.

With FILEs, the ``TEXT`` dict of each (a ``web/i18n.py`` from before the
catalogues, e.g. ``git show BRANCH:src/envwatch/web/i18n.py > old.py``);
without, the words staged in ``envwatch.web.i18n.TEXT``. A msgid missing
from a catalogue is added; an empty translation is filled; a translation
already there is kept (``--replace`` overwrites it). Then ``scripts/i18n
compile`` (and, for staged words, empty ``TEXT``).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from envwatch.web.i18n import LANGUAGES, LOCALE_DIR, TEXT, catalogue_path

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


def main(argv: Sequence[str]) -> int:
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
