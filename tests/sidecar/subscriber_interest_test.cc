#include "sidecar/subscriber_interest.h"

#include <string>

#include "gtest/gtest.h"

namespace routing::sidecar {
namespace {

TEST(SubscriberInterestTest, NobodySubscribedWantsNothing) {
  SubscriberInterest interest;
  for (TopicFamily f : {TopicFamily::kContact, TopicFamily::kQueue,
                        TopicFamily::kAgent, TopicFamily::kRules}) {
    EXPECT_FALSE(interest.Wants(f));
  }
}

TEST(SubscriberInterestTest, ATopicOrAFamilyWantsItsFamilyOnly) {
  SubscriberInterest interest;
  interest.Subscribe(std::string("contact/chat-1\0", 15));
  EXPECT_TRUE(interest.Wants(TopicFamily::kContact));
  EXPECT_FALSE(interest.Wants(TopicFamily::kQueue));
  EXPECT_FALSE(interest.Wants(TopicFamily::kAgent));
  interest.Subscribe("agent/");
  EXPECT_TRUE(interest.Wants(TopicFamily::kAgent));
  EXPECT_FALSE(interest.Wants(TopicFamily::kRules));
}

TEST(SubscriberInterestTest, EverythingAndShortPrefixesWantEveryMatchingFamily) {
  SubscriberInterest everything;
  everything.Subscribe("");
  EXPECT_TRUE(everything.Wants(TopicFamily::kRules));
  EXPECT_TRUE(everything.Wants(TopicFamily::kContact));
  SubscriberInterest short_prefix;
  short_prefix.Subscribe("qu");
  EXPECT_TRUE(short_prefix.Wants(TopicFamily::kQueue));
  EXPECT_FALSE(short_prefix.Wants(TopicFamily::kContact));
}

TEST(SubscriberInterestTest, XpubMessagesSubscribeAndTheLastUnsubscribeEnds) {
  SubscriberInterest interest;
  const uint8_t subscribe[] = {1, 'q', 'u', 'e', 'u', 'e', '/'};
  const uint8_t unsubscribe[] = {0, 'q', 'u', 'e', 'u', 'e', '/'};
  const uint8_t noise[] = {7, 'x'};
  EXPECT_TRUE(interest.Apply(subscribe, sizeof(subscribe)));
  EXPECT_TRUE(interest.Apply(subscribe, sizeof(subscribe)));
  EXPECT_TRUE(interest.Wants(TopicFamily::kQueue));
  EXPECT_TRUE(interest.Apply(unsubscribe, sizeof(unsubscribe)));
  EXPECT_TRUE(interest.Wants(TopicFamily::kQueue));  // One is left.
  EXPECT_TRUE(interest.Apply(unsubscribe, sizeof(unsubscribe)));
  EXPECT_FALSE(interest.Wants(TopicFamily::kQueue));
  EXPECT_FALSE(interest.Apply(noise, sizeof(noise)));
  EXPECT_FALSE(interest.Apply(noise, 0));
  EXPECT_EQ(interest.subscriptions(), 0u);
}

}  // namespace
}  // namespace routing::sidecar
