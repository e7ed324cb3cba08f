#!/usr/bin/env bash
# Installs everything the engine needs to build, run and test on Debian 12, from
# Debian's own packages only. Idempotent and quiet: prints nothing when all is
# already installed, and a one-line reason on failure.
set -euo pipefail

packages=(
  bazel-bootstrap        # Bazel 4.2.3; the workspace is wired for it offline
  g++                    # GCC 12, C++20
  make                   # bindings/c: builds LuaJIT from third_party/luajit_src with its Makefile
  libabsl-dev            # Abseil 20220623
  libgtest-dev libgmock-dev
  libbenchmark-dev       # Google Benchmark 1.7.1
  libflatbuffers-dev flatbuffers-compiler
  libluajit-5.1-dev
  liblua5.4-dev          # Lua 5.4: the rules benchmark's C API baseline
  libzmq3-dev cppzmq-dev
  libisal-dev            # journal: CRC32C of every record (Intel ISA-L)
  python3
  pkg-config             # builds C programs against the installed librouting (bindings/c)
  python3-zmq            # sidecar: Python client package and its tests
  python3-flatbuffers    # sidecar: runtime for the flatc-generated Python code
  clang                  # sidecar: builds the libFuzzer request-decoder target
  libclang-rt-14-dev     # sidecar: libFuzzer and sanitizer runtimes for clang 14
  gnuplot-nox            # bench: the simulator's and the benchmarks' PNG charts
  liburcu-dev            # bench/reclamation: userspace RCU 0.13, weighed against routing's epochs
  nlohmann-json3-dev     # JSON of routingd's HTTP endpoints and the simulator's report
  libcivetweb-dev        # routingd --http: embedded HTTP server (metrics, supervisor view)
  prometheus             # tests: promtool check metrics, and a real server scraping routingd
  chromium               # tests: the supervisor view in headless Chromium, and its screenshot
  fonts-dejavu-core      # tests: a font for Chromium's screenshots of the supervisor view
  python3-websocket      # tests: drives headless Chromium over its DevTools protocol
  kamailio               # integrations/kamailio: the SIP proxy that routes calls through routingd
  kamailio-python3-modules  # integrations/kamailio: app_python3, the glue's host
  sip-tester             # integrations/kamailio: SIPp plays the agents and the callers in its test
  tcpdump                # bench/telephony: call setup times from a loopback capture
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
# tests/third_party_client: Node.js and npm run the JavaScript client's test.
# Debian's (Node 18, npm 9) unless the machine has them already, perhaps from
# another source that bundles npm with node (Debian's npm would conflict).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -ne 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
      echo "setup: need root to install: ${missing[*]}" >&2; exit 1
    fi
  else
    SUDO=
  fi

  log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  if ! { $SUDO apt-get update -qq && \
         $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "setup: apt-get could not install: ${missing[*]} (log above)" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi

# tests/third_party_client: the npm packages its package-lock.json pins
# (zeromq with its prebuilt addon, flatbuffers, typescript), from the npm
# registry into its node_modules, once per change of the lock file. Nothing
# else is downloaded: zeromq's addon ships inside its package.
client_dir=$(cd "$(dirname "$0")/.." && pwd)/tests/third_party_client
installed_lock=$client_dir/node_modules/.setup-package-lock.json
if ! cmp -s "$client_dir/package-lock.json" "$installed_lock"; then
  log=$(mktemp)
  if ! (cd "$client_dir" && npm ci --include=dev --prefer-offline --no-audit \
          --no-fund) >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "setup: npm ci failed in tests/third_party_client (log above)" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  cp "$client_dir/package-lock.json" "$installed_lock"
fi
