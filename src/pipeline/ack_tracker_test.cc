#include "pipeline/ack_tracker.h"

#include <gtest/gtest.h>

namespace sluice::pipeline {
namespace {

TEST(AckTrackerTest, IdleConfirmsKeepaliveWalEnd) {
  AckTracker acks(100, {Position{}});
  EXPECT_EQ(acks.SafeLsn(), 100u);
  acks.Idle(500);
  EXPECT_EQ(acks.SafeLsn(), 500u);
}

TEST(AckTrackerTest, PendingMessagePinsItsTransactionCommitLsn) {
  AckTracker acks(100, {Position{}});
  acks.BeginTransaction(200);
  uint64_t t = acks.Track(0, {200, 0});
  acks.CommitTransaction(250);
  acks.Idle(900);
  EXPECT_EQ(acks.SafeLsn(), 200u);
  acks.Ack(0, t);
  EXPECT_EQ(acks.SafeLsn(), 900u);
}

TEST(AckTrackerTest, OutOfOrderAcksAdvanceOnlyTheContiguousPrefix) {
  AckTracker acks(100, {Position{}});
  acks.BeginTransaction(200);
  uint64_t a = acks.Track(0, {200, 0});
  uint64_t b = acks.Track(0, {200, 1});
  acks.CommitTransaction(210);
  acks.BeginTransaction(300);
  uint64_t c = acks.Track(0, {300, 0});
  acks.CommitTransaction(310);
  acks.Ack(0, c);
  acks.Ack(0, b);
  EXPECT_EQ(acks.SafeLsn(), 200u);
  EXPECT_EQ(acks.AckedThrough()[0], Position{});
  acks.Ack(0, a);
  EXPECT_EQ(acks.SafeLsn(), 310u);
  EXPECT_EQ(acks.AckedThrough()[0], (Position{300, 0}));
}

TEST(AckTrackerTest, SlowestSinkDecides) {
  AckTracker acks(100, {Position{}, Position{}});
  acks.BeginTransaction(200);
  uint64_t fast = acks.Track(0, {200, 0});
  acks.Track(1, {200, 0});
  acks.CommitTransaction(220);
  acks.Ack(0, fast);
  EXPECT_EQ(acks.SafeLsn(), 200u);
  EXPECT_EQ(acks.InFlight(1), 1u);
}

TEST(AckTrackerTest, OpenTransactionIgnoresKeepalive) {
  AckTracker acks(100, {Position{}});
  acks.BeginTransaction(200);
  acks.Idle(999);
  EXPECT_EQ(acks.SafeLsn(), 100u);
  acks.Reconnected();
  acks.Idle(150);
  EXPECT_EQ(acks.SafeLsn(), 150u);
}

TEST(AckTrackerTest, SafeLsnNeverDecreases) {
  AckTracker acks(100, {Position{}});
  acks.Idle(500);
  EXPECT_EQ(acks.SafeLsn(), 500u);
  acks.BeginTransaction(400);  // cannot happen on a sane server; must not go back
  acks.Track(0, {400, 0});
  EXPECT_EQ(acks.SafeLsn(), 500u);
}

TEST(AckTrackerTest, SkipsWhatAnEarlierRunAcknowledgedAndWhatThisRunRouted) {
  AckTracker acks(100, {Position{200, 1}});
  EXPECT_TRUE(acks.ShouldSkip(0, {200, 0}));
  EXPECT_TRUE(acks.ShouldSkip(0, {200, 1}));
  EXPECT_FALSE(acks.ShouldSkip(0, {200, 2}));
  acks.Track(0, {300, 4});
  EXPECT_TRUE(acks.ShouldSkip(0, {300, 4}));
  EXPECT_TRUE(acks.ShouldSkip(0, {300, 3}));
  EXPECT_FALSE(acks.ShouldSkip(0, {300, 5}));
}

TEST(AckTrackerTest, NoCheckpointSkipsNothing) {
  AckTracker acks(100, {Position{}});
  EXPECT_FALSE(acks.ShouldSkip(0, {1, 0}));
}

}  // namespace
}  // namespace sluice::pipeline
