#!/usr/bin/env bash
# Build the vendored front-end assets into static/vendor/ from the pinned npm packages
# (package-lock.json). The result is committed: running the site never needs npm or a network.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --silent
out=static/vendor
rm -rf "$out"
mkdir -p "$out/govuk" "$out/axe"
npx sass --no-source-map --style=compressed --quiet-deps \
  --load-path=node_modules assets/continuum.scss "$out/govuk/govuk-frontend.min.css"
cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js "$out/govuk/"
cp assets/govuk-frontend-LICENSE.txt "$out/govuk/LICENSE.txt"  # the npm package names MIT but ships no licence file
node -e 'const p=require("./node_modules/govuk-frontend/package.json");console.log(p.name+" "+p.version+" ("+p.license+")")' > "$out/govuk/VERSION"
node -e 'const p=require("./node_modules/axe-core/package.json");console.log(p.name+" "+p.version+" ("+p.license+")")' > "$out/axe/VERSION"
cp node_modules/axe-core/axe.min.js "$out/axe/"
cp node_modules/axe-core/LICENSE "$out/axe/LICENSE"
echo "assets built into $out"
