#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
TEST(Smoke, Works) { absl::StatusOr<int> s = 3; EXPECT_EQ(absl::StrCat("a", *s), "a3"); }
