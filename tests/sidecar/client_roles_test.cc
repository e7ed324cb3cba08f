#include "sidecar/client_roles.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace routing::sidecar {
namespace {

using ::testing::HasSubstr;
using wire::RequestBody;

const RoleSet kRoute = RoleSet::Of(ClientRole::kRoute);
const RoleSet kAgents = RoleSet::Of(ClientRole::kAgents);
const RoleSet kAdmin = RoleSet::Of(ClientRole::kAdmin);

TEST(ClientRoleTest, NamesReadBackAndNothingElseParses) {
  for (ClientRole role :
       {ClientRole::kRoute, ClientRole::kAgents, ClientRole::kAdmin}) {
    EXPECT_EQ(ParseClientRole(ClientRoleName(role)), role);
  }
  for (const char* bad : {"", "Route", "routes", "agent", "ADMIN", " admin"}) {
    EXPECT_EQ(ParseClientRole(bad), std::nullopt) << bad;
  }
}

TEST(RoleSetTest, PrintsItsRolesInOrder) {
  EXPECT_EQ(RoleSet().ToString(), "none");
  EXPECT_EQ(kAdmin.With(ClientRole::kRoute).ToString(), "route,admin");
  EXPECT_EQ(RoleSet::All().ToString(), "route,agents,admin");
  EXPECT_EQ(RoleSet::FromBits(0xff), RoleSet::All());
}

TEST(RolesPermittingTest, EachRequestTypeNeedsItsRole) {
  for (RequestBody type :
       {RequestBody::RouteContact, RequestBody::RequeueContact,
        RequestBody::CancelContact, RequestBody::ReleaseContact}) {
    EXPECT_TRUE(Permits(kRoute, type)) << EnumNameRequestBody(type);
    EXPECT_FALSE(Permits(kAgents, type)) << EnumNameRequestBody(type);
    EXPECT_TRUE(Permits(kAdmin, type)) << EnumNameRequestBody(type);
  }
  // The platform that routes contacts answers their offers.
  for (RequestBody type : {RequestBody::AcceptOffer, RequestBody::RejectOffer}) {
    EXPECT_TRUE(Permits(kRoute, type)) << EnumNameRequestBody(type);
    EXPECT_FALSE(Permits(kAgents, type)) << EnumNameRequestBody(type);
    EXPECT_TRUE(Permits(kAdmin, type)) << EnumNameRequestBody(type);
  }
  for (RequestBody type :
       {RequestBody::AddAgent, RequestBody::UpdateAgent,
        RequestBody::RemoveAgent, RequestBody::SetAgentState}) {
    EXPECT_FALSE(Permits(kRoute, type)) << EnumNameRequestBody(type);
    EXPECT_TRUE(Permits(kAgents, type)) << EnumNameRequestBody(type);
    EXPECT_TRUE(Permits(kAdmin, type)) << EnumNameRequestBody(type);
  }
  for (RequestBody type :
       {RequestBody::ListAgents, RequestBody::GetStats, RequestBody::Health,
        RequestBody::GetContact, RequestBody::ListContacts}) {
    EXPECT_TRUE(Permits(kRoute, type)) << EnumNameRequestBody(type);
    EXPECT_TRUE(Permits(kAgents, type)) << EnumNameRequestBody(type);
    EXPECT_TRUE(Permits(kAdmin, type)) << EnumNameRequestBody(type);
    EXPECT_FALSE(Permits(RoleSet(), type)) << EnumNameRequestBody(type);
  }
  EXPECT_FALSE(
      Permits(kRoute.With(ClientRole::kAgents), RequestBody::ReloadRules));
  EXPECT_TRUE(Permits(kAdmin, RequestBody::ReloadRules));
}

TEST(RolesPermittingTest, EveryRequestTypeIsPlacedAndUnknownOnesNeedAdmin) {
  // A union member added to routing.fbs without a row in the table needs
  // admin; this lists today's members so a new one is a decision, not luck.
  for (int i = static_cast<int>(RequestBody::MIN) + 1;
       i <= static_cast<int>(RequestBody::MAX); ++i) {
    const RoleSet permitting = RolesPermitting(static_cast<RequestBody>(i));
    EXPECT_TRUE(permitting.Has(ClientRole::kAdmin)) << i;
  }
  EXPECT_EQ(static_cast<int>(RequestBody::MAX),
            static_cast<int>(RequestBody::RejectOffer))
      << "a new request type: place it in RolesPermitting (client_roles.cc), "
         "the README's role table, and here";
  EXPECT_EQ(RolesPermitting(static_cast<RequestBody>(200)), kAdmin);
  EXPECT_EQ(RolesPermitting(RequestBody::NONE), kAdmin);
}

TEST(PermissionDeniedMessageTest, NamesTheRequestTheRoleAndWhatTheKeyHas) {
  EXPECT_EQ(PermissionDeniedMessage(RequestBody::ReloadRules, kRoute),
            "ReloadRules needs the admin role; this client's key has route");
  EXPECT_EQ(PermissionDeniedMessage(RequestBody::AddAgent, kRoute),
            "AddAgent needs the agents role; this client's key has route");
  EXPECT_EQ(PermissionDeniedMessage(RequestBody::RouteContact, kAgents),
            "RouteContact needs the route role; this client's key has agents");
  EXPECT_THAT(PermissionDeniedMessage(RequestBody::Health, RoleSet()),
              HasSubstr("Health needs any role; this client's key has no "
                        "role"));
  EXPECT_THAT(PermissionDeniedMessage(static_cast<RequestBody>(200), kRoute),
              HasSubstr("an unknown request type needs the admin role"));
}

TEST(ZapUserIdTest, RolesReadBackFromTheUserId) {
  const std::string key(40, 'k');
  for (RoleSet roles : {kRoute, kAgents, kAdmin,
                        kRoute.With(ClientRole::kAgents), RoleSet::All()}) {
    const std::string user_id = ZapUserId(key, roles);
    EXPECT_EQ(user_id.substr(0, 40), key);
    EXPECT_EQ(RolesFromZapUserId(user_id), roles) << user_id;
  }
  EXPECT_EQ(ZapUserId(key, kRoute.With(ClientRole::kAgents)),
            key + " route,agents");
}

TEST(ZapUserIdTest, AnythingElseReadsAsNoRole) {
  for (const char* bad :
       {"", "admin", "key", "key ", "key admin,", "key ,admin", "key Admin",
        "key route;admin", "key admin,root"}) {
    EXPECT_TRUE(RolesFromZapUserId(bad).empty()) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace routing::sidecar
