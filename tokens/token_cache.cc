#include "tokens/token_cache.h"

#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"

namespace verdict::tokens {

std::shared_ptr<const VerifiedToken> VerifiedTokenCache::Lookup(
    std::string_view compact, int64_t now) {
  absl::MutexLock lock(&mutex_);
  auto it = index_.find(ToAbsl(compact));
  if (it == index_.end()) return nullptr;
  if (now >= it->second->expires_at) {
    const EntryList::iterator entry = it->second;
    index_.erase(it);
    entries_.erase(entry);
    return nullptr;
  }
  entries_.splice(entries_.begin(), entries_, it->second);
  return it->second->token;
}

void VerifiedTokenCache::Insert(std::string_view compact,
                                std::shared_ptr<const VerifiedToken> token,
                                int64_t expires_at) {
  if (capacity_ == 0) return;
  absl::MutexLock lock(&mutex_);
  if (auto it = index_.find(ToAbsl(compact)); it != index_.end()) {
    it->second->token = std::move(token);
    it->second->expires_at = expires_at;
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  if (entries_.size() >= capacity_) {
    index_.erase(ToAbsl(entries_.back().compact));
    entries_.pop_back();
  }
  entries_.push_front(
      Entry{std::string(compact), std::move(token), expires_at});
  index_.emplace(ToAbsl(entries_.front().compact), entries_.begin());
}

size_t VerifiedTokenCache::size() const {
  absl::MutexLock lock(&mutex_);
  return entries_.size();
}

void ReplayCache::DropExpired(int64_t now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    entries_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
}

void ReplayCache::set_capacity(size_t capacity) {
  absl::MutexLock lock(&mutex_);
  capacity_ = capacity;
}

ReplayCheck ReplayCache::Check(ReplayMode mode, std::string_view issuer,
                               std::string_view jti, std::string_view client,
                               int64_t expires_at, int64_t now) {
  if (mode == ReplayMode::kNone) return ReplayCheck::kAccepted;
  // The issuer length prefix keeps ("a", "bc") and ("ab", "c") apart.
  std::string key =
      absl::StrCat(issuer.size(), ":", ToAbsl(issuer), ToAbsl(jti));
  absl::MutexLock lock(&mutex_);
  DropExpired(now);
  if (auto it = entries_.find(key); it != entries_.end()) {
    if (mode == ReplayMode::kOneTime || it->second.client != client) {
      return ReplayCheck::kReplayed;
    }
    return ReplayCheck::kAccepted;
  }
  if (entries_.size() >= capacity_) return ReplayCheck::kFull;
  by_expiry_.emplace(expires_at, key);
  entries_.emplace(std::move(key), Entry{std::string(client), expires_at});
  return ReplayCheck::kAccepted;
}

size_t ReplayCache::size() const {
  absl::MutexLock lock(&mutex_);
  return entries_.size();
}

}  // namespace verdict::tokens
