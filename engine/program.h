// The compiled, immutable form of a policy set.
//
// A Program is built once by the compiler (compiler/compile.h) and never
// written again; every method is const and the whole object is thread-safe
// to read. Servers share one through ProgramStore (snapshot.h).
//
// Evaluation walks `nodes` from `root` to a leaf. The data is flat and
// index-addressed: no pointer chasing through heap nodes, no virtual calls.
//
//   Node (28 bytes)
//     kTest:   a = predicate index; children[0..2] = next node when the
//              predicate is true / false / errored
//     kSwitch: a = slot index; b = first entry in switch_entries;
//              c = entry count (a power of two, open addressing);
//              children[0] = node when the symbol is not in the table,
//              children[1] = node when the slot is absent
//     kLeaf:   a = leaf index
//   A switch entry maps an interned symbol to a node; empty entries hold
//   kNoSymbol.

#ifndef VERDICT_ENGINE_PROGRAM_H_
#define VERDICT_ENGINE_PROGRAM_H_

#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "re2/re2.h"
#include "engine/presentation.h"
#include "engine/types.h"

namespace verdict {

inline constexpr uint32_t kNoSymbol = 0xFFFFFFFFu;
inline constexpr uint32_t kNoSlot = 0xFFFFFFFFu;

enum class PolicyEffect : uint8_t { kPermit, kForbid };

// One attribute a request may carry, such as `subject.roles`.
struct SlotInfo {
  std::string path;       // "subject.roles"
  std::string group;      // "subject"
  Type type = Type::kBool;
  bool optional = false;
  bool computed = false;  // filled by the engine; requests may not set it
};

enum class Combining : uint8_t {
  kDenyOverrides,
  kPermitOverrides,
  kFirstApplicable,
};

// A member of a policy set: a policy or a nested set.
struct SetMember {
  bool is_set = false;
  uint32_t index = 0;
};

// A policy set. Set 0 is the implicit top level: deny-overrides over the
// policies and sets declared outside any set.
struct PolicySetInfo {
  std::string id;  // empty for the top level
  Combining algorithm = Combining::kDenyOverrides;
  std::vector<SetMember> members;  // in source order
  std::string location;
};

// An attribute that contains the provenance of another: `meta.source.<path>`
// names the origin of `<path>`, such as "id-jag" or "attribute".
struct ProvenanceSlot {
  uint32_t slot;    // meta.source.<path>
  uint32_t target;  // <path>
};

// A group whose entity ancestors the engine computes: `<group>.$ancestors`
// is filled from `hierarchy` by the key "<type>::<id>".
struct AncestorsSlot {
  uint32_t slot = kNoSlot;
  uint32_t type_slot = kNoSlot;
  uint32_t id_slot = kNoSlot;
};

// One field of an obligation or advice: a literal, or the value of a slot
// read from the request when the decision is rendered.
struct DutyField {
  std::string key;
  Type type = Type::kString;
  uint32_t slot = kNoSlot;  // kNoSlot for a literal
  int64_t integer = 0;
  std::string text;
  std::vector<std::string> elements;
};

// An obligation (the PEP must carry it out, or deny) or advice (the PEP
// may ignore it), returned with decisions the policy determines.
struct Duty {
  bool advice = false;
  std::string name;
  std::vector<DutyField> fields;
};

struct PolicyInfo {
  std::string id;
  PolicyEffect effect = PolicyEffect::kPermit;
  std::string location;  // "file:line:col" of the declaration
  std::vector<Duty> duties;
  uint32_t set = 0;  // index in Program::sets; 0 is the top level
  // True for a forbid whose enclosing sets all combine deny-overrides, so
  // that it applying or erroring denies the request whatever else applies.
  bool decides_root = true;
  // True when an obligation reads a slot; the evaluator then checks that
  // the slot is present before it permits.
  bool obligations_read_slots = false;
};

// The three outcomes of a predicate or condition under Kleene logic, where
// kError means "could not be decided" (an absent attribute, an overflow).
enum class Truth : uint8_t { kTrue = 0, kFalse = 1, kError = 2 };

enum class PredicateKind : uint8_t {
  kBoolIs,         // slot is true
  kHas,            // slot is present (never errors)
  kStrEq,          // slot == symbol
  kStrInConst,     // slot in constant set `set` (sorted symbols)
  kStrStartsWith,  // slot bytes start with `text`
  kStrEndsWith,    // slot bytes end with `text`
  kStrEqSlot,      // slot == slot2
  kSetContains,    // symbol in set slot
  kSetContainsSlot,  // string slot2 in set slot
  kSetEqConst,     // set slot == constant set `set`
  kIntCompare,     // left op right, exact 64-bit arithmetic
  kSetContainsAllConst,  // set slot contains every element of `set`
  kSetContainsAnyConst,  // set slot shares an element with `set`
  kSetContainsAllSlot,   // set slot contains every element of set slot2
  kSetContainsAnySlot,   // set slot shares an element with set slot2
  kIpEq,           // ip slot == address `text` (kIpBytes)
  kIpEqSlot,       // ip slot == ip slot2
  kIpInCidr,       // ip slot in range `text` (kCidrBytes)
  kIpInCidrSlot,   // ip slot in cidr slot2
  kIpInCidrList,   // ip slot in any range of `text`: kCidrBytes each
  kCidrHasIp,      // address `text` in cidr slot
  kStrMatches,     // string slot matches regexes[`set`] in full
  kLinked,         // link_tables[`set`] contains the values of `slots`
};

// How a kStrMatches pattern was written; only rendering depends on it.
enum class PatternKind : uint8_t { kRegex, kGlob, kTemplate };

enum class IntOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// kPushSetSize pushes the element count of a set slot.
enum class IntOpcode : uint8_t {
  kPushSlot,
  kPushConst,
  kAdd,
  kSub,
  kNegate,
  kPushSetSize,
};

// One step of a postfix integer expression. Evaluation runs the steps on a
// small stack with overflow checks, in the order the source wrote them, so
// that the DAG and the reference interpreter agree on every overflow.
struct IntInstr {
  IntOpcode opcode = IntOpcode::kPushConst;
  Type type = Type::kInt;  // of a kPushConst, for rendering "300s"
  uint32_t slot = 0;
  int64_t value = 0;
};

// Integer expressions nest at most this deep; the compiler rejects deeper ones.
inline constexpr size_t kMaxIntStack = 64;

// An atomic test over attribute slots. Identical predicates across policies
// are stored once.
struct Predicate;

// Returns the distinct slots `predicate` reads, sorted.
std::vector<uint32_t> PredicateSlots(const Predicate& predicate);

// True for a test of a path: a glob or template match, or a startsWith or
// endsWith whose affix contains '/'. Such a test errors on a string that
// IsNonCanonicalPath rejects, so it can error while its slot is present.
bool IsPathTest(const Predicate& predicate);

struct Predicate {
  PredicateKind kind = PredicateKind::kBoolIs;
  IntOp op = IntOp::kEq;
  PatternKind pattern = PatternKind::kRegex;
  uint32_t slot = kNoSlot;
  uint32_t slot2 = kNoSlot;
  uint32_t symbol = kNoSymbol;
  uint32_t set = 0;            // index into const_sets, or regexes
  std::string text;            // affix, address bytes, or pattern source
  std::vector<IntInstr> left;  // kIntCompare operands
  std::vector<IntInstr> right;
  std::vector<uint32_t> slots;  // kLinked: the bound attributes, in order
};

enum class NodeKind : uint8_t { kTest, kSwitch, kLeaf };

struct Node {
  NodeKind kind = NodeKind::kLeaf;
  uint8_t reserved[3] = {};
  uint32_t a = 0;
  uint32_t b = 0;
  uint32_t c = 0;
  uint32_t children[3] = {};
};
static_assert(std::is_trivially_copyable_v<Node>);
static_assert(sizeof(Node) == 28);

struct SwitchEntry {
  uint32_t symbol = kNoSymbol;
  uint32_t target = 0;
};
static_assert(sizeof(SwitchEntry) == 8);

// Returns the home index of `symbol` in a switch table of `capacity`
// entries (a power of two, at least 2). Fibonacci hashing: the top bits of
// the product are well mixed even for small consecutive symbols.
inline uint32_t SwitchHash(uint32_t symbol, uint32_t capacity) {
  return (symbol * 2654435761u) >> (32 - std::countr_zero(capacity));
}

// A policy that errored on the way to a leaf, with the predicate whose error
// decided it. The reason text is rendered from the predicate on demand.
struct ErroredPolicy {
  uint32_t policy = 0;
  uint32_t predicate = 0;
};

// A policy whose condition was not expanded into the DAG because the node
// budget ran out; the leaf evaluates `formula` at run time.
struct ResidualPolicy {
  uint32_t policy = 0;
  uint32_t formula = 0;
};

// The outcome of every policy decided on the path to a leaf.
// Ranges index into Program::leaf_policies / leaf_errors / leaf_residuals.
struct Leaf {
  uint32_t permits_begin = 0, permits_count = 0;  // permits that apply
  uint32_t forbids_begin = 0, forbids_count = 0;  // forbids that apply
  uint32_t errors_begin = 0, errors_count = 0;
  uint32_t residual_begin = 0, residual_count = 0;
};

enum class FormulaKind : uint8_t { kConst, kAtom, kNot, kAnd, kOr };

// A condition kept as a formula over predicates, used by residual leaves and
// by explanations. Children are `count` entries of formula_children starting
// at `begin`. A kConst kError formula names in `predicate` the predicate
// whose error it stands for.
struct Formula {
  FormulaKind kind = FormulaKind::kConst;
  Truth constant = Truth::kFalse;
  uint32_t predicate = 0;
  uint32_t begin = 0;
  uint32_t count = 0;
};

// One attribute value from entity data, typed and interned into the
// program's symbols at compile time so that a join copies integers.
struct DataValue {
  uint32_t slot = 0;
  int64_t integer = 0;            // bool, int, timestamp, duration
  uint32_t symbol = kNoSymbol;    // string, list<string> (joined)
  std::vector<uint32_t> elements; // set<string>: sorted, unique symbols
};

// A record of an entity data set, keyed by the group's `id`.
struct DataRecord {
  std::vector<DataValue> values;
};

// A group joined with an entity data set: `schema subject from users`.
struct DataJoin {
  std::string group;
  std::string data_set;
  uint32_t key_slot = kNoSlot;  // `<group>.id`
  absl::flat_hash_map<std::string, DataRecord> records;
};

// A template's links (`permit "shared" from shares when {...}`): one tuple
// per record of the data set, holding the record's value of each field.
// A string value is stored as its symbol, an int as itself.
inline constexpr size_t kMaxLinkFields = 8;

struct LinkTable {
  std::string policy;    // the template's policy id
  std::string data_set;  // "shares"
  std::vector<std::string> fields;  // placeholder names, in order
  std::vector<uint32_t> slots;      // the attribute each field binds
  std::vector<int64_t> values;      // fields.size() values per link
  // Open addressing over links: link index + 1, or 0 for an empty bucket.
  // The size is a power of two at least twice the link count.
  std::vector<uint32_t> buckets;

  size_t link_count() const {
    return fields.empty() ? 0 : values.size() / fields.size();
  }
  // Returns true when some link equals `key` (fields.size() values).
  bool Contains(const int64_t* key) const;
  // Rebuilds `buckets` from `values`.
  void BuildIndex();
};

// A list<string> value is interned as one symbol: each element preceded by
// this byte. Two lists are equal exactly when their encodings are, because
// no element may contain the byte; the empty list encodes as "".
inline constexpr char kListSeparator = '\x1f';

class Program {
 public:
  // Builds the program; only the compiler calls this.
  Program() = default;
  Program(const Program&) = delete;  // large and immutable: share, don't copy
  Program& operator=(const Program&) = delete;

  // Returns the symbol of `text`, or kNoSymbol when no policy mentions it.
  uint32_t FindSymbol(std::string_view text) const;
  // Returns the slot of attribute `path` ("subject.roles"), or kNoSlot.
  uint32_t FindSlot(std::string_view path) const;
  std::string_view SymbolText(uint32_t symbol) const { return symbols[symbol]; }

  // Renders `predicate` in policy syntax, such as
  // `resource.ownerID == subject.email`. For the reason a predicate errored
  // on one request, use DescribeError (evaluator.h).
  std::string DescribePredicate(uint32_t predicate) const;

  // --- Data, public for the compiler and evaluator; never mutated after
  // construction. ---
  std::string revision;  // content hash of policies and data
  std::vector<std::string> symbols;
  absl::flat_hash_map<std::string, uint32_t> symbol_index;
  std::vector<SlotInfo> slots;
  absl::flat_hash_map<std::string, uint32_t> slot_index;
  std::vector<PolicyInfo> policies;
  std::vector<PolicySetInfo> sets;  // sets[0] is the top level
  // True when a policy set exists; decisions are then combined set by set.
  bool has_policy_sets = false;
  std::vector<std::vector<uint32_t>> const_sets;  // sorted symbols
  std::vector<Predicate> predicates;
  std::vector<Node> nodes;
  std::vector<SwitchEntry> switch_entries;
  std::vector<Leaf> leaves;
  std::vector<uint32_t> leaf_policies;
  std::vector<ErroredPolicy> leaf_errors;
  std::vector<ResidualPolicy> leaf_residuals;
  std::vector<Formula> formulas;
  std::vector<uint32_t> formula_children;
  std::vector<uint32_t> policy_formulas;  // condition formula per policy
  std::vector<DataJoin> joins;
  std::vector<LinkTable> link_tables;  // one per template, in policy order
  std::vector<AncestorsSlot> ancestors;
  // "<type>::<id>" -> its ancestors in the entity data, itself included, as
  // sorted symbols. Entities absent here have only themselves.
  absl::flat_hash_map<std::string, std::vector<uint32_t>> hierarchy;
  // Compiled patterns; RE2 objects are thread-safe for matching.
  std::vector<std::unique_ptr<const RE2>> regexes;
  uint32_t root = 0;
  uint32_t env_now_slot = kNoSlot;  // filled from the clock when absent
  // `meta.source.<path>` slots, filled with the provenance of `<path>`.
  std::vector<ProvenanceSlot> provenance;
  // Verifies the tokens requests present, per the trust file compiled with
  // the policies. Null when there is none, so a request with tokens is
  // rejected.
  std::shared_ptr<const TokenSource> token_source;
};

}  // namespace verdict

#endif  // VERDICT_ENGINE_PROGRAM_H_
