"""Offline stand-in for rules_cc: the native C++ rules under their rules_cc names.

Bazel 4's built-in @bazel_tools packages load these names from @rules_cc. The real
rules_cc of that era is itself a thin wrapper around the native rules, so
re-exporting them changes nothing about how C++ is built.
"""

cc_binary = native.cc_binary
cc_import = native.cc_import
cc_library = native.cc_library
cc_proto_library = native.cc_proto_library
cc_shared_library = getattr(native, "cc_shared_library", None)
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
fdo_prefetch_hints = native.fdo_prefetch_hints
fdo_profile = native.fdo_profile
objc_import = native.objc_import
objc_library = native.objc_library
