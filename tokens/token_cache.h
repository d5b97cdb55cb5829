// Bounded caches next to token verification: verified tokens by their
// compact serialization, and seen `jti` values for replay detection.
//
// Both caches live in one PDP process. Replicas do not share them, so with
// several replicas a one-time token can be accepted once per replica, and a
// same-client violation is only seen by the replica that saw the first use.
#ifndef VERDICT_TOKENS_TOKEN_CACHE_H_
#define VERDICT_TOKENS_TOKEN_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tokens/trust_config.h"

namespace verdict::tokens {

struct VerifiedToken;

// Tokens whose signature, header and claims already verified, keyed by the
// compact token itself, so a token presented again skips signature
// verification. Time-dependent checks are still repeated by the caller.
// A lookup hashes the token with absl::Hash and compares it in full with
// the entry it finds, which is several times faster than a SHA-256 of the
// token. Each entry keeps a copy of its token, so the text held is at most
// capacity times max_token_bytes. An entry is never returned at or after
// its `expires_at`. When full, the least recently used entry is evicted.
// Thread-safe. Every call takes one mutex and costs O(1) on average plus
// time linear in the token size.
class VerifiedTokenCache {
 public:
  // A capacity of 0 disables the cache.
  explicit VerifiedTokenCache(size_t capacity) : capacity_(capacity) {}
  VerifiedTokenCache(const VerifiedTokenCache&) = delete;
  VerifiedTokenCache& operator=(const VerifiedTokenCache&) = delete;

  // Returns the token cached for the compact token `compact`, or null when
  // there is none or it expired at or before `now` (an expired entry is
  // removed).
  std::shared_ptr<const VerifiedToken> Lookup(std::string_view compact,
                                              int64_t now);

  // Stores `token` for `compact` until `expires_at` (Unix seconds,
  // exclusive).
  void Insert(std::string_view compact,
              std::shared_ptr<const VerifiedToken> token, int64_t expires_at);

  size_t size() const;

 private:
  struct Entry {
    std::string compact;
    std::shared_ptr<const VerifiedToken> token;
    int64_t expires_at;
  };
  using EntryList = std::list<Entry>;  // Most recently used first.

  const size_t capacity_;
  mutable absl::Mutex mutex_;
  EntryList entries_ ABSL_GUARDED_BY(mutex_);
  // The keys view Entry::compact, which a list node keeps in place until
  // the node is erased, so a key is removed before its entry. They are
  // absl::string_view because Debian's Abseil hashes std::string_view with
  // std::hash, which is slower than Abseil's own string hash.
  absl::flat_hash_map<absl::string_view, EntryList::iterator> index_
      ABSL_GUARDED_BY(mutex_);
};

// The outcome of presenting a jti to the replay cache.
enum class ReplayCheck {
  kAccepted,  // First use, or an allowed repeat; the jti is recorded.
  kReplayed,  // Rejected: used before (one-time) or by another client.
  kFull,      // Rejected: the cache is full of unexpired jtis, so a replay
              // could not be detected. Raise replay_cache_capacity.
};

// Remembers (issuer, jti) pairs until their tokens expire. Bounded: expired
// pairs are dropped first, and when the cache is still full a new jti is
// rejected rather than evicting one that could then be replayed.
// Thread-safe; O(log n) per call.
class ReplayCache {
 public:
  explicit ReplayCache(size_t capacity) : capacity_(capacity) {}
  ReplayCache(const ReplayCache&) = delete;
  ReplayCache& operator=(const ReplayCache&) = delete;

  // Changes the capacity, as a reloaded trust file may. Pairs beyond a
  // smaller capacity stay until they expire; new ones are rejected until
  // then.
  void set_capacity(size_t capacity);

  // Checks and records one use. `client` identifies the presenter for
  // kSameClient. `expires_at` is the first second at which the token is no
  // longer accepted; the pair is forgotten then. Mode kNone always accepts
  // and records nothing.
  ReplayCheck Check(ReplayMode mode, std::string_view issuer,
                    std::string_view jti, std::string_view client,
                    int64_t expires_at, int64_t now);

  size_t size() const;

 private:
  struct Entry {
    std::string client;
    int64_t expires_at;
  };

  void DropExpired(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  mutable absl::Mutex mutex_;
  size_t capacity_ ABSL_GUARDED_BY(mutex_);
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mutex_);
  // (expires_at, key) for every entry, oldest expiry first.
  std::set<std::pair<int64_t, std::string>> by_expiry_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace verdict::tokens

#endif  // VERDICT_TOKENS_TOKEN_CACHE_H_
