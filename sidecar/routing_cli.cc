// routing_cli: talk to a running routingd from a shell. See --help.
#include <zmq.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "routing/agent.h"
#include "routing/channel.h"
#include "routing/interaction.h"
#include "routing/status_macros.h"
#include "sidecar/client.h"
#include "sidecar/event_topics.h"

ABSL_FLAG(std::string, server, "tcp://127.0.0.1:5555",
          "routingd's request endpoint.");
ABSL_FLAG(std::string, events, "tcp://127.0.0.1:5556",
          "routingd's event endpoint (watch).");
ABSL_FLAG(int, timeout_ms, 5000, "How long to wait for a reply.");
ABSL_FLAG(std::string, curve_server_key, "",
          "CURVE: the server's Z85 public key.");
ABSL_FLAG(std::string, curve_public_key, "",
          "CURVE: this client's Z85 public key.");
ABSL_FLAG(std::string, curve_secret_key, "",
          "CURVE: this client's Z85 secret key.");
// Contact and agent fields.
ABSL_FLAG(std::string, channel, "voice",
          "voice, chat, email, messaging, callback or video.");
ABSL_FLAG(std::string, queue, "", "Queue name (route, requeue).");
ABSL_FLAG(std::string, skills, "",
          "skill[:level],... required (route) or held (agent-add).");
ABSL_FLAG(std::string, desired, "", "skill[:level],... desired (route).");
ABSL_FLAG(std::string, languages, "", "route: en,es; agent-add: en:5,es:3.");
ABSL_FLAG(int, priority, 0, "Contact priority 0..9.");
ABSL_FLAG(std::string, customer, "", "Customer id.");
ABSL_FLAG(std::string, intent, "", "Handoff: the conversation's intent.");
ABSL_FLAG(std::string, language, "", "Handoff: the conversation's language.");
ABSL_FLAG(std::string, sentiment, "", "Handoff: the customer's sentiment.");
ABSL_FLAG(std::string, summary, "", "Handoff: what the bot learned.");
ABSL_FLAG(std::string, context, "", "Handoff: more key=value,key=value.");
ABSL_FLAG(std::string, capacity, "voice:1", "agent-add: channel:contacts,...");
ABSL_FLAG(int, max_total, 0,
          "agent-add: cap on all channels together (0: none).");
ABSL_FLAG(std::string, team, "", "agent-add: team.");
ABSL_FLAG(std::string, outcome, "resolved",
          "release: resolved, unresolved, transferred or unknown.");
ABSL_FLAG(std::optional<int>, csat, std::nullopt,
          "release: the survey's customer satisfaction, 1..5 (unset: none).");
ABSL_FLAG(std::optional<int>, nps, std::nullopt,
          "release: the survey's would-you-recommend score, 0..10 (unset: "
          "none).");
ABSL_FLAG(int, limit, 1000,
          "contacts: at most this many contacts per queue (1..1000).");
ABSL_FLAG(int, window_seconds, 300,
          "stats: window for service level and decisions/s.");
ABSL_FLAG(int, count, 0, "watch: stop after this many events (0: never).");
ABSL_FLAG(int, watch_timeout_ms, 0,
          "watch: stop after this long without an event (0: never).");

namespace {

using routing::sidecar::Reply;
using routing::sidecar::RoutingClient;
namespace wire = routing::sidecar::wire;

constexpr char kUsage[] =
    "routing_cli: command-line client of routingd.\n"
    "Usage: routing_cli [flags] COMMAND [ARGS]\n"
    "Commands:\n"
    "  health                      is the daemon serving?\n"
    "  agents                      the roster: state, time in state, load, "
    "occupancy, KPIs\n"
    "  agent-add ID                --skills=billing:4 --languages=en:5 "
    "--capacity=voice:1,chat:2\n"
    "  agent-update ID             same flags as agent-add\n"
    "  agent-state ID STATE        logged_out, available, busy, "
    "after_call_work, break\n"
    "  agent-remove ID\n"
    "  route ID                    --channel=chat --skills=billing:2 "
    "--languages=en\n"
    "                              --customer=C --intent=... --summary=... "
    "--context=k=v\n"
    "  requeue ID                  same flags as route\n"
    "  cancel ID\n"
    "  release ID                  --outcome=resolved [--csat=1..5] "
    "[--nps=0..10]\n"
    "  contacts [QUEUE]            the waiting contacts, per queue in service "
    "order\n"
    "  contact ID                  one contact: queued (position, wait, step) "
    "or assigned\n"
    "  stats                       queues (service level, 5/15/60 min, KPIs), "
    "latency\n"
    "  reload FILE                 load routing rules from FILE (on the "
    "daemon's host)\n"
    "  watch [TOPIC...]            print events: contact/ID, queue/NAME, "
    "agent/ID,\n"
    "                              rules/reload hear that one topic; "
    "contact/, queue/,\n"
    "                              agent/, rules/ a whole family; none: "
    "everything\n"
    "  keygen                      print a new CURVE key pair (public, "
    "secret)\n";

absl::Status Usage(const std::string& why) {
  return absl::InvalidArgumentError(why);
}

std::string Text(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : s->str();
}

absl::StatusOr<std::vector<std::pair<std::string, int>>> NamedLevels(
    const std::string& list, std::string_view flag) {
  std::vector<std::pair<std::string, int>> out;
  for (absl::string_view item : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(item, ':');
    int level = 1;
    if (parts.size() > 2 || parts[0].empty() ||
        (parts.size() == 2 && !absl::SimpleAtoi(parts[1], &level))) {
      return Usage(absl::StrCat("--", std::string(flag), ": \"",
                                std::string(item), "\" is not name[:number]"));
    }
    out.emplace_back(parts[0], level);
  }
  return out;
}

absl::StatusOr<routing::Channel> ChannelFlag(const std::string& name) {
  routing::Channel channel;
  if (!routing::ParseChannel(name, &channel)) {
    return Usage(absl::StrCat("unknown channel \"", name, "\""));
  }
  return channel;
}

absl::StatusOr<routing::AgentProfile> AgentFromFlags(const std::string& id) {
  routing::AgentProfile agent;
  agent.id = id;
  ROUTING_ASSIGN_OR_RETURN(auto skills,
                           NamedLevels(absl::GetFlag(FLAGS_skills), "skills"));
  for (auto& [name, level] : skills) agent.skills.push_back({name, level});
  ROUTING_ASSIGN_OR_RETURN(
      auto languages, NamedLevels(absl::GetFlag(FLAGS_languages), "languages"));
  for (auto& [tag, fluency] : languages)
    agent.languages.push_back({tag, fluency});
  ROUTING_ASSIGN_OR_RETURN(
      auto capacity, NamedLevels(absl::GetFlag(FLAGS_capacity), "capacity"));
  for (auto& [name, contacts] : capacity) {
    ROUTING_ASSIGN_OR_RETURN(routing::Channel channel, ChannelFlag(name));
    agent.SetCapacity(channel, contacts);
  }
  agent.max_total_contacts = absl::GetFlag(FLAGS_max_total);
  agent.team = absl::GetFlag(FLAGS_team);
  return agent;
}

absl::StatusOr<routing::Contact> ContactFromFlags(
    const std::string& id, routing::sidecar::HandoffContext* handoff) {
  routing::Contact contact;
  contact.id = id;
  ROUTING_ASSIGN_OR_RETURN(contact.channel,
                           ChannelFlag(absl::GetFlag(FLAGS_channel)));
  contact.queue = absl::GetFlag(FLAGS_queue);
  ROUTING_ASSIGN_OR_RETURN(auto skills,
                           NamedLevels(absl::GetFlag(FLAGS_skills), "skills"));
  for (auto& [name, level] : skills) {
    contact.required_skills.push_back({name, level});
  }
  ROUTING_ASSIGN_OR_RETURN(
      auto desired, NamedLevels(absl::GetFlag(FLAGS_desired), "desired"));
  for (auto& [name, level] : desired) {
    contact.desired_skills.push_back({name, level});
  }
  contact.languages =
      absl::StrSplit(absl::GetFlag(FLAGS_languages), ',', absl::SkipEmpty());
  contact.priority = absl::GetFlag(FLAGS_priority);
  contact.customer_id = absl::GetFlag(FLAGS_customer);
  handoff->intent = absl::GetFlag(FLAGS_intent);
  handoff->language = absl::GetFlag(FLAGS_language);
  handoff->sentiment = absl::GetFlag(FLAGS_sentiment);
  handoff->summary = absl::GetFlag(FLAGS_summary);
  handoff->customer_id = contact.customer_id;
  for (absl::string_view kv :
       absl::StrSplit(absl::GetFlag(FLAGS_context), ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> entry =
        absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (entry.first.empty()) {
      return Usage(absl::StrCat("--context: \"", std::string(kv),
                                "\" is not key=value"));
    }
    handoff->attributes[entry.first] = entry.second;
  }
  return contact;
}

// 45s, 3m05s, 1h02m: waits as a supervisor reads them.
std::string FormatWait(int64_t ms) {
  const int64_t seconds = ms / 1000;
  if (seconds < 60) return absl::StrCat(seconds, "s");
  if (seconds < 3600) {
    return absl::StrFormat("%dm%02ds", seconds / 60, seconds % 60);
  }
  return absl::StrFormat("%dh%02dm", seconds / 3600, (seconds % 3600) / 60);
}

std::string ChannelText(wire::ChannelKind channel) {
  return std::string(
      routing::ChannelName(static_cast<routing::Channel>(channel)));
}

// The waiting contacts, one table per queue (a ContactList lists them
// queue by queue, each in service order).
void PrintContactList(const wire::ContactList& list) {
  std::string queue;
  bool first = true;
  int listed = 0;
  if (list.contacts() != nullptr) {
    for (const wire::ContactInfo* c : *list.contacts()) {
      if (first || Text(c->queue()) != queue) {
        queue = Text(c->queue());
        std::printf("%squeue %s\n", first ? "" : "\n", queue.c_str());
        std::printf("  %4s  %-24s %-10s %8s %4s %5s  %s\n", "POS", "CONTACT",
                    "CHANNEL", "WAIT", "PRI", "STEP", "CUSTOMER");
        first = false;
      }
      std::printf(
          "  %4lld  %-24s %-10s %8s %4d %5d  %s\n",
          static_cast<long long>(c->queue_position()), Text(c->id()).c_str(),
          ChannelText(c->channel()).c_str(), FormatWait(c->waited_ms()).c_str(),
          c->priority(), c->rules_step(),
          Text(c->customer_id()).empty() ? "-"
                                         : Text(c->customer_id()).c_str());
      ++listed;
    }
  }
  if (listed == 0) std::printf("no contacts waiting\n");
  if (list.truncated()) {
    std::printf("(more are waiting than listed: see --limit)\n");
  }
}

void PrintContact(const wire::ContactInfo& c) {
  std::printf(
      "contact %s  %s  queue %s  priority %d  customer %s\n",
      Text(c.id()).c_str(), ChannelText(c.channel()).c_str(),
      Text(c.queue()).c_str(), c.priority(),
      Text(c.customer_id()).empty() ? "-" : Text(c.customer_id()).c_str());
  if (c.state() == wire::ContactStateKind::Assigned) {
    std::printf("ASSIGNED to %s at %s after waiting %s\n",
                Text(c.agent_id()).c_str(),
                absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                                 absl::FromUnixMillis(c.assigned_at_unix_ms()),
                                 absl::UTCTimeZone())
                    .c_str(),
                FormatWait(c.waited_ms()).c_str());
  } else {
    std::printf("QUEUED at position %lld, waiting %s, rules step %d\n",
                static_cast<long long>(c.queue_position()),
                FormatWait(c.waited_ms()).c_str(), c.rules_step());
  }
}

// FCR, AHT, CSAT and NPS in one line; "-" where nothing was measured.
std::string KpiText(const wire::ContactKpis* k) {
  if (k == nullptr || k->released() == 0) return "released 0";
  std::string text =
      absl::StrFormat("released %lld  resolved %lld  FCR %.1f%%  AHT %s",
                      static_cast<long long>(k->released()),
                      static_cast<long long>(k->resolved()),
                      100 * k->first_contact_resolution(),
                      FormatWait(k->average_handle_time_ms()));
  absl::StrAppend(
      &text, "  CSAT ",
      k->csat_responses() == 0
          ? std::string("-")
          : absl::StrFormat("%.2f (%lld)", k->csat_average(),
                            static_cast<long long>(k->csat_responses())));
  absl::StrAppend(
      &text, "  NPS ",
      k->nps_responses() == 0
          ? std::string("-")
          : absl::StrFormat("%+.0f (%lld: %lld promoters, %lld "
                            "detractors)",
                            k->net_promoter_score(),
                            static_cast<long long>(k->nps_responses()),
                            static_cast<long long>(k->promoters()),
                            static_cast<long long>(k->detractors())));
  return text;
}

void PrintDecision(const wire::Decision& d) {
  if (d.outcome() == wire::DecisionOutcome::Assigned) {
    std::printf("ASSIGNED %s -> %s (score %.3f, %d eligible, policy v%llu)\n",
                Text(d.contact_id()).c_str(), Text(d.agent_id()).c_str(),
                d.score(), d.eligible_agents(),
                static_cast<unsigned long long>(d.policy_version()));
  } else {
    std::printf(
        "QUEUED %s in %s, position %d, estimated wait %llds (%d qualified: %d "
        "at capacity, %d unavailable, %d logged out)\n",
        Text(d.contact_id()).c_str(), Text(d.queue()).c_str(),
        d.queue_position(),
        static_cast<long long>(d.estimated_wait_ms() / 1000),
        d.qualified_total(), d.qualified_at_capacity(),
        d.qualified_unavailable(), d.qualified_logged_out());
  }
  for (absl::string_view line :
       absl::StrSplit(Text(d.explanation()), '\n', absl::SkipEmpty())) {
    std::printf("  %s\n", std::string(line).c_str());
  }
}

// The rules in force and how they fare: what an operator checks after a
// deploy, and when decisions start saying rules_fallback.
void PrintRulesStats(const wire::Stats& s) {
  if (s.rules_version() == 0) {
    std::printf("rules none (built-in policy)  fallbacks %lld\n",
                static_cast<long long>(s.rules_fallbacks()));
    return;
  }
  std::printf(
      "rules %s v%llu  errors %lld (overruns %lld)  fallbacks %lld  "
      "suspended decisions %lld  breaker %s\n",
      Text(s.rules_name()).c_str(),
      static_cast<unsigned long long>(s.rules_version()),
      static_cast<long long>(s.rules_errors()),
      static_cast<long long>(s.rules_overruns()),
      static_cast<long long>(s.rules_fallbacks()),
      static_cast<long long>(s.rules_suspended_decisions()),
      s.rules_suspended() ? "TRIPPED: rules suspended until the next reload"
                          : "armed");
  if (!Text(s.rules_last_error()).empty()) {
    std::printf("rules last error: %s\n", Text(s.rules_last_error()).c_str());
  }
}

void PrintStats(const wire::Stats& s) {
  std::printf(
      "policy v%llu  decisions %lld (immediate %lld, queued %lld, "
      "from queue %lld)  cancelled %lld  released %lld  held %lld\n",
      static_cast<unsigned long long>(s.policy_version()),
      static_cast<long long>(s.decisions()),
      static_cast<long long>(s.assigned_immediately()),
      static_cast<long long>(s.queued()),
      static_cast<long long>(s.assigned_from_queue()),
      static_cast<long long>(s.cancelled()),
      static_cast<long long>(s.released()),
      static_cast<long long>(s.contacts_held()));
  std::printf(
      "last %ds: service level %.1f%% (%lld answered, %lld abandoned), "
      "%.1f decisions/s\n",
      s.window_seconds(), 100 * s.service_level_in_window(),
      static_cast<long long>(s.answered_in_window()),
      static_cast<long long>(s.abandoned_in_window()),
      s.decisions_per_second());
  std::printf("service time us: p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
              s.latency_p50_us(), s.latency_p99_us(), s.latency_p999_us(),
              s.latency_max_us());
  std::printf(
      "requests %llu  busy %llu  malformed %llu  unroutable %llu  "
      "permission denied %llu  events %llu\n",
      static_cast<unsigned long long>(s.requests()),
      static_cast<unsigned long long>(s.busy_rejections()),
      static_cast<unsigned long long>(s.malformed_requests()),
      static_cast<unsigned long long>(s.unroutable_replies()),
      static_cast<unsigned long long>(s.permission_denied()),
      static_cast<unsigned long long>(s.events_published()));
  PrintRulesStats(s);
  if (s.queues() != nullptr) {
    for (const wire::QueueSnapshot* q : *s.queues()) {
      std::printf(
          "queue %-12s waiting %lld  longest %lldms  answered %lld  "
          "abandoned %lld  service level %.1f%%\n",
          Text(q->queue()).c_str(), static_cast<long long>(q->waiting()),
          static_cast<long long>(q->longest_wait_ms()),
          static_cast<long long>(q->answered()),
          static_cast<long long>(q->abandoned()), 100 * q->service_level());
      if (q->recent() != nullptr) {
        std::string windows;
        for (const wire::QueueWindow* w : *q->recent()) {
          absl::StrAppend(
              &windows,
              absl::StrFormat("  %dm SL %.1f%% ASA %s abandoned %lld",
                              w->minutes(), 100 * w->service_level(),
                              FormatWait(w->average_speed_of_answer_ms()),
                              static_cast<long long>(w->abandoned())));
        }
        std::printf("  recent:%s\n", windows.c_str());
      }
      if (q->agents_by_state() != nullptr &&
          q->agents_by_state()->size() == routing::kAgentStateCount) {
        const auto& a = *q->agents_by_state();
        std::printf(
            "  agents: available %lld  busy %lld  wrap-up %lld  break %lld  "
            "logged out %lld  occupancy %.0f%%\n",
            static_cast<long long>(a[1]), static_cast<long long>(a[2]),
            static_cast<long long>(a[3]), static_cast<long long>(a[4]),
            static_cast<long long>(a[0]), 100 * q->occupancy());
      }
      std::printf("  kpis: %s\n", KpiText(q->kpis()).c_str());
    }
  }
  if (s.agents_by_skill() != nullptr) {
    for (const wire::SkillAgents* a : *s.agents_by_skill()) {
      std::printf(
          "skill %-12s available %d  busy %d  wrap-up %d  break %d  "
          "logged out %d\n",
          Text(a->skill()).c_str(), a->available(), a->busy(),
          a->after_call_work(), a->on_break(), a->logged_out());
    }
  }
}

// "[contact/chat-1] #41 t3": the topic, the event's global sequence and its
// number on this topic (a gap in the latter: events of the topic lost).
std::string EventPrefix(const std::string& topic, const wire::Event& event) {
  return absl::StrFormat(
      "[%s] #%llu t%llu", std::string(routing::sidecar::PrintableTopic(topic)),
      static_cast<unsigned long long>(event.sequence()),
      static_cast<unsigned long long>(event.topic_sequence()));
}

void PrintContactChanged(const std::string& prefix,
                         const wire::ContactChanged& c) {
  std::string line = absl::StrCat(
      prefix, " ",
      absl::AsciiStrToUpper(wire::EnumNameContactChange(c.change())), " ",
      Text(c.contact_id()), " queue ", Text(c.queue()));
  if (c.agent_id() != nullptr)
    absl::StrAppend(&line, " agent ", Text(c.agent_id()));
  switch (c.change()) {
    case wire::ContactChange::Queued:
    case wire::ContactChange::PositionChanged:
    case wire::ContactChange::StepMoved:
      absl::StrAppend(&line, " position ", c.queue_position(), " step ",
                      c.rules_step());
      break;
    case wire::ContactChange::Released:
      absl::StrAppend(&line, " outcome ", wire::EnumNameOutcome(c.outcome()));
      break;
    default:
      break;
  }
  absl::StrAppend(&line, " waited ", c.waited_ms(), "ms");
  std::printf("%s\n", line.c_str());
}

void PrintEvent(const std::string& topic, const wire::Event& event) {
  const std::string prefix = EventPrefix(topic, event);
  if (const wire::ContactAssigned* a = event.body_as_ContactAssigned()) {
    std::printf("%s ASSIGNED%s %s -> %s after %lldms", prefix.c_str(),
                a->immediate() ? " (at once)" : "",
                Text(a->contact_id()).c_str(), Text(a->agent_id()).c_str(),
                static_cast<long long>(a->waited_ms()));
    if (const wire::HandoffContext* c = a->context()) {
      if (c->intent() && c->intent()->size()) {
        std::printf(" intent=%s", c->intent()->c_str());
      }
      if (c->summary() && c->summary()->size()) {
        std::printf(" summary=\"%s\"", c->summary()->c_str());
      }
    }
    std::printf("\n");
  } else if (const wire::ContactChanged* c = event.body_as_ContactChanged()) {
    PrintContactChanged(prefix, *c);
  } else if (const wire::AgentStateChanged* s =
                 event.body_as_AgentStateChanged()) {
    std::printf("%s AGENT %s is %s\n", prefix.c_str(),
                Text(s->agent_id()).c_str(),
                std::string(routing::AgentStateName(
                                static_cast<routing::AgentState>(s->state())))
                    .c_str());
  } else if (const wire::RulesReloadFinished* r =
                 event.body_as_RulesReloadFinished()) {
    std::printf(
        "%s RULES %s %s: v%llu %s in force\n", prefix.c_str(),
        Text(r->source()).c_str(), r->accepted() ? "accepted" : "refused",
        static_cast<unsigned long long>(r->version()), Text(r->name()).c_str());
    if (r->problems() != nullptr) {
      for (const flatbuffers::String* p : *r->problems()) {
        std::printf("  %s\n", p->c_str());
      }
    }
  } else if (const wire::RulesSuspended* r = event.body_as_RulesSuspended()) {
    std::printf(
        "%s RULES SUSPENDED %s v%llu after %lld failures (%lld "
        "overruns): %s\n",
        prefix.c_str(), Text(r->name()).c_str(),
        static_cast<unsigned long long>(r->version()),
        static_cast<long long>(r->errors()),
        static_cast<long long>(r->overruns()), Text(r->last_error()).c_str());
  }
  std::fflush(stdout);
}

absl::Status Watch(const std::vector<std::string>& topics,
                   const routing::sidecar::ClientOptions& options) {
  // An id given whole hears its own topic only (chat-1, never chat-10); a
  // family prefix ending with '/' stays a prefix.
  std::vector<std::string> subscriptions;
  for (const std::string& topic : topics) {
    subscriptions.push_back(routing::sidecar::SubscriptionFor(topic));
  }
  if (subscriptions.empty()) subscriptions.push_back("");
  ROUTING_ASSIGN_OR_RETURN(
      auto subscriber,
      routing::sidecar::EventSubscriber::Connect(absl::GetFlag(FLAGS_events),
                                                 subscriptions, options));
  const int count = absl::GetFlag(FLAGS_count);
  const int timeout_ms = absl::GetFlag(FLAGS_watch_timeout_ms);
  for (int seen = 0; count == 0 || seen < count; ++seen) {
    auto event =
        subscriber->Next(timeout_ms > 0 ? absl::Milliseconds(timeout_ms)
                                        : absl::Hours(24 * 365));
    if (!event.ok()) return event.status();
    PrintEvent(event->first, *event->second.get());
  }
  return absl::OkStatus();
}

absl::Status Run(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("no command (see --help)");
  const std::string& command = args[0];
  auto need = [&](size_t n) -> absl::Status {
    if (args.size() != n + 1) {
      return Usage(absl::StrCat(command, " takes ", n, " argument",
                                n == 1 ? "" : "s", " (see --help)"));
    }
    return absl::OkStatus();
  };
  routing::sidecar::ClientOptions options;
  options.server = absl::GetFlag(FLAGS_server);
  options.timeout = absl::Milliseconds(absl::GetFlag(FLAGS_timeout_ms));
  options.curve_server_key = absl::GetFlag(FLAGS_curve_server_key);
  options.curve_public_key = absl::GetFlag(FLAGS_curve_public_key);
  options.curve_secret_key = absl::GetFlag(FLAGS_curve_secret_key);

  if (command == "keygen") {
    char public_key[41], secret_key[41];
    if (zmq_curve_keypair(public_key, secret_key) != 0) {
      return absl::UnavailableError("this libzmq has no CURVE support");
    }
    std::printf("public %s\nsecret %s\n", public_key, secret_key);
    return absl::OkStatus();
  }
  if (command == "watch") {
    return Watch(std::vector<std::string>(args.begin() + 1, args.end()),
                 options);
  }
  ROUTING_ASSIGN_OR_RETURN(auto client, RoutingClient::Connect(options));
  if (command == "health") {
    ROUTING_RETURN_IF_ERROR(need(0));
    ROUTING_ASSIGN_OR_RETURN(Reply reply, client->Health());
    const wire::HealthStatus* h = reply.get()->body_as_HealthStatus();
    std::printf(
        "serving=%s protocol=%d uptime=%lldms policy=v%llu "
        "in_flight=%d workers=%d run_id=%016llx\n",
        h->serving() ? "yes" : "no", h->protocol_version(),
        static_cast<long long>(h->uptime_ms()),
        static_cast<unsigned long long>(h->policy_version()), h->in_flight(),
        h->workers(), static_cast<unsigned long long>(h->run_id()));
  } else if (command == "agents") {
    ROUTING_RETURN_IF_ERROR(need(0));
    ROUTING_ASSIGN_OR_RETURN(Reply reply, client->ListAgents());
    const wire::AgentList* list = reply.get()->body_as_AgentList();
    if (list->agents() != nullptr) {
      for (const wire::AgentInfo* a : *list->agents()) {
        std::string load;
        if (a->load() != nullptr) {
          for (const wire::ChannelCapacity* c : *a->load()) {
            absl::StrAppend(&load, " ", wire::EnumNameChannelKind(c->channel()),
                            "=", c->contacts());
          }
        }
        std::printf(
            "%-16s %-16s for %-8s occupancy %3.0f%%  handled %lld%s\n",
            Text(a->id()).c_str(),
            std::string(routing::AgentStateName(
                            static_cast<routing::AgentState>(a->state())))
                .c_str(),
            FormatWait(a->time_in_state_ms()).c_str(), 100 * a->occupancy(),
            static_cast<long long>(a->contacts_handled()), load.c_str());
        if (a->kpis() != nullptr && a->kpis()->released() > 0) {
          std::printf("  kpis: %s\n", KpiText(a->kpis()).c_str());
        }
      }
    }
  } else if (command == "agent-add" || command == "agent-update") {
    ROUTING_RETURN_IF_ERROR(need(1));
    ROUTING_ASSIGN_OR_RETURN(routing::AgentProfile agent,
                             AgentFromFlags(args[1]));
    ROUTING_RETURN_IF_ERROR(command == "agent-add"
                                ? client->AddAgent(agent)
                                : client->UpdateAgent(agent));
    std::printf("agent %s %s\n", args[1].c_str(),
                command == "agent-add" ? "added" : "updated");
  } else if (command == "agent-state") {
    ROUTING_RETURN_IF_ERROR(need(2));
    routing::AgentState state;
    if (!routing::ParseAgentState(args[2], &state)) {
      return Usage(absl::StrCat("unknown agent state \"", args[2], "\""));
    }
    ROUTING_RETURN_IF_ERROR(client->SetAgentState(args[1], state));
    std::printf("agent %s is %s\n", args[1].c_str(), args[2].c_str());
  } else if (command == "agent-remove") {
    ROUTING_RETURN_IF_ERROR(need(1));
    ROUTING_RETURN_IF_ERROR(client->RemoveAgent(args[1]));
    std::printf("agent %s removed\n", args[1].c_str());
  } else if (command == "route" || command == "requeue") {
    ROUTING_RETURN_IF_ERROR(need(1));
    routing::sidecar::HandoffContext handoff;
    ROUTING_ASSIGN_OR_RETURN(routing::Contact contact,
                             ContactFromFlags(args[1], &handoff));
    absl::StatusOr<Reply> reply =
        command == "route"
            ? client->Route(contact, &handoff, /*with_explanation=*/true)
            : client->Requeue(contact, /*with_explanation=*/true);
    if (!reply.ok()) return reply.status();
    PrintDecision(*reply->get()->body_as_Decision());
  } else if (command == "cancel") {
    ROUTING_RETURN_IF_ERROR(need(1));
    ROUTING_RETURN_IF_ERROR(client->Cancel(args[1]));
    std::printf("contact %s cancelled\n", args[1].c_str());
  } else if (command == "release") {
    ROUTING_RETURN_IF_ERROR(need(1));
    routing::ContactOutcome outcome;
    if (!routing::ParseContactOutcome(absl::GetFlag(FLAGS_outcome), &outcome)) {
      return Usage(absl::StrCat("unknown outcome \"",
                                absl::GetFlag(FLAGS_outcome), "\""));
    }
    routing::ContactSurvey survey;
    survey.csat = absl::GetFlag(FLAGS_csat);
    survey.nps = absl::GetFlag(FLAGS_nps);
    ROUTING_RETURN_IF_ERROR(client->Release(args[1], outcome, survey));
    std::printf("contact %s released (%s)\n", args[1].c_str(),
                absl::GetFlag(FLAGS_outcome).c_str());
  } else if (command == "contacts") {
    if (args.size() > 2) return Usage("contacts takes at most a queue name");
    ROUTING_ASSIGN_OR_RETURN(
        Reply reply, client->ListContacts(args.size() == 2 ? args[1] : "",
                                          absl::GetFlag(FLAGS_limit)));
    PrintContactList(*reply.get()->body_as_ContactList());
  } else if (command == "contact") {
    ROUTING_RETURN_IF_ERROR(need(1));
    ROUTING_ASSIGN_OR_RETURN(Reply reply, client->GetContact(args[1]));
    PrintContact(*reply.get()->body_as_ContactInfo());
  } else if (command == "stats") {
    ROUTING_RETURN_IF_ERROR(need(0));
    ROUTING_ASSIGN_OR_RETURN(
        Reply reply, client->Stats(absl::GetFlag(FLAGS_window_seconds)));
    PrintStats(*reply.get()->body_as_Stats());
  } else if (command == "reload") {
    ROUTING_RETURN_IF_ERROR(need(1));
    ROUTING_ASSIGN_OR_RETURN(Reply reply, client->ReloadRulesFile(args[1]));
    const wire::RulesReloaded* r = reply.get()->body_as_RulesReloaded();
    if (r->accepted()) {
      std::printf("rules v%llu in force\n",
                  static_cast<unsigned long long>(r->version()));
    } else {
      std::string problems;
      if (r->problems() != nullptr) {
        for (const flatbuffers::String* p : *r->problems()) {
          absl::StrAppend(&problems, "\n", p->str());
        }
      }
      return absl::InvalidArgumentError(
          absl::StrCat("rules refused:", problems));
    }
  } else {
    return Usage(
        absl::StrCat("unknown command \"", command, "\" (see --help)"));
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  std::fflush(stdout);
  absl::Status status = Run(args);
  std::fflush(stdout);
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    // routingd refused the request for this client's CURVE key: say so, and
    // who can change it, rather than a bare message.
    std::fprintf(stderr,
                 "routing_cli: permission denied by routingd: %s\n"
                 "routing_cli: nothing was changed; the roles of a key are "
                 "set in routingd's --curve_allowed_clients_file\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  if (!status.ok()) {
    std::fprintf(stderr, "routing_cli: %s\n",
                 std::string(status.message()).c_str());
    return status.code() == absl::StatusCode::kInvalidArgument && args.empty()
               ? 2
               : 1;
  }
  return 0;
}
