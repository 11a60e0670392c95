#include "config/conninfo.h"

#include <gtest/gtest.h>

namespace sluice::config {
namespace {

TEST(ConninfoTest, QuotesEveryValueAndEscapesQuotesAndBackslashes) {
  EXPECT_EQ(BuildConninfo({{"host", "db"}, {"password", R"(a b'c\d)"}, {"user", ""}}),
            R"(host='db' password='a b\'c\\d' user='')");
}

TEST(ConninfoTest, OnlyPostgresSchemesAreUrls) {
  EXPECT_TRUE(IsPostgresUrl("postgres://db/app"));
  EXPECT_TRUE(IsPostgresUrl("postgresql://db/app"));
  EXPECT_FALSE(IsPostgresUrl("host=db dbname=app"));
  EXPECT_FALSE(IsPostgresUrl("mysql://db/app"));
  EXPECT_FALSE(IsPostgresUrl("Postgres://db/app"));
}

TEST(ConninfoTest, DisplayDropsUserAndPassword) {
  EXPECT_EQ(DisplayFromUrl("postgres://u:p%40ss@db.internal:6543/app?sslmode=require"),
            "db.internal:6543/app");
  EXPECT_EQ(DisplayFromUrl("postgres://u:p@ss@db/app"), "db:5432/app");
}

TEST(ConninfoTest, DisplayFillsDefaultsAndReadsQueryParameters) {
  EXPECT_EQ(DisplayFromUrl("postgresql://"), "localhost:5432");
  EXPECT_EQ(DisplayFromUrl("postgresql:///app?host=%2Fvar%2Frun%2Fpostgresql&port=5433"),
            "/var/run/postgresql:5433/app");
  EXPECT_EQ(DisplayFromUrl("postgresql://db?dbname=app"), "db:5432/app");
}

TEST(ConninfoTest, DisplayKeepsIpv6AndSeveralHosts) {
  EXPECT_EQ(DisplayFromUrl("postgres://[::1]:5433/app"), "[::1]:5433/app");
  EXPECT_EQ(DisplayFromUrl("postgres://[::1]/app"), "[::1]:5432/app");
  EXPECT_EQ(DisplayFromUrl("postgres://u@h1:5432,h2:5433/app"), "h1:5432,h2:5433/app");
}

TEST(ConninfoTest, DisplayOfMalformedUrlDoesNotCrash) {
  EXPECT_EQ(DisplayFromUrl("postgres://[::1"), "[::1:5432");
  EXPECT_EQ(DisplayFromUrl("postgres://db/%zz%4"), "db:5432/%zz%4");
}

}  // namespace
}  // namespace sluice::config
