#!/usr/bin/env bash
# Until the first release lands, the schema is one initial migration, regenerated from the
# models.  After a release, add new migrations instead (flask db migrate -m "...").
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*_initial_schema.py
DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/flask --app wsgi db migrate -m "initial schema" >/dev/null
sed -i 's/^import sqlalchemy as sa$/import sqlalchemy as sa\nimport voucher.db/' migrations/versions/*_initial_schema.py
rm -rf "$tmp"
ls migrations/versions
