#!/usr/bin/env python3
"""Writes the seed corpus of sidecar/fuzz/request_sequence_fuzzer.cc.

Usage: sidecar/fuzz/make_sequence_corpus.py [OUT_DIR]
(default: sidecar/fuzz/sequence_corpus next to this script). Each seed is a
sequence of steps in the fuzzer's encoding (see the fuzzer's header comment):
agents joining and becoming available, contacts routed, queued, requeued,
released and cancelled, keyed requests retried, and a few refusals.
"""
import os
import sys

ADD, UPDATE, REMOVE, STATE, ROUTE, REQUEUE, CANCEL, RELEASE = range(8)
ADVANCE, CLOCK, READ, RAW, AGAIN = 8, 9, 10, 11, 12
ACCEPT, REJECT, FLIP = 13, 14, 15
AVAILABLE, BUSY, BREAK, INVALID_STATE = 1, 2, 4, 5
CHAT, VOICE = 1, 0


def keyed(op, key):
    return op | 0x10 | (key << 5)


def agent(op, index, skills=0b111, voice=1, chat=2, max_total=0):
    return [op, index, skills, voice, chat, max_total]


def contact(op, index, channel=CHAT, priority=0, skill=0, queue=0):
    return [op, index, channel | (priority << 1), skill, queue]


SEEDS = {
    "roster_and_queue": (
        agent(ADD, 0) + [STATE, 0, AVAILABLE] + agent(ADD, 1, chat=1) +
        [STATE, 1, AVAILABLE] + contact(ROUTE, 0) + contact(ROUTE, 1) +
        contact(ROUTE, 2) + contact(ROUTE, 3) + contact(ROUTE, 4) +
        [READ, 2, 0, 8, RELEASE, 0, 1, ADVANCE, 5, CANCEL, 4, READ, 0, 3]),
    "keyed_retries": (
        [keyed(ADD, 0), 0, 0b001, 0, 3, 0, AGAIN] +
        [keyed(STATE, 1), 0, AVAILABLE, AGAIN] +
        [keyed(ROUTE, 2)] + [0, CHAT, 0, 0] + [AGAIN, AGAIN] +
        [keyed(ROUTE, 2)] + [1, CHAT, 0, 0] +          # same key, other body
        [keyed(ROUTE, 3)] + [5, CHAT, 1, 0] + [AGAIN] +  # unknown skill
        [keyed(READ, 0), 0, 1]),                        # a key on GetStats
    "requeue_and_capacity": (
        agent(ADD, 2, skills=0b011, voice=1, chat=3, max_total=2) +
        [STATE, 2, AVAILABLE] + contact(ROUTE, 0, priority=3) +
        contact(ROUTE, 1, channel=VOICE) + contact(ROUTE, 2) +
        agent(UPDATE, 2, skills=0b011, voice=0, chat=1, max_total=1) +
        contact(REQUEUE, 0, skill=1, queue=1) + [REMOVE, 2] +
        [RELEASE, 1, 0x80 | (3 << 3) | 1, RELEASE, 0, 0x80] +
        [STATE, 2, BREAK, ADVANCE, 30, STATE, 2, AVAILABLE, READ, 1]),
    "refusals": (
        [STATE, 3, AVAILABLE] + agent(ADD, 3, voice=0, chat=0) +
        agent(ADD, 3) + agent(ADD, 3) + [STATE, 3, INVALID_STATE] +
        contact(ROUTE, 5, skill=250) + [CANCEL, 5, RELEASE, 5, 2] +
        [RAW, 8, 1, 2, 3, 4, 5, 6, 7, 8] + contact(ROUTE, 5) +
        [FLIP, 9, 3, FLIP, 20, 7, CLOCK, 200, READ, 4]),
    # Chats are offers: accepted, rejected (by whoever, or the wrong agent),
    # left to lapse, cancelled while offered, retried with a key.
    "offers": (
        agent(ADD, 0) + [STATE, 0, AVAILABLE] + agent(ADD, 1, chat=1) +
        [STATE, 1, AVAILABLE] + contact(ROUTE, 0) + contact(ROUTE, 1) +
        contact(ROUTE, 2) + contact(ROUTE, 3) +
        [ACCEPT, 0, 0, REJECT, 1, 200, 1, REJECT, 1, 0] +
        [keyed(ACCEPT, 1), 2, 0, AGAIN, ADVANCE, 3, STATE, 0, AVAILABLE] +
        [CANCEL, 3, RELEASE, 0, 1, RELEASE, 2, 0, ADVANCE, 3, READ, 0, 1]),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "sequence_corpus")
    os.makedirs(out, exist_ok=True)
    for name, steps in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(steps))
    print(f"{len(SEEDS)} seeds written to {out}")


if __name__ == "__main__":
    main()
