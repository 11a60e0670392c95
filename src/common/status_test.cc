#include "common/status.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(StatusTest, DefaultIsOkAndCarriesNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, RetryClassesAreDistinct) {
  EXPECT_TRUE(Status::Retryable("x").IsRetryable());
  EXPECT_TRUE(Status::Permanent("x").IsPermanent());
  EXPECT_TRUE(Status::Fatal("x").IsFatal());
  EXPECT_FALSE(Status::Fatal("x").IsRetryable());
}

TEST(StatusTest, WithContextPrefixesAndKeepsClass) {
  Status s = Status::Permanent("bad byte").WithContext("decoding Insert");
  EXPECT_TRUE(s.IsPermanent());
  EXPECT_EQ(s.message(), "decoding Insert: bad byte");
  EXPECT_EQ(s.ToString(), "permanent: decoding Insert: bad byte");
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::Permanent("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  SLUICE_ASSIGN_OR_RETURN(int half, Half(v));
  SLUICE_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(ResultTest, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd");
}

}  // namespace
}  // namespace sluice
