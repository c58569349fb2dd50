#!/usr/bin/env bash
# Installs the official AsyncAPI parser (@asyncapi/parser, version pinned with its lockfile in
# deploy/setup/asyncapi-parser/) into .cache/asyncapi-parser (git-ignored), once; prints that folder.
# tests/contracts/test_asyncapi_parser.py runs it; `make test` reaches it through that test.
# Needs node and npm; exits 3 when npm cannot reach its registry (the test then skips, saying so).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SRC="$ROOT/deploy/setup/asyncapi-parser"
DEST="$ROOT/.cache/asyncapi-parser"
mkdir -p "$DEST"
if ! cmp -s "$SRC/package-lock.json" "$DEST/package-lock.json" || [ ! -d "$DEST/node_modules/@asyncapi/parser" ]; then
    cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
    if ! (cd "$DEST" && npm ci --ignore-scripts --no-audit --no-fund --cache "$ROOT/.cache/npm" >&2); then
        rm -f "$DEST/package-lock.json"
        echo "asyncapi-parser: npm ci failed (is the npm registry reachable?)" >&2
        exit 3
    fi
fi
cp "$SRC/validate.mjs" "$DEST/validate.mjs"
echo "$DEST"
