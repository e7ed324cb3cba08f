#!/usr/bin/python3
"""Call-setup times of one SIPp run, for bench/telephony/call_setup_compare.sh.

Two measures of the same thing, INVITE sent by the caller to the 180 Ringing
it receives, per call:

  - from a packet capture of the proxy's port on loopback (tcpdump -w,
    kernel timestamps, 1 us): the first INVITE from the caller's port to the
    proxy and the first 180 back, matched by Call-ID. This is the figure the
    comparison quotes. The same capture splits it: the proxy's INVITE in to
    INVITE out (the routing step is here), the agent phone's INVITE to 180,
    and the proxy's 180 in to 180 out; for calls that queued (182), the BYE
    that freed an agent to the queued call's INVITE relayed to it (resume);
  - SIPp's own response-time measure 1 (-trace_rtt, one value per call).
    SIPp reads a coarse clock (4 ms steps on this kernel), so it can tell
    2 ms from 10 ms but not 0.3 ms from 1 ms; it is printed as a check.

Usage: call_setup_stats.py --pcap FILE --caller_port N --proxy_port N
           [--rtt SIPP_RTT_CSV] [--label TEXT] [--extra JSON]
Prints one JSON object: calls matched, p50/p90/p99/max in ms from the
capture (and p50/p99/max of each part), SIPp's p50/p99, and the fields of --extra.
"""

import argparse
import json
import struct
import sys

_LINKTYPE_ETHERNET = 1  # Linux's loopback device captures with this header
_LINKTYPE_LINUX_SLL = 113


def percentile(sorted_values, q):
    """Nearest-rank percentile (q in 0..100) of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil
    return sorted_values[int(rank) - 1]


def udp_payloads(path):
    """Yields (time_s, src_port, dst_port, payload) for IPv4 UDP packets."""
    with open(path, "rb") as f:
        header = f.read(24)
        if len(header) < 24:
            return
        magic = struct.unpack("<I", header[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        else:
            endian = ">"
            magic = struct.unpack(">I", header[:4])[0]
        nano = magic == 0xA1B23C4D
        linktype = struct.unpack(endian + "I", header[20:24])[0]
        link_len = {_LINKTYPE_ETHERNET: 14, _LINKTYPE_LINUX_SLL: 16}.get(linktype)
        if link_len is None:
            sys.exit(f"call_setup_stats: link type {linktype} in {path} is not handled")
        while True:
            record = f.read(16)
            if len(record) < 16:
                return
            sec, frac, incl, _ = struct.unpack(endian + "IIII", record)
            data = f.read(incl)
            ip = data[link_len:]
            if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
                continue
            ihl = (ip[0] & 0x0F) * 4
            src, dst = struct.unpack("!HH", ip[ihl:ihl + 4])
            yield sec + frac / (1e9 if nano else 1e6), src, dst, ip[ihl + 8:]


def call_id(payload):
    for line in payload.split(b"\r\n"):
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"call-id", b"i"):
            return value.strip()
    return None


def capture_times(path, caller_port, proxy_port):
    """Per call, in ms: the caller's INVITE to its 180 (call setup), and the
    proxy's part of it: the caller's INVITE in to the INVITE out to the agent
    (where the routing step sits), and the agent's 180 in to the 180 out."""
    first = {}  # (what, call-id) -> first time seen
    agent_of = {}  # call-id -> the R-URI user of the INVITE relayed to a phone
    relayed = []  # (time, agent, call-id) of every INVITE relayed to a phone
    byes = []  # (time, call-id) of the callers' BYEs
    queued = set()  # call-ids that got 182 Queued
    for t, src, dst, payload in udp_payloads(path):
        if payload.startswith(b"INVITE ") and src == proxy_port:
            agent = payload.split(b" ", 2)[1].split(b"@")[0].replace(b"sip:", b"")
            agent_of.setdefault(call_id(payload), agent)
            relayed.append((t, agent, call_id(payload)))
        elif payload.startswith(b"BYE ") and src == caller_port:
            byes.append((t, call_id(payload)))
        elif payload.startswith(b"SIP/2.0 182") and dst == caller_port:
            queued.add(call_id(payload))
        if payload.startswith(b"INVITE "):
            what = "invite_in" if src == caller_port else "invite_out" if src == proxy_port else None
        elif payload.startswith(b"SIP/2.0 180"):
            what = "ring_out" if dst == caller_port else "ring_in" if dst == proxy_port else None
        else:
            continue
        if what:
            first.setdefault((what, call_id(payload)), t)
    calls = {c for what, c in first if what == "invite_in"}

    def spans(start, end):
        return sorted((first[(end, c)] - first[(start, c)]) * 1e3
                      for c in calls if (start, c) in first and (end, c) in first)
    # A queued call's resumption: the BYE that freed an agent (in at the
    # proxy, which releases the contact before relaying it) to the next INVITE
    # relayed to that agent, when that INVITE is a queued call's: routingd's
    # assignment, its event, the rtimer tick and t_continue.
    resume = []
    for t_bye, cid in byes:
        agent = agent_of.get(cid)
        nxt = next(((t, c) for t, a, c in relayed if a == agent and t > t_bye), None)
        if nxt and nxt[1] in queued:
            resume.append((nxt[0] - t_bye) * 1e3)
    return {"resume": sorted(resume), "queued": len(queued & calls),
            "setup": spans("invite_in", "ring_out"),
            "proxy_invite": spans("invite_in", "invite_out"),
            "agent_180": spans("invite_out", "ring_in"),
            "proxy_180": spans("ring_in", "ring_out")}, len(calls)


def sipp_rtt(path):
    values = []
    with open(path) as f:
        next(f, None)  # Date_ms;response_time_ms;rtd_no
        for line in f:
            parts = line.strip().split(";")
            if len(parts) >= 3 and parts[2] == "1":
                values.append(float(parts[1]))
    return sorted(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pcap", required=True)
    parser.add_argument("--caller_port", type=int, required=True)
    parser.add_argument("--proxy_port", type=int, required=True)
    parser.add_argument("--rtt", help="SIPp's -trace_rtt file")
    parser.add_argument("--label", default="")
    parser.add_argument("--extra", default="{}", help="JSON object merged into the output")
    args = parser.parse_args()

    spans, invited = capture_times(args.pcap, args.caller_port, args.proxy_port)
    out = {"label": args.label, "invites": invited, "ringing": len(spans["setup"])}
    out["queued"] = spans.pop("queued")
    for span, prefix in (("resume", "resume_"), ("setup", ""), ("proxy_invite", "proxy_invite_"),
                         ("agent_180", "agent_180_"), ("proxy_180", "proxy_180_")):
        for name, q in (("p50_ms", 50), ("p90_ms", 90), ("p99_ms", 99), ("max_ms", 100)):
            if prefix and name == "p90_ms":
                continue
            value = percentile(spans[span], q)
            out[prefix + name] = None if value is None else round(value, 3)
    if args.rtt:
        rtt = sipp_rtt(args.rtt)
        out["sipp_calls"] = len(rtt)
        out["sipp_p50_ms"] = percentile(rtt, 50)
        out["sipp_p99_ms"] = percentile(rtt, 99)
    out.update(json.loads(args.extra))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
