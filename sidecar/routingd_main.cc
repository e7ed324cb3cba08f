// routingd: the routing engine as a ZeroMQ sidecar. See sidecar/README.md.
#include <signal.h>
#include <sys/stat.h>
#include <zmq.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "routing/router.h"
#include "rules/lua_rules.h"
#include "sidecar/allowed_clients.h"
#include "sidecar/cpu_placement.h"
#include "sidecar/daemon.h"
#include "sidecar/offer_timeouts.h"
#include "sidecar/endpoint_exposure.h"
#include "sidecar/http/bearer_token.h"
#include "sidecar/http/http_address.h"
#include "sidecar/http/operations_site.h"
#include "sidecar/request_handler.h"
#include "sidecar/rules_reload.h"
#include "sidecar/sidecar_metrics.h"
#include "sidecar/state_journal.h"
#include "journal/journal_writer.h"

ABSL_FLAG(std::string, listen, "tcp://127.0.0.1:5555",
          "Endpoint of the request socket (ROUTER), e.g. tcp://127.0.0.1:5555 "
          "or ipc:///run/routingd.sock. Clients connect DEALER or REQ here. "
          "Without CURVE only loopback or ipc:// (see --insecure_listen).");
ABSL_FLAG(std::string, events, "tcp://127.0.0.1:5556",
          "Endpoint of the event socket (PUB): assignments of queued contacts "
          "on contact/<id>, queue/<name>, agent/<id>; agent state changes on "
          "agent/<id>; rules reloads and suspensions on rules/reload and "
          "rules/suspended. Without CURVE only loopback or ipc:// (see "
          "--insecure_listen).");
ABSL_FLAG(std::string, rules, "",
          "Routing rules file loaded at start; empty: the embedded default "
          "policy. Reload later with the ReloadRules request.");
ABSL_FLAG(std::string, rules_dir, "",
          "When set, rules files (--rules and ReloadRules by path) are read "
          "only from under this directory, after resolving symbolic links "
          "and \"..\". Empty: any path the daemon can read.");
ABSL_FLAG(int64_t, rules_max_bytes, rules::RulesOptions().max_source_bytes,
          "Largest rules source accepted, as a file or as the text of a "
          "ReloadRules request (1 .. 67108864).");
ABSL_FLAG(double, rules_budget_ms,
          absl::ToDoubleMilliseconds(rules::RulesOptions().evaluation_budget),
          "Longest one rules evaluation may run (wall time, milliseconds; "
          "above 0, at most 10000); past it the decision falls back to the "
          "built-in policy and counts as an overrun.");
ABSL_FLAG(int, rules_breaker_failures, rules::RulesOptions().breaker_failures,
          "Circuit breaker: more failed rules evaluations (errors and "
          "overruns) than this within --rules_breaker_window_s suspend the "
          "rules version in force until the next reload. 0: never suspend.");
ABSL_FLAG(double, rules_breaker_window_s,
          absl::ToDoubleSeconds(rules::RulesOptions().breaker_window),
          "Circuit breaker window, seconds (above 0, at most 86400).");
ABSL_FLAG(int, workers, 1,
          "Threads that verify and execute requests (0..64). 0: the I/O "
          "thread executes them itself (no hand-off; lowest latency on small "
          "machines, but one slow request holds up the others).");
ABSL_FLAG(bool, batch_io_thread, true,
          "Run libzmq's I/O thread under SCHED_BATCH so replies are written "
          "in batches rather than preempting the thread executing requests "
          "(higher throughput when threads share a core).");
ABSL_FLAG(std::string, worker_cpus, "",
          "CPUs for the threads that execute requests (workers, the rules "
          "step timer and reloader; with --workers=0 the frontend), as Linux "
          "lists them: "
          "\"0\", \"0,2\", \"0-3\". Empty: any the process may use.");
ABSL_FLAG(std::string, io_cpus, "",
          "CPUs for libzmq's I/O thread and the threads that only move "
          "messages (frontend when there are workers, publisher, ZAP); same "
          "syntax. On 2 cores, --worker_cpus=0 --io_cpus=1 keeps routing and "
          "socket work apart.");
ABSL_FLAG(std::string, journal_cpus, "",
          "CPUs for the journal's writer, snapshot and zero-fill threads (same syntax). "
          "Empty: any the process may use. The writer's thread mostly waits "
          "for the disk, and every reply of a group waits for it to wake "
          "after the sync: pinned to busy I/O CPUs it wakes late.");
ABSL_FLAG(int, max_in_flight, 1024,
          "Requests accepted and not yet answered; past it, requests are "
          "answered BUSY at once.");
ABSL_FLAG(int, max_message_bytes, 64 * 1024,
          "Largest request accepted; larger ones, up to "
          "--hard_max_message_bytes, are answered TOO_LARGE with their "
          "request id, and the connection's other requests are served.");
ABSL_FLAG(int64_t, hard_max_message_bytes, 0,
          "Frames above this are never read: ZeroMQ drops the connection "
          "(ZMQ_MAXMSGSIZE) and replies owed on it are lost. It bounds what "
          "one connection can make routingd allocate. 0: 64 x "
          "--max_message_bytes (4 MiB by default); else at least "
          "--max_message_bytes, at most 1 GiB.");
ABSL_FLAG(int, high_water_mark, 10000,
          "ZMQ_SNDHWM/ZMQ_RCVHWM of the request and event sockets, in "
          "messages.");
ABSL_FLAG(int, step_interval_ms, 200,
          "How often queued contacts are moved on to routing-rules steps that "
          "fell due (the granularity of the rules' step timing).");
ABSL_FLAG(int, shutdown_grace_ms, 5000,
          "On SIGTERM/SIGINT, how long in-flight requests may take to finish.");
ABSL_FLAG(int, max_agents, 100000, "Agents the roster can hold.");
ABSL_FLAG(int, max_contacts, 1 << 20,
          "Contacts held (queued or assigned) at once.");
ABSL_FLAG(double, fcr_window_hours,
          absl::ToDoubleHours(routing::RouterOptions().fcr_window),
          "First-contact resolution: a resolved contact counts as resolved on "
          "first contact when its customer had no earlier contact in the same "
          "queue within this many hours before it (above 0, at most 8760: a "
          "year).");
ABSL_FLAG(std::string, offer_timeout, "",
          "Reservations: the channels whose assignments are offers the agent's "
          "platform must accept (AcceptOffer) in time, as CHANNEL=DURATION "
          "pairs, e.g. chat=30s,voice=20s (each above 0, at most 1h). A "
          "rejected or lapsed offer returns the contact to its queue in its "
          "place. Empty: no offers, assignments are final at once.");
ABSL_FLAG(std::string, missed_offer_state, "break",
          "The state an available agent is put in after rejecting an offer or "
          "letting it lapse: available (left serving), busy, "
          "after_call_work, break or logged_out.");
ABSL_FLAG(std::string, curve_secret_key_file, "",
          "File holding the server's Z85 CURVE secret key (40 characters; "
          "make one with `routing_cli keygen`). Empty: no encryption. Off by "
          "default for loopback use.");
ABSL_FLAG(std::string, curve_allowed_clients_file, "",
          "With CURVE: the clients allowed in and what each may do. One per "
          "line: a Z85 public key, then its roles separated by commas: route "
          "(route, requeue, cancel, release), agents (add, update, remove "
          "agents, set their states), admin (reload rules, and everything); "
          "every role may read stats, health and the roster. '#' starts a "
          "comment. A key alone gets every role, with a warning at start. A "
          "bad line stops routingd with FILE:LINE: message. Empty: any client "
          "that knows the server key, with every role.");
ABSL_FLAG(std::string, http, "127.0.0.1:8080",
          "HOST:PORT of the read-only HTTP endpoints: GET /metrics "
          "(Prometheus), / (the supervisor view), /events (its live stream), "
          "/api/snapshot (its JSON). HOST: an IPv4 address or localhost "
          "(Debian's CivetWeb has no IPv6). Empty (--http=) turns HTTP off. "
          "Loopback only unless --insecure_listen. With CURVE on, needs "
          "--http_token_file.");
ABSL_FLAG(std::string, http_token_file, "",
          "File holding the bearer token every HTTP request must present "
          "(Authorization: Bearer TOKEN, or ?access_token=TOKEN for the "
          "page); at least 16 characters. Empty: no token (refused with "
          "CURVE on).");
ABSL_FLAG(double, alarm_service_level, 0.8,
          "A queue whose service level over the last 5 minutes is below this "
          "(0..1) is in alarm: red on the supervisor view, "
          "routing_queue_alarm{reason=\"service_level\"} 1.");
ABSL_FLAG(double, alarm_oldest_wait_s, 60,
          "A queue whose oldest waiting contact has waited longer than this "
          "many seconds (above 0) is in alarm "
          "(routing_queue_alarm{reason=\"oldest_wait\"}).");
ABSL_FLAG(std::string, journal_dir, "",
          "Directory of the journal: every request that changes the state is "
          "appended there before its reply, snapshots are taken there, and a "
          "restart on the same directory restores the roster, agent states, "
          "queued contacts in their order, assignments, customer history and "
          "rules (docs/JOURNAL.md). Empty: no journal; a restart starts "
          "empty.");
ABSL_FLAG(std::string, fsync, "batch",
          "With --journal_dir, when a record is synced to disk before its "
          "reply: always (each record: survives a power loss; slowest), "
          "batch (group commit: one sync for the records of "
          "--fsync_batch_ms or --fsync_batch_records; survives a power "
          "loss), none (never: survives a crash of routingd, not of the "
          "machine).");
ABSL_FLAG(double, fsync_batch_ms, 0.5,
          "--fsync=batch: how long a group gathers records, from its first, "
          "before its write and sync start (above 0, at most 1000). Records "
          "that come during a sync wait for the next one anyway.");
ABSL_FLAG(int, fsync_batch_records, 512,
          "--fsync=batch: this many waiting records start a sync at once "
          "(1 .. 1000000).");
ABSL_FLAG(std::string, journal_recover, "refuse",
          "Damage in the journal before its tail (a checksum that fails with "
          "records after it): refuse (do not start; the error names the "
          "segment and offset) or truncate (cut the journal there, moving "
          "later segments to DIR/damaged/, and start). A torn record at the "
          "very end, what a crash leaves, is always cut with a warning.");
ABSL_FLAG(bool, journal_zero_fill, true,
          "With --journal_dir, write records over a segment file zero-filled "
          "ahead of time by a background thread, so each sync flushes data "
          "only (lower sync latency; costs a copy of zeros per byte journaled "
          "and one segment of disk ahead). Off: segments grow with each "
          "write. Never on tmpfs (docs/JOURNAL.md).");
ABSL_FLAG(bool, journal_group_frames, true,
          "With --journal_dir and --fsync=batch or none, the records of each "
          "write are deflated together into one group frame (about an "
          "eighth of the disk for a typical group; docs/JOURNAL.md), where "
          "that makes them smaller. Off: one plain frame per record.");
ABSL_FLAG(int, journal_reuse_segments, 64,
          "With --journal_dir and --journal_zero_fill, up to this many "
          "segments a snapshot made unnecessary are kept and written over as "
          "later segments, rather than deleted (deleting frees blocks, which "
          "a file system mounted with online discard makes every sync wait "
          "for; docs/JOURNAL.md). The next segments consume them, so the "
          "journal's footprint stays what it was; this bounds what a burst "
          "leaves. 0: delete them all.");
ABSL_FLAG(double, snapshot_interval_s, 300,
          "With --journal_dir, a snapshot of the whole state is written this "
          "often (seconds; 0: only by --snapshot_records and at shutdown), "
          "and older journal segments deleted.");
ABSL_FLAG(int64_t, snapshot_records, 1000000,
          "With --journal_dir, a snapshot is also written after this many "
          "records (0: no limit).");
ABSL_FLAG(bool, insecure_listen, false,
          "Without CURVE, allow --listen and --events beyond loopback (e.g. "
          "tcp://0.0.0.0:5555): anyone who reaches them may send every "
          "request, unencrypted. Off: routingd refuses to start on anything "
          "but 127.0.0.0/8, ::1, localhost, ipc:// and inproc:// unless CURVE "
          "is on. Prints a warning at start when it takes effect.");

namespace {

// Upper bounds of the --rules_* flags: far above any sane setting, low enough
// that a typo (a budget in microseconds, a size in bits) is caught.
constexpr int64_t kMaxRulesMaxBytes = int64_t{64} << 20;
constexpr double kMaxRulesBudgetMs = 10'000;
constexpr double kMaxRulesBreakerWindowS = 86'400;
// RouterOptions::fcr_window's bound (365 days).
constexpr double kMaxFcrWindowHours = 365 * 24;

absl::StatusOr<std::vector<std::string>> ReadKeyLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view key = absl::StripAsciiWhitespace(line);
    if (key.empty() || key[0] == '#') continue;
    keys.emplace_back(key);
  }
  return keys;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "routingd: %s\n", std::string(status.message()).c_str());
  return 1;
}

// The options every rules compile gets, from the --rules_* flags; a value
// out of range is refused naming its flag.
absl::StatusOr<rules::RulesOptions> RulesOptionsFromFlags() {
  rules::RulesOptions options;
  const int64_t max_bytes = absl::GetFlag(FLAGS_rules_max_bytes);
  if (max_bytes < 1 || max_bytes > kMaxRulesMaxBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--rules_max_bytes=", max_bytes, " is outside 1..", kMaxRulesMaxBytes));
  }
  options.max_source_bytes = static_cast<size_t>(max_bytes);
  const double budget_ms = absl::GetFlag(FLAGS_rules_budget_ms);
  if (!(budget_ms > 0 && budget_ms <= kMaxRulesBudgetMs)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rules_budget_ms=", budget_ms,
                     " must be above 0 and at most ", kMaxRulesBudgetMs));
  }
  options.evaluation_budget = absl::Milliseconds(budget_ms);
  const int failures = absl::GetFlag(FLAGS_rules_breaker_failures);
  if (failures < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rules_breaker_failures=", failures,
                     " is negative (0 turns the breaker off)"));
  }
  options.breaker_failures = failures;
  const double window_s = absl::GetFlag(FLAGS_rules_breaker_window_s);
  if (!(window_s > 0 && window_s <= kMaxRulesBreakerWindowS)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rules_breaker_window_s=", window_s,
                     " must be above 0 and at most ", kMaxRulesBreakerWindowS));
  }
  options.breaker_window = absl::Seconds(window_s);
  options.rules_dir = absl::GetFlag(FLAGS_rules_dir);
  if (!options.rules_dir.empty()) {
    struct stat info;
    if (stat(options.rules_dir.c_str(), &info) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--rules_dir=", options.rules_dir, ": ", std::strerror(errno)));
    }
    if (!S_ISDIR(info.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--rules_dir=", options.rules_dir, " is not a directory"));
    }
  }
  return options;
}

void Warn(const std::string& warning) {
  std::fprintf(stderr, "routingd: warning: %s\n", warning.c_str());
}

absl::StatusOr<routing::sidecar::StateJournalOptions> JournalOptionsFromFlags(
    int history_depth) {
  routing::sidecar::StateJournalOptions options;
  options.directory = absl::GetFlag(FLAGS_journal_dir);
  options.history_depth = history_depth;
  absl::StatusOr<journal::FsyncMode> mode =
      journal::ParseFsyncMode(absl::GetFlag(FLAGS_fsync));
  if (!mode.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--fsync: ", mode.status().message()));
  }
  options.writer.fsync = *mode;
  const double batch_ms = absl::GetFlag(FLAGS_fsync_batch_ms);
  if (!(batch_ms > 0 && batch_ms <= 1000)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--fsync_batch_ms=", batch_ms, " must be above 0 and at most 1000"));
  }
  options.writer.batch_interval = absl::Milliseconds(batch_ms);
  const int batch_records = absl::GetFlag(FLAGS_fsync_batch_records);
  if (batch_records < 1 || batch_records > 1'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--fsync_batch_records=", batch_records,
                     " is outside 1..1000000"));
  }
  options.writer.batch_max_records = batch_records;
  options.writer.group_frames = absl::GetFlag(FLAGS_journal_group_frames);
  const std::string recover = absl::GetFlag(FLAGS_journal_recover);
  if (recover == "refuse") {
    options.recovery = journal::DamageRecovery::kRefuse;
  } else if (recover == "truncate") {
    options.recovery = journal::DamageRecovery::kTruncate;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--journal_recover=", recover, " is not refuse or truncate"));
  }
  options.segment_space = absl::GetFlag(FLAGS_journal_zero_fill)
                              ? journal::SegmentSpace::kZeroFilledAhead
                              : journal::SegmentSpace::kGrowOnWrite;
  const int reuse = absl::GetFlag(FLAGS_journal_reuse_segments);
  if (reuse < 0 || reuse > 1024) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--journal_reuse_segments=", reuse, " is outside 0..1024"));
  }
  options.reuse_segments = reuse;
  const double interval_s = absl::GetFlag(FLAGS_snapshot_interval_s);
  if (!(interval_s >= 0 && interval_s <= 86'400)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--snapshot_interval_s=", interval_s, " is outside 0..86400"));
  }
  options.snapshot_interval = absl::Seconds(interval_s);
  const int64_t records = absl::GetFlag(FLAGS_snapshot_records);
  if (records < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--snapshot_records=", records, " is negative (0: no limit)"));
  }
  options.snapshot_records = static_cast<uint64_t>(records);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "routingd: the contact routing engine as a ZeroMQ sidecar.\n"
      "Serves the FlatBuffers protocol of sidecar/routing.fbs on --listen and "
      "publishes events on --events. Stops cleanly on SIGTERM or SIGINT.\n"
      "Usage: routingd [--listen=tcp://127.0.0.1:5555] "
      "[--events=tcp://127.0.0.1:5556] [--rules=FILE] [--workers=1] ...");
  absl::ParseCommandLine(argc, argv);

  // Every thread started from here on inherits the mask; only sigwait below
  // receives the signals, so no thread is interrupted mid-request.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  routing::sidecar::DaemonOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.events = absl::GetFlag(FLAGS_events);
  options.workers = absl::GetFlag(FLAGS_workers);
  options.batch_io_thread = absl::GetFlag(FLAGS_batch_io_thread);
  absl::StatusOr<std::vector<int>> worker_cpus =
      routing::sidecar::ParseCpuList(absl::GetFlag(FLAGS_worker_cpus));
  if (!worker_cpus.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--worker_cpus: ", worker_cpus.status().message())));
  }
  options.worker_cpus = *worker_cpus;
  absl::StatusOr<std::vector<int>> io_cpus =
      routing::sidecar::ParseCpuList(absl::GetFlag(FLAGS_io_cpus));
  if (!io_cpus.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--io_cpus: ", io_cpus.status().message())));
  }
  options.io_cpus = *io_cpus;
  // Checked with or without --journal_dir: a bad value is never ignored.
  absl::StatusOr<std::vector<int>> journal_cpus =
      routing::sidecar::ParseCpuList(absl::GetFlag(FLAGS_journal_cpus));
  if (journal_cpus.ok()) {
    if (absl::Status allowed =
            routing::sidecar::CheckCpusAllowed(*journal_cpus);
        !allowed.ok()) {
      journal_cpus = allowed;
    }
  }
  if (!journal_cpus.ok()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "--journal_cpus: ", journal_cpus.status().message())));
  }
  options.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  if (absl::GetFlag(FLAGS_max_message_bytes) < 64) {
    return Fail(
        absl::InvalidArgumentError("--max_message_bytes must be >= 64"));
  }
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  const int64_t hard_max = absl::GetFlag(FLAGS_hard_max_message_bytes);
  if (hard_max != 0 &&
      (hard_max < absl::GetFlag(FLAGS_max_message_bytes) || hard_max > (1 << 30))) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "--hard_max_message_bytes ", hard_max,
        " must be 0 or within --max_message_bytes .. 1 GiB")));
  }
  options.hard_max_message_bytes = static_cast<size_t>(hard_max);
  options.high_water_mark = absl::GetFlag(FLAGS_high_water_mark);
  if (absl::GetFlag(FLAGS_step_interval_ms) < 1) {
    return Fail(absl::InvalidArgumentError("--step_interval_ms must be >= 1"));
  }
  options.step_interval =
      absl::Milliseconds(absl::GetFlag(FLAGS_step_interval_ms));
  options.shutdown_grace =
      absl::Milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms));
  if (const std::string file = absl::GetFlag(FLAGS_curve_secret_key_file);
      !file.empty()) {
    absl::StatusOr<std::vector<std::string>> keys = ReadKeyLines(file);
    if (!keys.ok()) return Fail(keys.status());
    if (keys->size() != 1) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(file, " must hold exactly one key")));
    }
    options.curve_secret_key = (*keys)[0];
  }
  if (const std::string file = absl::GetFlag(FLAGS_curve_allowed_clients_file);
      !file.empty()) {
    if (options.curve_secret_key.empty()) {
      return Fail(absl::InvalidArgumentError(
          "--curve_allowed_clients_file needs --curve_secret_key_file"));
    }
    absl::StatusOr<routing::sidecar::AllowedClients> allowed =
        routing::sidecar::ReadAllowedClientsFile(file);
    if (!allowed.ok()) return Fail(allowed.status());
    for (const std::string& warning : allowed->warnings) Warn(warning);
    options.curve_allowed_clients = std::move(allowed->clients);
  }
  absl::StatusOr<std::vector<std::string>> exposure =
      routing::sidecar::CheckUnencryptedListening(
          {{"--listen", options.listen}, {"--events", options.events}},
          /*curve=*/!options.curve_secret_key.empty(),
          absl::GetFlag(FLAGS_insecure_listen));
  if (!exposure.ok()) return Fail(exposure.status());
  // HTTP: its own loopback rule (no TLS, so CURVE does not make it safe).
  std::optional<routing::sidecar::http::OperationsSiteOptions> http_options;
  if (const std::string http = absl::GetFlag(FLAGS_http); !http.empty()) {
    absl::StatusOr<routing::sidecar::http::HttpAddress> address =
        routing::sidecar::http::ParseHttpAddress(http);
    if (!address.ok()) return Fail(address.status());
    absl::StatusOr<std::vector<std::string>> http_exposure =
        routing::sidecar::http::CheckHttpExposure(
            *address, absl::GetFlag(FLAGS_insecure_listen));
    if (!http_exposure.ok()) return Fail(http_exposure.status());
    if (!http_exposure->empty()) {
      // --insecure_listen does change something: drop the "changes
      // nothing" warnings about the ZeroMQ endpoints.
      std::erase_if(*exposure, [](const std::string& warning) {
        return warning.starts_with("--insecure_listen changes nothing");
      });
    }
    for (const std::string& warning : *http_exposure) Warn(warning);
    http_options.emplace();
    http_options->server.address = *address;
    if (const std::string file = absl::GetFlag(FLAGS_http_token_file);
        !file.empty()) {
      absl::StatusOr<std::string> token =
          routing::sidecar::http::ReadBearerTokenFile(file);
      if (!token.ok()) return Fail(token.status());
      http_options->server.bearer_token = *token;
    } else if (!options.curve_secret_key.empty()) {
      return Fail(absl::FailedPreconditionError(absl::StrCat(
          "--http=", http,
          " with CURVE on needs --http_token_file: the HTTP endpoints would "
          "show every waiting contact and agent to anyone who reaches them. "
          "Give a token file, or turn HTTP off with --http=")));
    }
    http_options->thresholds.service_level =
        absl::GetFlag(FLAGS_alarm_service_level);
    http_options->thresholds.oldest_wait =
        absl::Seconds(absl::GetFlag(FLAGS_alarm_oldest_wait_s));
    if (absl::Status s = routing::sidecar::http::ValidateAlarmThresholds(
            http_options->thresholds);
        !s.ok()) {
      return Fail(s);
    }
  }
  for (const std::string& warning : *exposure) Warn(warning);

  routing::sidecar::SidecarMetrics metrics;
  routing::RouterOptions router_options;
  router_options.max_agents = absl::GetFlag(FLAGS_max_agents);
  router_options.max_contacts = absl::GetFlag(FLAGS_max_contacts);
  const double fcr_window_hours = absl::GetFlag(FLAGS_fcr_window_hours);
  if (!(fcr_window_hours > 0 && fcr_window_hours <= kMaxFcrWindowHours)) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "--fcr_window_hours=", fcr_window_hours,
        " must be above 0 and at most ", kMaxFcrWindowHours, " (a year)")));
  }
  router_options.fcr_window = absl::Hours(fcr_window_hours);
  absl::StatusOr<routing::sidecar::OfferTimeouts> offer_timeouts =
      routing::sidecar::ParseOfferTimeouts(absl::GetFlag(FLAGS_offer_timeout));
  if (!offer_timeouts.ok()) return Fail(offer_timeouts.status());
  router_options.offer_timeout = *offer_timeouts;
  if (!routing::ParseAgentState(absl::GetFlag(FLAGS_missed_offer_state),
                                &router_options.missed_offer_state)) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "--missed_offer_state=", absl::GetFlag(FLAGS_missed_offer_state),
        " is not an agent state (available, busy, after_call_work, break, "
        "logged_out)")));
  }
  routing::sidecar::AssignmentPublisher publisher(
      &metrics, router_options.policy.service_level_threshold);
  router_options.listener = &publisher;
  absl::StatusOr<rules::RulesOptions> rules_options = RulesOptionsFromFlags();
  if (!rules_options.ok()) return Fail(rules_options.status());

  // The journal: what the directory holds is read before the router exists
  // (the rules version it had carries on).
  const bool journaling = !absl::GetFlag(FLAGS_journal_dir).empty();
  routing::sidecar::StateJournalOptions journal_options;
  std::optional<routing::sidecar::RecoveredState> recovered;
  routing::sidecar::JournalListener journal_listener(&publisher);
  routing::sidecar::CallClock call_clock(routing::SystemClock::Default());
  if (journaling) {
    absl::StatusOr<routing::sidecar::StateJournalOptions> parsed =
        JournalOptionsFromFlags(router_options.history_depth);
    if (!parsed.ok()) return Fail(parsed.status());
    journal_options = *parsed;
    absl::StatusOr<routing::sidecar::RecoveredState> read =
        routing::sidecar::RecoverState(journal_options);
    if (!read.ok()) {
      return Fail(absl::Status(
          read.status().code(),
          absl::StrCat("cannot restore from --journal_dir=",
                       journal_options.directory, ": ",
                       read.status().message(),
                       absl::IsDataLoss(read.status())
                           ? " (--journal_recover=truncate starts from the "
                             "records before the damage)"
                           : "")));
    }
    recovered = *std::move(read);
    for (const std::string& warning : recovered->warnings) Warn(warning);
    // Decisions read the time their record carries: replay can be exact.
    router_options.clock = &call_clock;
    journal_options.clock = &call_clock;
    journal_options.writer.on_group_written =
        [&metrics](const journal::JournalGroupWritten& group) {
          metrics.RecordJournalGroup(group.records, group.bytes,
                                     group.synced, group.sync_time, group.ok);
        };
    if (recovered->rules.version > 0) {
      router_options.rules_versions_before = recovered->rules.version - 1;
    }
    router_options.listener = &journal_listener;
  }
  absl::StatusOr<std::unique_ptr<routing::Router>> router =
      routing::Router::Create(router_options);
  if (!router.ok()) return Fail(router.status());
  // The rules in force live beside the router: reloads replace them, Stats
  // and the step timer read their health.
  routing::sidecar::RulesInForce rules_in_force(router->get(), *rules_options);
  if (recovered.has_value() && !recovered->rules.file.empty()) {
    if (absl::Status s = rules_in_force.LoadSourceAtStart(
            recovered->rules.file, recovered->rules.source);
        !s.ok()) {
      return Fail(s);
    }
  }
  std::unique_ptr<routing::sidecar::StateJournal> state_journal;
  if (journaling) {
    // The journal's writer, snapshot and zero-fill threads run on
    // --journal_cpus (by default anywhere): the writer's thread sleeps
    // through each sync, and the scheduler wakes it on whichever CPU has
    // room (pinned to a busy I/O CPU, its late wake-ups made the p99 under
    // load 1.3x longer).
    absl::StatusOr<std::unique_ptr<routing::sidecar::StateJournal>> opened;
    {
      routing::sidecar::ScopedThreadPlacement placed(*journal_cpus);
      if (!placed.status().ok()) {
        return Fail(absl::Status(
            placed.status().code(),
            absl::StrCat("--journal_cpus: ", placed.status().message())));
      }
      opened = routing::sidecar::StateJournal::Open(
          router->get(), &rules_in_force, journal_options,
          recovered->next_sequence);
    }
    if (!opened.ok()) return Fail(opened.status());
    state_journal = *std::move(opened);
    if (absl::Status s = state_journal->Restore(recovered->state); !s.ok()) {
      return Fail(absl::Status(
          s.code(), absl::StrCat("cannot restore from --journal_dir=",
                                 journal_options.directory, ": ",
                                 s.message())));
    }
    std::fprintf(
        stderr,
        "routingd: journal %s (--fsync=%s): restored %zu agents, %zu "
        "contacts, %zu customers from snapshot %llu and %llu records\n",
        journal_options.directory.c_str(),
        journal::FsyncModeName(journal_options.writer.fsync),
        recovered->state.agents.size(), recovered->state.contacts.size(),
        recovered->state.customers.size(),
        static_cast<unsigned long long>(recovered->snapshot.sequence),
        static_cast<unsigned long long>(recovered->records));
  }
  // --rules: in force from now. With a journal that had other rules, they
  // were restored first (the queued contacts' plans were made under them)
  // and these replace them now, recorded as a reload.
  if (const std::string rules_file = absl::GetFlag(FLAGS_rules);
      !rules_file.empty()) {
    const routing::sidecar::RulesText before = rules_in_force.Text();
    absl::StatusOr<std::string> text =
        rules::ReadRulesFile(rules_file, *rules_options);
    // The file the journal restored, unchanged: its version stays.
    const bool restored = text.ok() && before.file == rules_file &&
                          before.source == *text;
    if (!restored) {
      if (absl::Status s = rules_in_force.LoadAtStart(rules_file); !s.ok()) {
        return Fail(s);
      }
    }
    if (state_journal != nullptr && !restored) {
      const routing::sidecar::RulesText now = rules_in_force.Text();
      routing::sidecar::JournaledCall call;
      call.kind = journal::RecordKind::kRulesReload;
      absl::StatusOr<uint64_t> recorded = state_journal->Record(call, [&] {
        routing::sidecar::CallEffect effect;
        effect.changed = true;
        effect.rules = &now;
        return effect;
      });
      (void)routing::sidecar::StateJournal::TakeThreadSequence();
      if (!recorded.ok()) return Fail(recorded.status());
    }
  }

  routing::sidecar::RequestHandlerOptions handler_options;
  handler_options.decoder.max_message_bytes = options.max_message_bytes;
  handler_options.service_level_threshold =
      router_options.policy.service_level_threshold;
  handler_options.workers = options.workers;
  handler_options.rules = &rules_in_force;
  handler_options.journal = state_journal.get();
  if (state_journal != nullptr) handler_options.clock = &call_clock;
  options.journal = state_journal.get();
  routing::sidecar::RequestHandler handler(router->get(), &metrics,
                                           handler_options);

  absl::StatusOr<std::unique_ptr<routing::sidecar::Daemon>> daemon =
      routing::sidecar::Daemon::Start(&handler, &metrics, options);
  if (!daemon.ok()) return Fail(daemon.status());
  std::unique_ptr<routing::sidecar::http::OperationsSite> site;
  if (http_options.has_value()) {
    absl::StatusOr<std::unique_ptr<routing::sidecar::http::OperationsSite>>
        started = routing::sidecar::http::OperationsSite::Start(
            router->get(), &rules_in_force, &metrics, *http_options);
    if (!started.ok()) {
      (*daemon)->Stop();
      return Fail(started.status());
    }
    site = *std::move(started);
    routing::sidecar::http::HttpAddress bound = http_options->server.address;
    bound.port = site->port();
    std::fprintf(stderr, "routingd: HTTP on http://%s/ (metrics at /metrics)\n",
                 bound.ToString().c_str());
  }
  std::fprintf(stderr,
               "routingd: serving requests on %s, events on %s (%d worker%s)\n",
               options.listen.c_str(), options.events.c_str(), options.workers,
               options.workers == 1 ? "" : "s");
  std::fflush(stderr);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "routingd: %s, stopping\n",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  (*daemon)->Stop();
  if (site != nullptr) site->Stop();
  if (state_journal != nullptr) {
    // Traffic has stopped: the final snapshot makes the next start fast.
    if (absl::Status s = state_journal->Close(); !s.ok()) {
      Warn(absl::StrCat("final snapshot: ", s.message()));
    }
  }
  std::fprintf(stderr, "routingd: stopped after %llu requests\n",
               static_cast<unsigned long long>(metrics.requests.load()));
  return 0;
}
