#include "sidecar/allowed_clients.h"

#include <zmq.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace routing::sidecar {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// A fresh client public key in Z85.
std::string NewKey() {
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) std::abort();
  return public_key;
}

const RoleSet kRoute = RoleSet::Of(ClientRole::kRoute);
const RoleSet kAgents = RoleSet::Of(ClientRole::kAgents);
const RoleSet kAdmin = RoleSet::Of(ClientRole::kAdmin);

TEST(ParseAllowedClientsTest, ReadsKeysWithRolesCommentsAndBlankLines) {
  const std::string bot = NewKey(), wfm = NewKey(), desk = NewKey(),
                    ops = NewKey();
  const std::string text =
      absl::StrCat("# billing chatbot\n",                            // 1
                   bot, " route\n",                                  // 2
                   "\n",                                             // 3
                   "   # workforce management\n",                    // 4
                   "\t", wfm, "\tagents   \n",                       // 5
                   desk, "  route, agents   # the agent desktop\n",  // 6
                   ops, " admin\r\n",                                // 7 (CRLF)
                   "   \n");                                         // 8
  absl::StatusOr<AllowedClients> allowed =
      ParseAllowedClients(text, "clients.txt");
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_THAT(allowed->warnings, IsEmpty());
  ASSERT_THAT(allowed->clients, SizeIs(4));
  const AllowedClient& first = allowed->clients[0];
  EXPECT_EQ(first.public_key, bot);
  EXPECT_EQ(first.roles, kRoute);
  EXPECT_EQ(first.line, 2);
  uint8_t raw[32];
  ASSERT_NE(zmq_z85_decode(raw, bot.c_str()), nullptr);
  EXPECT_EQ(first.raw_public_key,
            std::string(reinterpret_cast<const char*>(raw), 32));
  EXPECT_EQ(allowed->clients[1].public_key, wfm);
  EXPECT_EQ(allowed->clients[1].roles, kAgents);
  EXPECT_EQ(allowed->clients[1].line, 5);
  EXPECT_EQ(allowed->clients[2].roles, kRoute.With(ClientRole::kAgents));
  EXPECT_EQ(allowed->clients[3].public_key, ops);
  EXPECT_EQ(allowed->clients[3].roles, kAdmin);
  EXPECT_EQ(allowed->clients[3].line, 7);
}

TEST(ParseAllowedClientsTest, AKeyAloneGetsEveryRoleWithAWarning) {
  const std::string old_format = NewKey(), with_comment = NewKey();
  absl::StatusOr<AllowedClients> allowed =
      ParseAllowedClients(absl::StrCat("# allowed\n", old_format, "\n",
                                       with_comment, "   # no roles either\n"),
                          "clients");
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  ASSERT_THAT(allowed->clients, SizeIs(2));
  EXPECT_EQ(allowed->clients[0].roles, RoleSet::All());
  EXPECT_EQ(allowed->clients[1].roles, RoleSet::All());
  EXPECT_THAT(allowed->warnings,
              ElementsAre(AllOf(HasSubstr("clients:2: key " + old_format),
                                HasSubstr("gets every role")),
                          HasSubstr("clients:3: key " + with_comment)));
}

TEST(ParseAllowedClientsTest, BadKeysAreRefusedWithTheirLine) {
  const std::string good = NewKey();
  std::string not_z85 = NewKey();
  not_z85[7] = '"';  // Not one of the 85 characters.
  absl::StatusOr<AllowedClients> allowed = ParseAllowedClients(
      absl::StrCat("# allowed\n", good, " route\n", good.substr(0, 39),
                   " route\n", not_z85, " admin\n", "route ", good, "\n"),
      "/etc/routingd/clients");
  ASSERT_FALSE(allowed.ok());
  EXPECT_EQ(allowed.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(allowed.status().message());
  EXPECT_THAT(message,
              HasSubstr("/etc/routingd/clients:3: key \"" + good.substr(0, 39) +
                        "\" has 39 characters; a client public key "
                        "is 40 Z85 characters"));
  EXPECT_THAT(message, HasSubstr("/etc/routingd/clients:4: key \"" + not_z85 +
                                 "\" is not valid Z85"));
  EXPECT_THAT(message, HasSubstr("/etc/routingd/clients:5: key \"route\" has "
                                 "5 characters"));
  EXPECT_THAT(message, Not(HasSubstr("clients:2:")));
}

TEST(ParseAllowedClientsTest, UnknownRolesAreRefusedWithTheirLine) {
  const std::string a = NewKey(), b = NewKey();
  absl::StatusOr<AllowedClients> allowed = ParseAllowedClients(
      absl::StrCat(a, " route,agents\n", "\n", b, " route,superuser\n"),
      "clients");
  ASSERT_FALSE(allowed.ok());
  EXPECT_EQ(allowed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(allowed.status().message(),
            "clients:3: unknown role \"superuser\"; the roles are route, "
            "agents and admin");
  // Case matters: the roles are written as the table names them.
  EXPECT_THAT(ParseAllowedClients(a + " Admin\n", "f").status().message(),
              HasSubstr("f:1: unknown role \"Admin\""));
}

TEST(ParseAllowedClientsTest, AKeyListedTwiceIsRefused) {
  const std::string a = NewKey();
  absl::StatusOr<AllowedClients> allowed = ParseAllowedClients(
      absl::StrCat(a, " route\n", a, " admin\n"), "clients");
  ASSERT_FALSE(allowed.ok());
  EXPECT_THAT(
      allowed.status().message(),
      HasSubstr("clients:2: key " + a + " is already listed on line 1"));
}

TEST(ParseAllowedClientsTest, AFileWithoutKeysIsRefused) {
  for (const char* text : {"", "\n\n", "# nobody yet\n"}) {
    absl::StatusOr<AllowedClients> allowed = ParseAllowedClients(text, "f");
    ASSERT_FALSE(allowed.ok()) << text;
    EXPECT_THAT(allowed.status().message(),
                HasSubstr("f: lists no client key"));
  }
}

TEST(ParseAllowedClientsTest, ACommentedOutKeyIsOnlyAComment) {
  const std::string retired = NewKey(), current = NewKey();
  absl::StatusOr<AllowedClients> allowed =
      ParseAllowedClients(absl::StrCat("#", retired, " admin\n", "# ", retired,
                                       "\n", current, " route\n"),
                          "clients");
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  ASSERT_THAT(allowed->clients, SizeIs(1));
  EXPECT_EQ(allowed->clients[0].public_key, current);
  EXPECT_THAT(allowed->warnings, IsEmpty());
}

TEST(IsZ85KeyTest, NoKeyStartsWithAHash) {
  // Z85 decodes 5 characters to 4 bytes; '#' (and '$') first would be a
  // value above 2^32. So "#..." lines can safely be comments.
  std::string key = NewKey();
  EXPECT_TRUE(IsZ85Key(key));
  key[0] = '#';
  EXPECT_FALSE(IsZ85Key(key));
  key[0] = '$';
  EXPECT_FALSE(IsZ85Key(key));
  EXPECT_FALSE(IsZ85Key(key.substr(1)));
}

TEST(ReadAllowedClientsFileTest, ReadsTheFileAndNamesItInProblems) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string path = dir + "/clients";
  const std::string key = NewKey();
  std::ofstream(path) << "# ok\n" << key << " agents\n" << key << " x\n";
  absl::StatusOr<AllowedClients> allowed = ReadAllowedClientsFile(path);
  ASSERT_FALSE(allowed.ok());
  EXPECT_THAT(allowed.status().message(),
              HasSubstr(path + ":3: unknown role \"x\""));
  EXPECT_EQ(ReadAllowedClientsFile(dir + "/missing").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace routing::sidecar
