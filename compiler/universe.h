// A shared vocabulary of attribute slots, symbols and predicates over one or
// two compiled programs.
//
// The static analyses (lint, diff) reason about request regions: sets of
// requests described by predicate outcomes. Two programs compiled from
// different policy versions share nothing, so the Universe maps their slots
// by attribute path and type, their symbols by text, and their predicates by
// kind, rendered text and the slots they read. Constraints from both DAGs can
// then be intersected over one set of indexes.
//
// A predicate whose value this analysis does not model (ip and pattern
// tests, comparisons of two sets, integer code other than `slot op
// constant`, and kinds added to engine/program.h later) is kept as an
// opaque atom: its outcome is only what a path states. Presence is still
// inferred for every kind, from the engine's contract that the DAG builder
// also relies on: a predicate other than `has` is true or false only when
// every slot it reads is present, and one that is not an integer
// comparison errors only when a slot it reads is absent.
//
// Immutable after construction and thread-safe to read. Construction costs
// one DescribePredicate per predicate of each program.

#ifndef VERDICT_COMPILER_UNIVERSE_H_
#define VERDICT_COMPILER_UNIVERSE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/program.h"

namespace verdict::compiler {

// An index that a program does not have.
inline constexpr uint32_t kNotInProgram = 0xFFFFFFFFu;

struct UniverseSlot {
  std::string path;   // "subject.roles"
  std::string group;  // "subject"
  Type type = Type::kBool;
  bool computed = false;  // filled by the engine; a request may not give it
  bool sized = false;     // a set whose size an integer comparison reads
  std::vector<uint32_t> source;  // slot index per program, or kNotInProgram
  // Values worth trying in a witness, from the predicates that read the
  // slot: addresses in and next to ranges, strings matching patterns.
  std::vector<std::string> hints;
};

struct UniversePredicate {
  PredicateKind kind = PredicateKind::kBoolIs;
  // False for kinds the analysis treats as opaque atoms.
  bool modeled = false;
  uint32_t slot = kNoSlot;   // universe slots
  uint32_t slot2 = kNoSlot;
  uint32_t symbol = kNoSymbol;  // universe symbol
  std::vector<uint32_t> set;    // sorted universe symbols
  std::string text;             // kStrStartsWith / kStrEndsWith affix
  PatternKind pattern = PatternKind::kRegex;  // kStrMatches
  // A kIntCompare of one slot with a constant, normalised to
  // `slot op constant`; it errors exactly when the slot is absent.
  bool simple_int = false;
  // With simple_int: `slot` is a set and the compared value is its size.
  bool set_size = false;
  IntOp op = IntOp::kEq;
  int64_t constant = 0;
  // True for integer comparisons and path tests (IsPathTest), whose kError
  // may be an overflow or an unresolved path rather than an absent slot.
  bool may_overflow = false;
  std::vector<uint32_t> slots;  // every slot read, sorted
  std::string rendered;         // DescribePredicate of the first program
  std::vector<uint32_t> source;  // predicate index per program
};

class Universe {
 public:
  // REQUIRES: every program outlives the universe; at most two programs.
  explicit Universe(std::vector<const Program*> programs);

  size_t program_count() const { return programs_.size(); }
  const Program& program(size_t index) const { return *programs_[index]; }

  size_t slot_count() const { return slots_.size(); }
  const UniverseSlot& slot(uint32_t index) const { return slots_[index]; }
  size_t predicate_count() const { return predicates_.size(); }
  const UniversePredicate& predicate(uint32_t index) const {
    return predicates_[index];
  }
  size_t symbol_count() const { return symbols_.size(); }
  const std::string& SymbolText(uint32_t symbol) const {
    return symbols_[symbol];
  }
  // Returns the universe symbol of `text`, or kNoSymbol.
  uint32_t FindSymbol(std::string_view text) const;

  uint32_t PredicateOf(size_t program, uint32_t predicate) const {
    return predicate_map_[program][predicate];
  }
  uint32_t SlotOf(size_t program, uint32_t slot) const {
    return slot_map_[program][slot];
  }
  uint32_t SymbolOf(size_t program, uint32_t symbol) const {
    return symbol_map_[program][symbol];
  }

  // The slot `env.now`, which decoding always fills, or kNoSlot.
  uint32_t env_now_slot() const { return env_now_slot_; }
  // Integer constants that comparisons mention, sorted and unique; witness
  // construction tries them and their neighbours.
  const std::vector<int64_t>& int_constants() const { return int_constants_; }
  // True when `text` is the id of an entity record that a join of some
  // program would fill into `slot`'s group.
  bool IsJoinedId(uint32_t slot, std::string_view text) const;
  // True when `slot` is the key slot (`<group>.id`) of a join.
  bool IsJoinKey(uint32_t slot) const;

  // A computed `<group>.$ancestors` slot, present exactly when both the
  // group's type and id are.
  struct AncestorsLink {
    uint32_t ancestors = kNoSlot;
    uint32_t type = kNoSlot;
    uint32_t id = kNoSlot;
  };
  const std::vector<AncestorsLink>& ancestors_links() const {
    return ancestors_links_;
  }

 private:
  uint32_t InternSymbol(const std::string& text);
  uint32_t InternSlot(const SlotInfo& info, size_t program, uint32_t index);
  void AddProgram(size_t index);
  UniversePredicate Translate(size_t program, uint32_t index);
  void TranslateInt(size_t program, const Predicate& p, UniversePredicate& out);
  void TranslateSetSize(size_t program, const Predicate& p,
                        UniversePredicate& out);
  void AddHints(const Program& program, const Predicate& p,
                const UniversePredicate& out);
  // Adds the values of some links of template predicate `p` as hints;
  // returns a digest of all its links. `key` names the predicate apart
  // from its links. When another program links it differently, sets
  // `*rendered_suffix` to tell the two apart in rendered conditions.
  std::string AddLinkHints(size_t program, const Predicate& p,
                           const std::string& key,
                           std::string* rendered_suffix);

  std::vector<const Program*> programs_;
  std::vector<UniverseSlot> slots_;
  absl::flat_hash_map<std::string, uint32_t> slot_index_;
  std::vector<std::string> symbols_;
  absl::flat_hash_map<std::string, uint32_t> symbol_index_;
  std::vector<UniversePredicate> predicates_;
  absl::flat_hash_map<std::string, uint32_t> predicate_index_;
  std::vector<std::vector<uint32_t>> predicate_map_;
  std::vector<std::vector<uint32_t>> slot_map_;
  std::vector<std::vector<uint32_t>> symbol_map_;
  std::vector<int64_t> int_constants_;
  std::vector<AncestorsLink> ancestors_links_;
  // The links of the first template predicate seen under each key without
  // links, and the index it was translated to.
  struct LinkVersion {
    std::vector<std::vector<std::string>> tuples;
    uint32_t predicate = 0;
  };
  absl::flat_hash_map<std::string, LinkVersion> link_tuples_;
  uint32_t env_now_slot_ = kNoSlot;
};

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_UNIVERSE_H_
