# Sourced by scripts/run and scripts/test: make sure .venv exists and holds
# envwatch with its pinned dependencies. Reinstalls only when pyproject.toml changed.
set -euo pipefail
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.envwatch-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
    echo "$want" > "$stamp"
fi
# The pages' gettext catalogues: compile a .po newer than its .mo (or without one).
for po in src/envwatch/web/locale/*/LC_MESSAGES/messages.po; do
    if [ ! -f "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then
        .venv/bin/pybabel -q compile -d src/envwatch/web/locale
        break
    fi
done
