#!/usr/bin/env python3
"""Counts test cases from Bazel's per-target test.xml files.

Usage: test_summary.py TESTLOGS_DIR TARGET...

Prints one line per failed test case, then 'passed failed' as two integers on
the last line. A target with no test.xml (it failed to build, or timed out
before writing one) counts as one failed case, so nothing is silently lost.
"""
import os
import sys
import xml.etree.ElementTree as ET


def target_dir(testlogs, target):
    package, _, name = target.lstrip("/").partition(":")
    return os.path.join(testlogs, package, name)


def count(testlogs, targets):
    passed = failed = 0
    for target in targets:
        path = os.path.join(target_dir(testlogs, target), "test.xml")
        if not os.path.exists(path):
            print(f"FAILED {target}: no test results (build failure or crash)")
            failed += 1
            continue
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            print(f"FAILED {target}: unreadable test.xml ({e})")
            failed += 1
            continue
        cases = list(root.iter("testcase"))
        if not cases:
            print(f"FAILED {target}: ran no test case")
            failed += 1
            continue
        for case in cases:
            if case.get("status") == "notrun" or case.find("skipped") is not None:
                continue
            if case.find("failure") is not None or case.find("error") is not None:
                print(f"FAILED {target}: {case.get('classname')}.{case.get('name')}")
                failed += 1
            else:
                passed += 1
    return passed, failed


def main():
    if len(sys.argv) < 2:
        print("usage: test_summary.py TESTLOGS_DIR TARGET...", file=sys.stderr)
        return 2
    passed, failed = count(sys.argv[1], sys.argv[2:])
    print(passed, failed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
