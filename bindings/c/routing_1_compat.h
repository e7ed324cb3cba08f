// File: bindings/c/routing_1_compat.h
//
// Symbol versions of the functions of the first release (internal to
// //bindings/c). librouting.so.1 first exported them under one version node,
// ROUTING_1; since 1.1 each minor version has its node (ROUTING_1.0,
// ROUTING_1.1, ..., see routing.lds). A program linked against the first
// release records `routing_x@ROUTING_1` and must keep loading, so each 1.0
// function is exported twice, at the same address:
//   routing_x@@ROUTING_1.0   the default, what new programs link to;
//   routing_x@ROUTING_1      what programs linked before 1.1 ask for.
// ROUTING_FIRST_RELEASE(routing_x) goes after routing_x's definition, in the
// same file (an alias must be defined beside its target). Only the build of
// librouting.so.1 (//bindings/c:routing_c_versioned, which defines
// ROUTING_SYMBOL_VERSIONS) versions them: its link has the nodes
// (routing.lds). Elsewhere (//bindings/c:routing_c, linked into programs and
// tests) the macro does nothing.
#ifndef ROUTING_BINDINGS_C_ROUTING_1_COMPAT_H_
#define ROUTING_BINDINGS_C_ROUTING_1_COMPAT_H_

#ifndef ROUTING_SYMBOL_VERSIONS
#define ROUTING_FIRST_RELEASE(function) static_assert(true, "")
#else
#define ROUTING_FIRST_RELEASE(function)                                    \
  extern "C" decltype(function) function##_routing_1                       \
      __attribute__((alias(#function)));                                   \
  __asm__(".symver " #function "_routing_1, " #function "@ROUTING_1");     \
  __asm__(".symver " #function ", " #function "@@ROUTING_1.0, remove")
#endif

#endif  // ROUTING_BINDINGS_C_ROUTING_1_COMPAT_H_
