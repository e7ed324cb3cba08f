#include "sidecar/event_topics.h"

#include <string>

#include "gtest/gtest.h"

namespace routing::sidecar {
namespace {

TEST(EventTopicsTest, EveryTopicEndsWithNul) {
  EXPECT_EQ(ContactTopic("chat-1"), std::string("contact/chat-1\0", 15));
  EXPECT_EQ(QueueTopic("billing"), std::string("queue/billing\0", 14));
  EXPECT_EQ(AgentTopic("alice"), std::string("agent/alice\0", 12));
  EXPECT_EQ(kRulesReloadTopic, std::string("rules/reload\0", 13));
  EXPECT_EQ(kRulesSuspendedTopic, std::string("rules/suspended\0", 16));
}

// ZeroMQ matches subscriptions by prefix: the exact topic of chat-1 must not
// be a prefix of chat-10's.
TEST(EventTopicsTest, AnExactTopicIsNoPrefixOfASiblingId) {
  const std::string chat1 = ContactTopic("chat-1");
  const std::string chat10 = ContactTopic("chat-10");
  EXPECT_NE(chat10.compare(0, chat1.size(), chat1), 0);
  EXPECT_EQ(chat1.compare(0, chat1.size(), chat1), 0);
}

TEST(EventTopicsTest, SubscriptionForKeepsFamiliesAndEndsExactTopics) {
  EXPECT_EQ(SubscriptionFor("contact/chat-1"), ContactTopic("chat-1"));
  EXPECT_EQ(SubscriptionFor("queue/"), "queue/");
  EXPECT_EQ(SubscriptionFor("rules/"), "rules/");
  EXPECT_EQ(SubscriptionFor(""), "");
  EXPECT_EQ(SubscriptionFor(AgentTopic("bob")), AgentTopic("bob"));
  EXPECT_EQ(SubscriptionFor("rules/reload"), kRulesReloadTopic);
}

TEST(EventTopicsTest, FamiliesAndPrintableTopics) {
  TopicFamily family;
  ASSERT_TRUE(FamilyOf(ContactTopic("x"), &family));
  EXPECT_EQ(family, TopicFamily::kContact);
  ASSERT_TRUE(FamilyOf(QueueTopic("x"), &family));
  EXPECT_EQ(family, TopicFamily::kQueue);
  ASSERT_TRUE(FamilyOf(AgentTopic("x"), &family));
  EXPECT_EQ(family, TopicFamily::kAgent);
  ASSERT_TRUE(FamilyOf(kRulesSuspendedTopic, &family));
  EXPECT_EQ(family, TopicFamily::kRules);
  EXPECT_FALSE(FamilyOf("contacts/x", &family));
  EXPECT_EQ(PrintableTopic(ContactTopic("chat-1")), "contact/chat-1");
  EXPECT_EQ(PrintableTopic("queue/"), "queue/");
}

}  // namespace
}  // namespace routing::sidecar
