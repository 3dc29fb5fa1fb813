#!/usr/bin/env bash
# Catalog upkeep: ./scripts/i18n.sh update   (extract strings, merge into the zh_Hans_CN catalog)
#                 ./scripts/i18n.sh compile  (build .mo files; run by ./run and ./test)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
case "${1:-compile}" in
  update)
    "$PY" -m babel.messages.frontend extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot \
      --no-location --sort-output --project "Commons Ledger" --ignore-dirs ".venv tests bench migrations node_modules scripts" . >/dev/null 2>&1
    "$PY" -m babel.messages.frontend update -i translations/messages.pot -d translations -l zh_Hans_CN --no-fuzzy-matching >/dev/null 2>&1
    rm -f translations/messages.pot
    ;;
  compile)
    "$PY" -m babel.messages.frontend compile -d translations --statistics
    ;;
  *) echo "usage: $0 update|compile" >&2; exit 2 ;;
esac
