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
// same file (an alias must be defined beside its target). Programs linked
// statically against //bindings/c:routing_c see routing_x as usual.
#ifndef ROUTING_BINDINGS_C_ROUTING_1_COMPAT_H_
#define ROUTING_BINDINGS_C_ROUTING_1_COMPAT_H_

#define ROUTING_FIRST_RELEASE(function)                                    \
  extern "C" decltype(function) function##_routing_1                       \
      __attribute__((alias(#function)));                                   \
  __asm__(".symver " #function "_routing_1, " #function "@ROUTING_1");     \
  __asm__(".symver " #function ", " #function "@@ROUTING_1.0, remove")

#endif  // ROUTING_BINDINGS_C_ROUTING_1_COMPAT_H_
