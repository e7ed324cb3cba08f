#!/usr/bin/env bash
# The dynamic symbols and dependencies of a built librouting.so.1:
#  - soname librouting.so.1;
#  - its exports are exactly bindings/c/librouting.abi (symbol@@VERSION):
#    a symbol removed, added without being listed, or moved to another
#    version node fails with the difference;
#  - the version nodes are ROUTING_1 (the first release's single node),
#    ROUTING_1.0, ROUTING_1.1, ..., each inheriting the one before, and each
#    is used by the list; every 1.0 function also answers at ROUTING_1, and
#    nothing else does;
#  - a program linked against a first-release library (one node, ROUTING_1)
#    loads against this one and calls it;
#  - every function routing.h declares is exported, and nothing else;
#  - no Lua symbol, defined or undefined (LuaJIT is linked in and hidden, so
#    nothing binds to a host's Lua), no NEEDED Lua, ZeroMQ or FlatBuffers;
#  - every other import comes from libc, libm, libstdc++ or libgcc_s
#    (versioned), or from Debian's Abseil (its absl::debian3 namespace);
#  - with --self-contained: no Abseil import either, and NEEDED only the C
#    and C++ runtime libraries.
# Sanitizer builds may also import their runtime (__asan_*, ...).
#
# Usage: librouting_symbols_test.sh LIBRARY ABI_LIST HEADER ABI_LIST_TOOL
#          [--self-contained]
set -euo pipefail
export LC_ALL=C

[ $# -ge 4 ] || { echo "usage: $0 LIBRARY ABI_LIST HEADER ABI_LIST_TOOL [--self-contained]" >&2; exit 2; }
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
lib=$(absolute "$1") abi=$(absolute "$2") header=$(absolute "$3") abi_list=$(absolute "$4")
self_contained=0
[ "${5:-}" = "--self-contained" ] && self_contained=1
cd "${TEST_TMPDIR:-$(mktemp -d)}"

failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }
show() { sed 's/^/  /' "$1" >&2; }

readelf -d "$lib" >dynamic
readelf --dyn-syms -W "$lib" >dynsyms
readelf -V -W "$lib" >versions

soname=$(sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p' dynamic)
[ "$soname" = "librouting.so.1" ] || fail "soname is '$soname', expected librouting.so.1"

# The exports against the committed list.
"$abi_list" "$lib" >exported
grep -v -e '^#' -e '^$' "$abi" >expected
if ! diff expected exported >difference; then
  fail "the exports differ from $(basename "$abi") (< listed there, > in the library):"
  show difference
  grep '^>' difference | grep -q -v '@@' &&
    echo "  (a symbol without @@VERSION is exported outside every version node)" >&2
  echo "  If the change is intended (a function added in a new minor version's node of" >&2
  echo "  routing.lds), regenerate the list: bazel run //bindings/c:update_abi_list" >&2
fi

# Version nodes: defined (absolute symbols named after them), used by the list,
# and chained ROUTING_1.1 -> ROUTING_1.0, ...
awk '$1 ~ /^[0-9]+:$/ && $7 == "ABS" && $8 !~ /@/ { print $8 }' dynsyms | sort -u >nodes_defined
sed -n 's/.*@@\{0,1\}\(ROUTING_.*\)$/\1/p' expected | sort -u >nodes_listed
if ! diff nodes_listed nodes_defined >node_difference; then
  fail "version nodes used by the list (<) and defined by the library (>) differ:"
  show node_difference
fi
grep -v -E '^ROUTING_1(\.[0-9]+)?$' nodes_defined >odd_nodes || true
[ -s odd_nodes ] && fail "version nodes not named ROUTING_1.<minor>: $(tr '\n' ' ' <odd_nodes)"
parent_of() {
  awk -v node="$1" '$0 ~ "Name: " node "$" { found = 1; next }
                    found && /Parent 1:/ { print $NF } { found = 0 }' versions
}
[ -z "$(parent_of ROUTING_1)" ] || fail "ROUTING_1 inherits $(parent_of ROUTING_1); it is the first node"
while read -r node; do
  minor=${node#ROUTING_1.}
  [[ "$minor" =~ ^[0-9]+$ ]] || continue
  parent=$(parent_of "$node")
  if [ "$minor" -eq 0 ]; then
    [ "$parent" = "ROUTING_1" ] || fail "ROUTING_1.0 inherits '${parent:-nothing}', expected ROUTING_1"
  else
    [ "$parent" = "ROUTING_1.$((minor - 1))" ] ||
      fail "$node inherits '${parent:-nothing}', expected ROUTING_1.$((minor - 1))"
  fi
done <nodes_defined

# The first release's node: exactly the 1.0 functions answer there.
sed -n 's/@@ROUTING_1\.0$//p' exported | sort >functions_1_0
sed -n 's/@ROUTING_1$//p' exported | sort >functions_1
if ! diff functions_1_0 functions_1 >compat_difference; then
  fail "1.0 functions (<) and those answering at ROUTING_1 (>) differ:"
  show compat_difference
fi

# A program linked against a first-release library runs against this one:
# a stand-in built here with that release's single node, same soname.
if command -v cc >/dev/null; then
  mkdir -p first_release
  printf 'ROUTING_1 { global: routing_abi_version; routing_engine_create; routing_engine_destroy; local: *; };\n' \
    >first_release/routing.lds
  printf 'int routing_abi_version(void) { return 10000; }\nint routing_engine_create(const void* o, void** e) { return 0; }\nint routing_engine_destroy(void* e) { return 0; }\n' \
    >first_release/stand_in.c
  cat >old_program.c <<'PROGRAM'
#include <stdio.h>
int routing_abi_version(void);
int routing_engine_create(const void* options, void** engine);
int routing_engine_destroy(void* engine);
int main(void) {
  void* engine = 0;
  int created = routing_engine_create(0, &engine);
  printf("abi %d create %d destroy %d\n", routing_abi_version(), created,
         engine != 0 ? routing_engine_destroy(engine) : -1);
  return created == 0 && engine != 0 ? 0 : 1;
}
PROGRAM
  sanitize=()
  # A sanitizer build of the library needs its runtime in the program too.
  grep -q '\[libasan' dynamic && sanitize+=(-fsanitize=address)
  grep -q '\[libubsan' dynamic && sanitize+=(-fsanitize=undefined)
  grep -q '\[libtsan' dynamic && sanitize+=(-fsanitize=thread)
  cc -shared -fPIC -Wl,-soname,librouting.so.1 \
    -Wl,--version-script=first_release/routing.lds \
    -o first_release/librouting.so.1 first_release/stand_in.c
  cc "${sanitize[@]}" -o old_program old_program.c -Lfirst_release \
    -l:librouting.so.1
  readelf -V -W old_program | grep -q 'Name: ROUTING_1 ' ||
    fail "the stand-in program does not ask for ROUTING_1"
  if LD_LIBRARY_PATH="$(dirname "$lib")" ./old_program >old_program.log 2>&1; then
    echo "first-release program against this library: $(cat old_program.log)"
  else
    fail "a program linked against the first release does not run against this library:"
    show old_program.log
  fi
fi

# Every function the header declares is exported, and nothing else.
tr '\n' ' ' <"$header" | grep -o 'ROUTING_EXPORT [^(]*(' |
  sed -E 's/.*[ *](routing_[a-z0-9_]+)\($/\1/' | grep -E '^routing_[a-z0-9_]+$' | sort -u >declared
sed 's/@.*//' exported | sort -u >exported_names
if ! diff declared exported_names >declared_difference; then
  fail "routing.h declares (<) and the library exports (>) different functions:"
  show declared_difference
  echo "  (a new function goes into routing.lds, in the node of the coming minor version)" >&2
fi
[ "$(wc -l <declared)" -gt 80 ] || fail "found only $(wc -l <declared) declarations in routing.h"

# No Lua anywhere in the dynamic symbol table or the dependencies.
awk '$1 ~ /^[0-9]+:$/ { print $7, $8 }' dynsyms >all_symbols
grep -E ' (lua|luaL|luaJIT|luaopen)_' all_symbols >lua_symbols || true
if [ -s lua_symbols ]; then
  fail "Lua symbols in the dynamic symbol table (UND: imported, else exported):"
  show lua_symbols
fi
sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' dynamic >needed
grep -E '^lib(lua|luajit|zmq|flatbuffers)' needed >bad_needed || true
[ -s bad_needed ] && fail "NEEDED: $(tr '\n' ' ' <bad_needed)"

# Imports: the C and C++ runtimes (versioned), Debian's Abseil, the weak
# hooks every GCC shared object has, a sanitizer's runtime.
awk '$1 ~ /^[0-9]+:$/ && $7 == "UND" && $8 != "" { print $8 }' dynsyms >imported
allowed='@(GLIBC|GLIBCXX|CXXABI|GCC)_[0-9.]+$|^(__gmon_start__|_ITM_registerTMCloneTable|_ITM_deregisterTMCloneTable)$|^__(asan|ubsan|lsan|tsan|sanitizer)_'
[ $self_contained -eq 1 ] || allowed="$allowed|4absl7debian3"
grep -v -E "$allowed" imported >foreign_imports || true
# A sanitizer build binds what its runtime intercepts (malloc, strlen,
# operator delete...) to that runtime, unversioned.
: >sanitizer_symbols
for runtime in $(grep -E '^lib(asan|ubsan|tsan)\.so' needed || true); do
  path=$(ldd "$lib" | awk -v runtime="$runtime" '$1 == runtime { print $3 }')
  [ -n "$path" ] || { fail "cannot find $runtime"; continue; }
  nm -D --defined-only "$path" | awk '{ print $3 }' | sed 's/@.*//' >>sanitizer_symbols
done
if [ -s sanitizer_symbols ]; then
  grep -v -x -F -f sanitizer_symbols foreign_imports >not_intercepted || true
  mv not_intercepted foreign_imports
fi
if [ -s foreign_imports ]; then
  fail "imports that could bind to another library in the host process:"
  show foreign_imports
fi

runtime='^(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|libpthread\.so\.0|libdl\.so\.2|libasan\.so\.[0-9]+|libubsan\.so\.[0-9]+|libtsan\.so\.[0-9]+)$'
[ $self_contained -eq 1 ] || runtime="$runtime|^libabsl_[a-z0-9_]+\.so\.20220623$"
grep -v -E "$runtime" needed >other_needed || true
if [ -s other_needed ]; then
  fail "NEEDED beyond the $([ $self_contained -eq 1 ] && echo "C and C++ runtimes" || echo "runtimes and Debian's Abseil"):"
  show other_needed
fi

echo "NEEDED: $(tr '\n' ' ' <needed)"
if [ $failed -eq 0 ]; then
  echo "PASS: $(wc -l <exported) versioned functions in $(wc -l <nodes_defined) nodes, as listed; $(wc -l <imported) imports, none of them Lua"
fi
exit $failed
