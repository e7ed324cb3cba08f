#!/usr/bin/env bash
# Runs chatbot_handoff_test.js, the third-party JavaScript client's test,
# against the real routingd:
#   1. generates the wire code from routing.fbs (flatc --ts) and compiles it
#      to CommonJS with the pinned TypeScript (tsc), in a scratch directory;
#   2. runs the test with Node and the npm packages of package-lock.json,
#      which tools/setup.sh installs into this folder's node_modules
#      (npm ci from the npm registry; nothing is fetched at test time).
# Under Bazel: bazel test //tests/third_party_client:chatbot_handoff_test
# By hand, from the repository root, after bazel build //sidecar:routingd:
#   ROUTINGD=bazel-bin/sidecar/routingd tests/third_party_client/chatbot_handoff_test.sh
set -euo pipefail

if [ -n "${TEST_SRCDIR:-}" ]; then
  runfiles=${TEST_SRCDIR}/${TEST_WORKSPACE}
  here=$runfiles/tests/third_party_client
  schema=$runfiles/${1:?usage: chatbot_handoff_test.sh SCHEMA FLATC}
  flatc=$runfiles/${2:?usage: chatbot_handoff_test.sh SCHEMA FLATC}
  ROUTINGD=${ROUTINGD:-$runfiles/sidecar/routingd}
else
  here=$(cd "$(dirname "$0")" && pwd)
  schema=${SCHEMA:-$here/../../sidecar/routing.fbs}
  flatc=${FLATC:-flatc}
  : "${ROUTINGD:?set ROUTINGD to the routingd binary (bazel-bin/sidecar/routingd)}"
  ROUTINGD=$(readlink -f "$ROUTINGD")
fi
export ROUTINGD

# node_modules is not in the runfiles (it is installed, not committed): it
# sits beside the real package.json.
source_dir=$(dirname "$(readlink -f "$here/package.json")")
modules=$source_dir/node_modules
command -v node >/dev/null 2>&1 || {
  echo "chatbot_handoff_test: node is not installed; run tools/setup.sh" >&2
  exit 1
}
# The installed packages must be the locked ones.
node -e '
  const fs = require("fs");
  const [lockPath, modules] = process.argv.slice(1);
  const lock = JSON.parse(fs.readFileSync(lockPath, "utf8"));
  const stale = [];
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (!where.startsWith("node_modules/")) continue;
    const manifest = `${modules}/${where.slice("node_modules/".length)}/package.json`;
    let version = "missing";
    try { version = JSON.parse(fs.readFileSync(manifest, "utf8")).version; } catch {}
    if (version !== entry.version) stale.push(`${where} ${version} (locked ${entry.version})`);
  }
  if (stale.length) {
    console.error(`chatbot_handoff_test: ${modules} does not hold package-lock.json: ` +
                  `${stale.join(", ")}; run tools/setup.sh`);
    process.exit(1);
  }' "$here/package-lock.json" "$modules"

work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/third-party-client.XXXXXX")
[ -n "${TEST_TMPDIR:-}" ] || trap 'rm -rf "$work"' EXIT
ln -s "$modules" "$work/node_modules"
cp "$here/routing_client.js" "$here/chatbot_handoff_test.js" "$work/"
"$flatc" --ts -o "$work/wire-ts" "$schema"
(cd "$work" && node node_modules/typescript/bin/tsc --strict --target es2020 \
   --module commonjs --moduleResolution node --rootDir wire-ts --outDir wire \
   $(find wire-ts -name '*.ts'))
cd "$work"
# By hand, the daemons' logs go to the scratch directory too, removed on exit.
TEST_TMPDIR=${TEST_TMPDIR:-$work} node chatbot_handoff_test.js
