#include "sidecar/offer_timeouts.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace routing::sidecar {
namespace {

using ::testing::HasSubstr;

TEST(OfferTimeoutsTest, NamedChannelsGetTheirTimeoutTheOthersNone) {
  absl::StatusOr<OfferTimeouts> t = ParseOfferTimeouts("chat=30s,voice=1m30s");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)[ChannelIndex(Channel::kChat)], absl::Seconds(30));
  EXPECT_EQ((*t)[ChannelIndex(Channel::kVoice)], absl::Seconds(90));
  EXPECT_EQ((*t)[ChannelIndex(Channel::kEmail)], absl::ZeroDuration());
  absl::StatusOr<OfferTimeouts> none = ParseOfferTimeouts("");
  ASSERT_TRUE(none.ok());
  for (absl::Duration d : *none) EXPECT_EQ(d, absl::ZeroDuration());
}

TEST(OfferTimeoutsTest, RefusalsNameThePairAtFault) {
  EXPECT_THAT(ParseOfferTimeouts("chat").status().message(),
              HasSubstr("\"chat\" is not CHANNEL=DURATION"));
  EXPECT_THAT(ParseOfferTimeouts("fax=10s").status().message(),
              HasSubstr("unknown channel \"fax\""));
  EXPECT_THAT(ParseOfferTimeouts("chat=10s,chat=20s").status().message(),
              HasSubstr("chat is named twice"));
  EXPECT_THAT(ParseOfferTimeouts("chat=soon").status().message(),
              HasSubstr("\"soon\" (for chat) is not a duration"));
  EXPECT_THAT(ParseOfferTimeouts("voice=2h").status().message(),
              HasSubstr("voice=2h is out of range"));
  EXPECT_THAT(ParseOfferTimeouts("voice=0s").status().message(),
              HasSubstr("out of range"));
}

}  // namespace
}  // namespace routing::sidecar
