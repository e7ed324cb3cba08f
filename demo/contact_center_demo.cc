// A morning in a small contact center, driven through the in-process engine
// with the built-in policy: agents log in, calls and chats arrive, some are
// queued when everyone is busy, agents finish and the queue drains, a customer
// hangs up, a call is transferred. Every decision is printed with its reasons.
//
//   bazel run //demo:contact_center_demo
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "routing/router.h"
#include "rules/lua_rules.h"

namespace {

using routing::AgentProfile;
using routing::AgentState;
using routing::Channel;
using routing::Contact;
using routing::ContactOutcome;

class PrintingListener : public routing::AssignmentListener {
 public:
  void OnAssigned(const routing::Assignment& a) override {
    std::cout << "  [event] queued contact " << a.contact_id << " assigned to "
              << a.agent_id << " after waiting "
              << absl::FormatDuration(a.waited) << "\n  "
              << a.decision.Explain() << "\n";
  }
};

AgentProfile Agent(std::string id, std::vector<routing::AgentSkill> skills,
                   std::vector<routing::AgentLanguage> languages, int voice,
                   int chat, int email, std::string team) {
  AgentProfile p;
  p.id = std::move(id);
  p.skills = std::move(skills);
  p.languages = std::move(languages);
  p.SetCapacity(Channel::kVoice, voice);
  p.SetCapacity(Channel::kChat, chat);
  p.SetCapacity(Channel::kEmail, email);
  p.team = std::move(team);
  return p;
}

Contact Call(std::string id, Channel channel,
             std::vector<routing::SkillRequirement> skills,
             std::vector<std::string> languages, std::string customer,
             int priority = 0) {
  Contact c;
  c.id = std::move(id);
  c.channel = channel;
  c.required_skills = std::move(skills);
  c.languages = std::move(languages);
  c.customer_id = std::move(customer);
  c.priority = priority;
  return c;
}

// Headings carry the engine's clock, so the story's times are the real ones.
void Section(const routing::Clock& clock, const std::string& title) {
  std::cout << "\n== "
            << absl::FormatTime("%H:%M:%S", clock.Now(), absl::UTCTimeZone())
            << " " << title << " ==\n";
}

void Show(const absl::StatusOr<routing::RoutingDecision>& decision) {
  if (decision.ok()) {
    std::cout << decision->Explain() << "\n";
  } else {
    std::cout << "refused: " << decision.status() << "\n";
  }
}

void Check(const absl::Status& status) {
  if (!status.ok()) {
    std::cerr << "demo: unexpected error: " << status << "\n";
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    std::cout << "usage: contact_center_demo\n"
                 "Runs a scripted morning of a small contact center through "
                 "the in-process\nrouting engine and prints every decision "
                 "with its explanation. No options.\n";
    return std::string(argv[1]) == "--help" ? 0 : 1;
  }
  routing::ManualClock clock(absl::FromCivil(
      absl::CivilSecond(2026, 11, 25, 8, 0, 0), absl::UTCTimeZone()));
  PrintingListener listener;
  routing::RouterOptions options;
  options.clock = &clock;
  options.listener = &listener;
  auto created = routing::Router::Create(options);
  Check(created.status());
  routing::Router& router = **created;

  Section(clock, "agents log in");
  const std::vector<AgentProfile> roster = {
      Agent("maria", {{"billing", 5}, {"payments", 4}}, {{"en", 5}, {"es", 5}},
            1, 3, 0, "billing"),
      Agent("james", {{"billing", 3}, {"sales", 4}}, {{"en", 5}}, 1, 2, 0,
            "billing"),
      Agent("aiko", {{"tech_support", 5}, {"billing", 2}},
            {{"en", 4}, {"ja", 5}}, 1, 3, 5, "support"),
      Agent("omar", {{"tech_support", 3}, {"sales", 5}},
            {{"en", 5}, {"ar", 5}, {"fr", 3}}, 1, 0, 0, "sales"),
      Agent("lena", {{"billing", 4}, {"tech_support", 4}},
            {{"de", 5}, {"en", 4}}, 0, 4, 5, "support"),
      Agent("priya", {{"sales", 3}, {"billing", 2}}, {{"en", 5}, {"hi", 5}}, 1,
            2, 0, "sales"),
  };
  for (const AgentProfile& agent : roster) {
    Check(router.AddAgent(agent));
    Check(router.SetAgentState(agent.id, AgentState::kAvailable));
    std::cout << "  " << agent.id << " (" << agent.team << ") available\n";
  }

  clock.Advance(absl::Minutes(1));
  Section(clock, "cust-100 calls sales and asks for james by name");
  Contact yesterday =
      Call("call-0", Channel::kVoice, {{"sales", 1}}, {"en"}, "cust-100");
  yesterday.preferred_agents = {"james"};
  Show(router.Route(yesterday));
  clock.Advance(absl::Minutes(6));
  Check(router.Release("call-0", ContactOutcome::kResolved));
  std::cout << "  call-0 released 6 minutes later: resolved\n";
  clock.Advance(absl::Minutes(20));
  Section(clock,
          "cust-100 calls again, about billing: affinity brings james back");
  Show(router.Route(
      Call("call-1", Channel::kVoice, {{"billing", 2}}, {"en"}, "cust-100")));

  Section(clock, "a Spanish-speaking caller with a billing dispute");
  Contact spanish = Call("call-2", Channel::kVoice, {{"billing", 3}},
                         {"es", "en"}, "cust-200");
  spanish.attributes["intent"] = "dispute_charge";
  Show(router.Route(spanish));

  Section(clock,
          "a German web chat for tech support, handed over by the chatbot");
  Contact chat = Call("chat-1", Channel::kChat, {{"tech_support", 2}},
                      {"de", "en"}, "cust-300");
  chat.attributes["summary"] = "router keeps rebooting after firmware 4.2";
  chat.attributes["sentiment"] = "frustrated";
  Show(router.Route(chat));

  Section(clock,
          "more billing calls than free billing agents: the queue forms");
  for (int i = 3; i <= 6; ++i) {
    clock.Advance(absl::Seconds(15));
    Show(router.Route(Call(absl::StrFormat("call-%d", i), Channel::kVoice,
                           {{"billing", 2}}, {"en"},
                           absl::StrFormat("cust-%d", 400 + i))));
  }
  clock.Advance(absl::Seconds(10));
  std::cout << "-- a VIP arrives last but goes to the front (priority 5 = 150 "
               "s of aging):\n";
  Show(router.Route(Call("call-vip", Channel::kVoice, {{"billing", 2}}, {"en"},
                         "cust-vip", 5)));
  std::cout << "-- the supervisor's wall board lists the billing queue:\n";
  for (const routing::QueuedContact& q : router.QueuedContacts("billing")) {
    std::cout << absl::StrFormat(
        "  %d. %-9s waiting %-6s priority %d\n", q.queue_position,
        q.contact.id,
        absl::FormatDuration(absl::Trunc(q.waited, absl::Seconds(1))),
        q.contact.priority);
  }

  clock.Advance(absl::Seconds(40));
  Section(clock, "a customer in the queue hangs up");
  Check(router.Cancel("call-6"));
  std::cout << "  call-6 cancelled\n";

  clock.Advance(absl::Minutes(2));
  Section(clock, "maria finishes the Spanish call; the queue drains to her");
  Check(router.Release("call-2", ContactOutcome::kResolved));

  clock.Advance(absl::Minutes(2));
  Section(clock, "james transfers cust-100 to tech support (tier 2)");
  Contact transfer = Call("call-1", Channel::kVoice, {{"tech_support", 4}},
                          {"en"}, "cust-100");
  transfer.queue = "tech_tier2";
  Show(router.Requeue(transfer));

  Section(clock, "CRM says: never route cust-500 to omar");
  Contact negative =
      Call("call-7", Channel::kVoice, {{"sales", 3}}, {"en"}, "cust-500");
  negative.excluded_agents = {"omar"};
  Show(router.Route(negative));

  Section(clock, "bad input is refused with a reason, and nothing changes");
  Show(router.Route(
      Call("call-8", Channel::kVoice, {{"mortgages", 1}}, {"en"}, "cust-600")));
  Show(router.Route(
      Call("call-9", Channel::kVoice, {{"billing", 1}}, {"tlh"}, "cust-601")));
  Show(router.Route(
      Call("call-7", Channel::kVoice, {{"sales", 1}}, {"en"}, "cust-602")));
  AgentProfile nobody =
      Agent("ghost", {{"billing", 3}}, {{"en", 5}}, 0, 0, 0, "none");
  std::cout << "refused: " << router.AddAgent(nobody) << "\n";
  std::cout << "refused: "
            << router.Release("call-404", ContactOutcome::kResolved) << "\n";

  Section(clock,
          "operations edits the routing rules: a broken edit is refused");
  {
    std::vector<rules::RulesProblem> problems;
    auto broken = rules::CompileRules(
        "preferred_agent.lua",
        "return {\n  score = function(c, a)\n    return a.score + tier(c)\n"
        "  end,\n}\n",
        rules::RulesOptions(), &problems);
    std::cout << "refused (" << (broken.ok() ? "?" : "invalid") << "):\n";
    for (const rules::RulesProblem& p : problems) {
      std::cout << "  " << p.ToString() << "\n";
    }
    std::cout << "rules version still in force: " << router.RulesVersion()
              << " (built-in policy)\n";
  }

  Section(
      clock,
      "the fixed file goes live: preferred agent first, with timed fallback");
  auto preferred = rules::LoadRulesFile("rules/examples/preferred_agent.lua",
                                        rules::RulesOptions());
  Check(preferred.status());
  std::cout << "rules/examples/preferred_agent.lua: "
            << (*preferred)->tests_passed() << " tests passed, "
            << (*preferred)->steps().size() << " steps; in force as version "
            << router.SetRules(*preferred) << "\n";
  for (const AgentProfile& agent :
       {Agent("tess", {{"sales", 5}}, {{"en", 5}}, 1, 0, 0, "sales"),
        Agent("sam", {{"sales", 2}}, {{"en", 5}}, 1, 0, 0, "sales")}) {
    Check(router.AddAgent(agent));
  }
  Check(router.SetAgentState("tess", AgentState::kBreak));
  Check(router.SetAgentState("sam", AgentState::kAvailable));
  std::cout << "  tess (sales 5) on a break, sam (sales 2) available\n";
  Contact loyal =
      Call("call-10", Channel::kVoice, {{"sales", 1}}, {"en"}, "cust-700");
  loyal.preferred_agents = {"tess"};
  std::cout << "-- cust-700 always talks to tess: for 20 s only tess may take "
               "the call\n";
  Show(router.Route(loyal));
  clock.Advance(absl::Seconds(25));
  std::cout << "-- 25 s later the host's periodic AdvanceQueues() moves it to "
               "the next step:\n";
  router.AdvanceQueues();

  clock.Advance(absl::Minutes(8));
  Section(clock, "agents finish their contacts; the queues drain; statistics");
  // Releasing frees capacity that the queues take at once, so go round until
  // every contact has been served.
  // Customers answer the post-contact survey (CSAT 1..5, NPS 0..10); call-5
  // was not resolved.
  struct Survey {
    const char* id;
    int csat;
    int nps;
  };
  const Survey surveys[] = {{"call-1", 4, 8},   {"call-3", 5, 10},
                            {"call-4", 3, 6},   {"call-5", 2, 3},
                            {"call-vip", 5, 9}, {"call-7", 4, 9},
                            {"call-10", 5, 10}, {"chat-1", 4, 7}};
  for (bool released = true; released;) {
    released = false;
    for (const Survey& survey : surveys) {
      absl::StatusOr<routing::ContactStatus> status =
          router.GetContact(survey.id);
      if (status.ok() &&
          status->state == routing::ContactStatus::State::kAssigned) {
        routing::ContactSurvey answers;
        answers.csat = survey.csat;
        answers.nps = survey.nps;
        Check(router.Release(survey.id,
                             std::string_view(survey.id) == "call-5"
                                 ? ContactOutcome::kUnresolved
                                 : ContactOutcome::kResolved,
                             answers));
        released = true;
      }
    }
    clock.Advance(absl::Minutes(4));
  }
  const routing::RouterStats stats = router.Stats();
  std::cout << absl::StrFormat(
      "decisions %d: %d assigned at once, %d queued, %d assigned from the "
      "queue, "
      "%d cancelled, %d released; contacts still held: %d\n",
      stats.decisions, stats.assigned_immediately, stats.queued,
      stats.assigned_from_queue, stats.cancelled, stats.released,
      stats.contacts_held);
  std::cout << absl::StrFormat(
      "%-12s %8s %9s %9s %8s %10s %10s %5s %5s %5s\n", "queue", "waiting",
      "answered", "abandoned", "SL 20s", "ASA", "AHT", "FCR", "CSAT", "NPS");
  for (const routing::QueueStats& q : stats.queues) {
    std::cout << absl::StrFormat(
        "%-12s %8d %9d %9d %7.0f%% %10s %10s %4.0f%% %5.1f %+5.0f\n", q.queue,
        q.waiting, q.answered, q.abandoned, 100 * q.service_level,
        absl::FormatDuration(
            absl::Trunc(q.average_speed_of_answer, absl::Seconds(1))),
        absl::FormatDuration(
            absl::Trunc(q.kpis.AverageHandleTime(), absl::Seconds(1))),
        100 * q.kpis.FirstContactResolution(), q.kpis.AverageCsat(),
        q.kpis.NetPromoterScore());
  }
  std::cout << "\ncust-100's history (most recent first):\n";
  for (const routing::CustomerInteraction& i :
       router.CustomerHistory("cust-100")) {
    std::cout << "  " << absl::FormatTime("%H:%M", i.time, absl::UTCTimeZone())
              << " " << i.agent_id << " " << routing::ChannelName(i.channel)
              << " " << routing::ContactOutcomeName(i.outcome) << "\n";
  }
  return 0;
}
