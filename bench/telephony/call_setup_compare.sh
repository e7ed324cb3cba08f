#!/usr/bin/env bash
# Call setup through Kamailio with and without the routing step, in one run:
#   plain    bench/telephony/kamailio_plain.cfg: every INVITE forwarded to one
#            fixed registered agent (registrar + usrloc + tm, no routing);
#   routing  the integration's config (integrations/kamailio/): routingd asked
#            for an agent through the Python sidecar client from app_python3,
#            the call forwarded to that agent's registered contact. Agents are
#            free, so every call is assigned at once.
#   routing_native  the same, the glue's calls through NativeClient (the C++
#            client over ctypes) instead of the pure-Python Client;
#   routing_timed, routing_queued (bench/telephony/routing_variant.sh): the
#            glue's route_call timed inside Kamailio; only QUEUED_AGENTS
#            agents (4) registered, so calls queue and the capture times
#            their resumption (the freeing BYE to the queued INVITE relayed).
# Call setup is the time from the INVITE the caller (SIPp, uac_call.xml) sends
# to the 180 Ringing it receives; the agents' phones (SIPp, uas_agent.xml)
# send 180 at once. It is read from a packet capture on loopback (tcpdump,
# kernel timestamps) per call, p50 and p99; SIPp's own response time
# (-trace_rtt) is printed beside it, but its clock moves in 4 ms steps.
#
#   1. ROUNDS rounds (default 3), alternating plain and routing, CALLS calls
#      (default 500) at RATE calls/s (default 50) each, a fresh Kamailio (and
#      routingd) for every measurement; medians over the rounds.
#   2. Sustained rate: for each rate of RAMP (calls/s), RAMP_SECONDS of calls,
#      plain then routing; a rate is carried when every call completed, no
#      message was retransmitted and every INVITE got its 180. The ramp of a
#      variant stops at its first rate that fails.
#   3. With routing among the variants (GLUE_COST=0 to skip): the glue's
#      RouteContact outside Kamailio, split into encode, wire and decode
#      (glue_client_cost.py, 2000 calls at RATE, from KAMAILIO_CPU).
#
# Placement on the 2 cores (taskset): Kamailio, every process of it (and so
# the Python glue, which runs inside its SIP workers and its timer process), on
# KAMAILIO_CPU (default 0); routingd (--worker_cpus/--io_cpus), the SIPp
# caller, the SIPp agents and tcpdump on OTHER_CPU (default 1). Every one of
# them runs under PRIO (default "chrt -f 1": real-time priority 1, so that
# builds or tests sharing the machine do not queue ahead of the calls; both
# variants alike; PRIO= for normal scheduling). Where taskset or PRIO is
# refused (a container without CAP_SYS_NICE, fewer cores), the script says so
# on stderr and runs without it.
# Everything listens on 127.0.0.1 at ports picked free at run time; every
# process is started here and stopped by its PID; files go to a temp dir
# under $TEST_TMPDIR, else $TMPDIR, else /tmp (kept with KEEP=1).
# routingd and the Python client are built with bazel unless ROUTINGD_BIN
# (routingd) and ROUTING_SIDECAR_DIR (the routing_sidecar package's files,
# routing_generated.py included) name them (tests/bench/telephony does).
#
# Usage: bench/telephony/call_setup_compare.sh [ROUNDS]
#   env: RATE, CALLS, RAMP (default "100 200 400 800 1600"; empty: no ramp),
#        RAMP_SECONDS (5), VARIANTS ("plain routing"), CHILDREN (Kamailio UDP
#        workers, 4), AGENTS (registered agents for routing, 400:
#        more than RATE x call length, so no call queues), SHM_MB (Kamailio
#        shared memory, 256), HOLD_MS
#        (talk time, 100), RING_MS (180 to 200 at the agent, 20),
#        KAMAILIO_CPU, OTHER_CPU, PRIO, GLUE_COST, QUEUED_AGENTS, KEEP,
#        ROUTINGD_BIN, ROUTING_SIDECAR_DIR, ROUTINGD_WORKERS (the routing
#        variants' routingd --workers, 1; 0: requests run on its I/O thread)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "${1:-}" = "--help" ] && { sed -n '2,54p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
rounds=${1:-3}
rate=${RATE:-50}
calls=${CALLS:-500}
ramp=${RAMP-"100 200 400 800 1600"}
ramp_seconds=${RAMP_SECONDS:-5}
variants=${VARIANTS:-"plain routing"}
children=${CHILDREN:-4}
agents=${AGENTS:-400}
shm_mb=${SHM_MB:-256}
hold_ms=${HOLD_MS:-100}
ring_ms=${RING_MS:-20}
kamailio_cpu=${KAMAILIO_CPU:-0}
other_cpu=${OTHER_CPU:-1}
here=bench/telephony
prio=${PRIO-chrt -f 1}
root=$PWD

tool_path() {  # tool_path NAME: its path, on PATH or in /usr/sbin, /sbin
  command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } ||
    { [ -x "/sbin/$1" ] && echo "/sbin/$1"; } ||
    { echo "call_setup_compare: $1 not found (apt-get install kamailio sip-tester tcpdump)" >&2; return 1; }
}
kamailio_bin=$(tool_path kamailio)
sipp_bin=$(tool_path sipp)
tcpdump_bin=$(tool_path tcpdump)

# Placement and priority are wanted, not required: each is tried once and
# dropped, with a word on stderr, where it is refused.
pin_kamailio="taskset -c $kamailio_cpu"
pin_other="taskset -c $other_cpu"
if ! { command -v taskset >/dev/null && taskset -c "$kamailio_cpu" true 2>/dev/null &&
       taskset -c "$other_cpu" true 2>/dev/null; }; then
  echo "call_setup_compare: taskset -c $kamailio_cpu / -c $other_cpu refused or missing; processes not pinned" >&2
  pin_kamailio= pin_other=
fi
if [ -n "$prio" ] && ! $prio true 2>/dev/null; then
  echo "call_setup_compare: PRIO \"$prio\" refused; normal scheduling" >&2
  prio=
fi
# routingd places its own threads (--worker_cpus/--io_cpus) only where
# taskset could.
routingd_cpu_flags=()
[ -n "$pin_other" ] && routingd_cpu_flags=(--worker_cpus="$other_cpu" --io_cpus="$other_cpu")

work=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/call_setup.XXXXXX")
results="$work/results.jsonl"
: >"$results"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "call_setup_compare: files kept in $work" >&2
  else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start() {  # start LOG CMD...: runs CMD in the background, remembers its PID
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
}

stop() {  # stop PID...: SIGTERM to each (only processes started here), then wait
  local pid i
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Kamailio's main process, under a real-time PRIO, can spin on its own
  # adaptive locks while it shuts down (sched_yield never lets the
  # lower-priority holder run on that core). After 10 s it is put back to
  # normal scheduling, which lets it finish, and then killed if need be.
  for i in $(seq 100); do
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && break; done
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  for pid in "$@"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "call_setup_compare: PID $pid did not stop in 10 s; normal scheduling, then SIGKILL" >&2
      chrt -o -p 0 "$pid" 2>/dev/null || true
      sleep 1
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

free_ports() {  # free_ports N: N ports free for both UDP and TCP on 127.0.0.1
  /usr/bin/python3 - "$1" <<'PY'
import socket, sys
held, ports = [], []
while len(ports) < int(sys.argv[1]):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", port))
    except OSError:
        u.close(); t.close(); continue
    held += [u, t]; ports.append(port)
print(" ".join(map(str, ports)))
PY
}

wait_for_sip() {  # wait_for_sip PORT: until something answers an OPTIONS there
  /usr/bin/python3 - "$1" <<'PY' || { echo "call_setup_compare: nothing answers SIP on 127.0.0.1:$1" >&2; return 1; }
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(0.2)
me = s.getsockname()[1]
for i in range(50):
    msg = (f"OPTIONS sip:ping@127.0.0.1:{port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-ping{i}\r\n"
           f"From: <sip:ping@127.0.0.1:{me}>;tag=p{i}\r\nTo: <sip:ping@127.0.0.1:{port}>\r\n"
           f"Call-ID: ping{i}-{me}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    s.sendto(msg.encode(), ("127.0.0.1", port))
    try:
        if s.recv(4096).startswith(b"SIP/2.0"):
            sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
PY
}

# --- The variants: each start_<variant> sets proxy_port, service (the R-URI
# user the caller dials), agent_ids (the agents to register) and the PIDs to
# stop afterwards (variant_pids).
start_plain() {
  local ports; ports=$(free_ports 1)
  proxy_port=$ports
  service=billing
  agent_ids=agent1
  start "$work/$label.kamailio.log" $prio $pin_kamailio "$kamailio_bin" \
    -f "$here/kamailio_plain.cfg" -DD -E -l "udp:127.0.0.1:$proxy_port" \
    -n "$children" -Y "$work" -m "$shm_mb" -M 8 -A "FIXED_AGENT=\"agent1\""
  variant_pids=("$last_pid")
  wait_for_sip "$proxy_port"
}

# shellcheck source=/dev/null
[ -f "$here/routing_variant.sh" ] && . "$here/routing_variant.sh"
if ! declare -F start_routing >/dev/null; then
  start_routing() {
    echo "call_setup_compare: the routing variant is not wired yet ($here/routing_variant.sh)" >&2
    return 1
  }
fi

register_agents() {  # register_agents UAS_PORT: every id of $agent_ids at the agents' UAS
  local list="$work/$label.agents.csv" port
  { echo SEQUENTIAL; tr ' ' '\n' <<<"$agent_ids"; } >"$list"
  port=$(free_ports 1)
  $pin_other "$sipp_bin" "127.0.0.1:$proxy_port" -sf "$here/register.xml" -inf "$list" \
    -i 127.0.0.1 -p "$port" -m "$(wc -w <<<"$agent_ids")" -r 200 \
    -key agent_contact "127.0.0.1:$1" -key expires 3600 -nostdin -timeout 20s \
    >"$work/$label.register.log" 2>&1 ||
    { echo "call_setup_compare: registering agents failed ($work/$label.register.log)" >&2; return 1; }
}

measure() {  # measure VARIANT RATE CALLS KIND ROUND: one SIPp run; appends a JSON line
  local variant=$1 r=$2 n=$3 kind=$4 round=$5
  label="$kind-$variant-r$r-$round"
  local dir="$work/$label" ports uas_port caller_port capture_pid uas_pid rc=0
  mkdir -p "$dir"
  "start_$variant"
  ports=$(free_ports 2); uas_port=${ports% *}; caller_port=${ports#* }
  start "$dir/uas.log" $prio $pin_other "$sipp_bin" -sf "$root/$here/uas_agent.xml" \
    -i 127.0.0.1 -p "$uas_port" -d "$ring_ms" -nostdin -trace_stat -stf "$dir/uas_stat.csv" -fd 1
  uas_pid=$last_pid
  register_agents "$uas_port"
  sleep 0.5  # the glue logs the last agents in after their 200 OK
  start "$dir/tcpdump.log" $prio $pin_other "$tcpdump_bin" -i lo -n -U -Z root -B 16384 \
    --immediate-mode -s 2048 -w "$dir/calls.pcap" "udp and port $proxy_port"
  capture_pid=$last_pid
  for _ in $(seq 50); do
    grep -q "listening on" "$dir/tcpdump.log" && break
    kill -0 "$capture_pid" 2>/dev/null || break
    sleep 0.1
  done
  # The capture is the measure: without it there is nothing to report.
  if ! grep -q "listening on" "$dir/tcpdump.log" || ! kill -0 "$capture_pid" 2>/dev/null; then
    echo "call_setup_compare: tcpdump cannot capture on lo (root or CAP_NET_RAW needed): $(tr '\n' ' ' <"$dir/tcpdump.log")" >&2
    exit 1
  fi
  (cd "$dir" && $prio timeout -s INT $((n / r + 45)) $pin_other "$sipp_bin" "127.0.0.1:$proxy_port" \
    -sf "$root/$here/uac_call.xml" -s "$service" -i 127.0.0.1 -p "$caller_port" \
    -r "$r" -m "$n" -l $((r * 4 + 50)) -d "$hold_ms" -trace_rtt -rtt_freq 1 -trace_stat \
    -stf uac_stat.csv -fd 1 -trace_err -nostdin -timeout $((n / r + 30))s \
    >uac.log 2>&1) || rc=$?
  sleep 1  # the last packets reach the capture file
  stop "$capture_pid" "$uas_pid" "${variant_pids[@]}"
  [ -s "$dir/calls.pcap" ] ||
    { echo "call_setup_compare: tcpdump wrote no capture ($dir/tcpdump.log: $(tr '\n' ' ' <"$dir/tcpdump.log"))" >&2; exit 1; }
  /usr/bin/python3 "$here/call_setup_stats.py" --pcap "$dir/calls.pcap" \
    --caller_port "$caller_port" --proxy_port "$proxy_port" \
    --rtt "$(ls "$dir"/uac_call_*_rtt.csv 2>/dev/null | head -1)" --label "$label" \
    --extra "$(/usr/bin/python3 - "$dir" "$variant" "$r" "$n" "$kind" "$round" "$rc" <<'PY'
import csv, json, sys
d, variant, rate, calls, kind, rnd, rc = sys.argv[1:]
def last(path):
    try:
        rows = list(csv.DictReader(open(path), delimiter=";"))
        return rows[-1] if rows else {}
    except OSError:
        return {}
uac, uas = last(f"{d}/uac_stat.csv"), last(f"{d}/uas_stat.csv")
num = lambda row, k: int(float(row.get(k, 0) or 0))
out = {"variant": variant, "kind": kind, "round": int(rnd), "rate": int(rate),
       "calls": int(calls), "sipp_rc": int(rc),
       "successful": num(uac, "SuccessfulCall(C)"), "failed": num(uac, "FailedCall(C)"),
       "retransmissions": num(uac, "Retransmissions(C)") + num(uas, "Retransmissions(C)"),
       "achieved_cps": float(uac.get("CallRate(C)", 0) or 0)}
import glob
glue = [line.split() for path in glob.glob(f"{d}/glue_timing.*") for line in open(path)]
if glue:
    def pct(values, q):
        values = sorted(values)
        return values[max(0, -(-len(values) * q // 100) - 1)] / 1000
    for i, name in ((0, "glue_route_call"), (1, "glue_client_route")):
        vals = [int(row[i]) for row in glue]
        out[f"{name}_p50_ms"], out[f"{name}_p99_ms"] = pct(vals, 50), pct(vals, 99)
print(json.dumps(out))
PY
)" | tee -a "$results"
}

for round in $(seq 1 "$rounds"); do
  for variant in $variants; do
    measure "$variant" "$rate" "$calls" fixed "$round"
  done
done

# Where the glue's time goes, outside Kamailio: the same client call against a
# fresh routingd placed as above, from KAMAILIO_CPU (glue_client_cost.py).
if [[ " $variants " == *" routing"* ]] && [ "${GLUE_COST:-1}" = 1 ] &&
   declare -F prepare_routing >/dev/null; then
  prepare_routing
  label=glue-cost; mkdir -p "$work/$label"
  ports=$(free_ports 2)
  start "$work/$label/routingd.log" $prio $pin_other "$routingd_bin" \
    --listen="tcp://127.0.0.1:${ports% *}" --events="tcp://127.0.0.1:${ports#* }" --http= \
    --workers=1 "${routingd_cpu_flags[@]}" \
    --batch_io_thread="$([[ "$prio" == chrt* ]] && echo false || echo true)"
  cost_routingd=$last_pid
  sleep 0.3
  PYTHONPATH="$work/python" $prio $pin_kamailio /usr/bin/python3 \
    "$here/glue_client_cost.py" --server "tcp://127.0.0.1:${ports% *}" --calls 2000 \
    --rate "$rate" >"$work/glue_cost.json" || echo '{}' >"$work/glue_cost.json"
  stop "$cost_routingd"
  cat "$work/glue_cost.json"
fi

if [ -n "$ramp" ]; then
  declare -A carried=()
  for r in $ramp; do
    for variant in $variants; do
      [ "${carried[$variant]:-}" = stop ] && continue
      measure "$variant" "$r" $((r * ramp_seconds)) ramp 1
      tail -1 "$results" | /usr/bin/python3 -c '
import json, sys
row = json.loads(sys.stdin.read())
ok = (row["failed"] == 0 and row["retransmissions"] == 0
      and row["successful"] == row["calls"] and row["ringing"] == row["calls"])
sys.exit(0 if ok else 1)' || carried[$variant]=stop
    done
  done
fi

/usr/bin/python3 - "$results" "$rate" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
rate = int(sys.argv[2])
summary = {}
for v in dict.fromkeys(r["variant"] for r in rows):
    fixed = [r for r in rows if r["variant"] == v and r["kind"] == "fixed" and r["p50_ms"] is not None]
    s = {"rounds": len(fixed), "rate": rate}
    keys = [k for k in dict.fromkeys(k for r in fixed for k in r) if k.endswith("_ms")]
    for k in keys:
        vals = [r[k] for r in fixed if r.get(k) is not None]
        s[k] = round(statistics.median(vals), 3) if vals else None
    s["failed_calls"] = sum(r["failed"] for r in fixed)
    s["retransmissions"] = sum(r["retransmissions"] for r in fixed)
    ramp = [r for r in rows if r["variant"] == v and r["kind"] == "ramp"]
    ok = [r for r in ramp if r["failed"] == 0 and r["retransmissions"] == 0
          and r["successful"] == r["calls"] and r["ringing"] == r["calls"]]
    if ramp:
        best = max(ok, key=lambda r: r["rate"]) if ok else None
        s["sustained_cps"] = best["rate"] if best else 0
        s["sustained_achieved_cps"] = best["achieved_cps"] if best else 0
        s["ramp_tried"] = [r["rate"] for r in ramp]
    summary[v] = s
for v in [v for v in summary if v != "plain"] if "plain" in summary else []:
    a, b = summary["plain"], summary[v]
    summary[f"{v}_minus_plain_ms"] = {
        k: round(b[k] - a[k], 3) for k in ("p50_ms", "p99_ms", "proxy_invite_p50_ms", "proxy_invite_p99_ms")
        if a.get(k) is not None and b.get(k) is not None}
import os
cost = os.path.join(os.path.dirname(sys.argv[1]), "glue_cost.json")
if os.path.exists(cost):
    summary["glue_client_cost_us"] = json.load(open(cost))
print(json.dumps({"medians": summary}, indent=1))
PY
