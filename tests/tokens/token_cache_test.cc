// The verified-token cache and the jti replay cache.
#include "tokens/token_cache.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tokens/verifier.h"

namespace verdict::tokens {
namespace {

std::shared_ptr<const VerifiedToken> TokenWithJti(const std::string& jti) {
  auto token = std::make_shared<VerifiedToken>();
  token->jti = jti;
  return token;
}

TEST(VerifiedTokenCache, NeverServesExpiredEntries) {
  VerifiedTokenCache cache(4);
  cache.Insert("d1", TokenWithJti("a"), 100);
  ASSERT_NE(cache.Lookup("d1", 99), nullptr);
  EXPECT_EQ(cache.Lookup("d1", 99)->jti, "a");
  EXPECT_EQ(cache.Lookup("d1", 100), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(VerifiedTokenCache, EvictsLeastRecentlyUsed) {
  VerifiedTokenCache cache(2);
  cache.Insert("d1", TokenWithJti("a"), 100);
  cache.Insert("d2", TokenWithJti("b"), 100);
  ASSERT_NE(cache.Lookup("d1", 0), nullptr);  // d2 is now the oldest.
  cache.Insert("d3", TokenWithJti("c"), 100);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_NE(cache.Lookup("d1", 0), nullptr);
  EXPECT_EQ(cache.Lookup("d2", 0), nullptr);
  EXPECT_NE(cache.Lookup("d3", 0), nullptr);
}

TEST(VerifiedTokenCache, MatchesWholeTokenOnly) {
  // Tokens that differ in one byte of the signature, or where one is a
  // prefix of the other, are different entries.
  const std::string token(4096, 'a');
  std::string other_signature = token;
  other_signature.back() = 'b';
  VerifiedTokenCache cache(4);
  cache.Insert(token, TokenWithJti("a"), 100);
  EXPECT_EQ(cache.Lookup(other_signature, 0), nullptr);
  EXPECT_EQ(cache.Lookup(std::string_view(token).substr(0, 4095), 0), nullptr);
  ASSERT_NE(cache.Lookup(token, 0), nullptr);
  EXPECT_EQ(cache.Lookup(token, 0)->jti, "a");
}

TEST(VerifiedTokenCache, KeepsItsOwnCopyOfTheToken) {
  std::string token = "header.payload.signature";
  VerifiedTokenCache cache(4);
  cache.Insert(token, TokenWithJti("a"), 100);
  const std::string presented_again = token;
  token.assign(token.size(), 'x');  // The caller's buffer is reused.
  EXPECT_NE(cache.Lookup(presented_again, 0), nullptr);
  EXPECT_EQ(cache.Lookup(token, 0), nullptr);
}

TEST(VerifiedTokenCache, ZeroCapacityStoresNothing) {
  VerifiedTokenCache cache(0);
  cache.Insert("d1", TokenWithJti("a"), 100);
  EXPECT_EQ(cache.Lookup("d1", 0), nullptr);
}

TEST(VerifiedTokenCache, ConcurrentUseStaysBounded) {
  VerifiedTokenCache cache(64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string digest = std::to_string((t * 7919 + i) % 200);
        if (cache.Lookup(digest, 0) == nullptr) {
          cache.Insert(digest, TokenWithJti(digest), 10);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(cache.size(), 64u);
}

TEST(ReplayCache, OneTimeRejectsSecondUse) {
  ReplayCache cache(10);
  EXPECT_EQ(cache.Check(ReplayMode::kOneTime, "iss", "j", "c", 100, 0),
            ReplayCheck::kAccepted);
  EXPECT_EQ(cache.Check(ReplayMode::kOneTime, "iss", "j", "c", 100, 1),
            ReplayCheck::kReplayed);
  // Another issuer's jti is separate, including prefix collisions.
  EXPECT_EQ(cache.Check(ReplayMode::kOneTime, "is", "sj", "c", 100, 1),
            ReplayCheck::kAccepted);
}

TEST(ReplayCache, SameClientAllowsOnlyTheFirstClient) {
  ReplayCache cache(10);
  EXPECT_EQ(cache.Check(ReplayMode::kSameClient, "iss", "j", "a", 100, 0),
            ReplayCheck::kAccepted);
  EXPECT_EQ(cache.Check(ReplayMode::kSameClient, "iss", "j", "a", 100, 5),
            ReplayCheck::kAccepted);
  EXPECT_EQ(cache.Check(ReplayMode::kSameClient, "iss", "j", "b", 100, 6),
            ReplayCheck::kReplayed);
}

TEST(ReplayCache, ForgetsExpiredAndRejectsWhenFull) {
  ReplayCache cache(2);
  EXPECT_EQ(cache.Check(ReplayMode::kOneTime, "i", "1", "", 10, 0),
            ReplayCheck::kAccepted);
  EXPECT_EQ(cache.Check(ReplayMode::kOneTime, "i", "2", "", 20, 0),
            ReplayCheck::kAccepted);
  EXPECT_EQ(cache.Check(ReplayMode::kOneTime, "i", "3", "", 30, 5),
            ReplayCheck::kFull);
  EXPECT_EQ(cache.Check(ReplayMode::kOneTime, "i", "3", "", 30, 10),
            ReplayCheck::kAccepted);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Check(ReplayMode::kOneTime, "i", "1", "", 40, 10),
            ReplayCheck::kFull);
}

TEST(ReplayCache, NoneModeRecordsNothing) {
  ReplayCache cache(1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(cache.Check(ReplayMode::kNone, "i", "j", "", 10, 0),
              ReplayCheck::kAccepted);
  }
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace verdict::tokens
