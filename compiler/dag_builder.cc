#include "compiler/dag_builder.h"

#include <algorithm>
#include <bit>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace verdict::compiler {
namespace {

// Bytes of state memo key that count as one node against the budget. A key
// spends about 10 bytes per policy it lists, so states of up to about 25
// policies cost nothing extra.
constexpr size_t kStateBytesPerNode = 256;

// Past the budget, a switch still builds one leaf per key while at most
// this many policies survive its default edge.
constexpr size_t kFreeSurvivors = 64;

struct LiveEntry {
  uint32_t policy = 0;
  uint32_t formula = 0;
};

// The knowledge on one path through the DAG: the policies still undecided
// with their residual formulas, and the decided ones.
struct State {
  std::vector<LiveEntry> live;  // in policy order
  std::vector<uint32_t> permits;
  std::vector<uint32_t> forbids;
  std::vector<ErroredPolicy> errors;
};

bool IsSwitchable(const Predicate& p) {
  return p.kind == PredicateKind::kStrEq || p.kind == PredicateKind::kStrInConst;
}

// A predicate errors only when its one slot is absent, so its outcome shows
// whether that slot is present. Integer comparisons can also overflow, and
// path tests also error on a path with an empty, "." or ".." segment.
bool ErrorsOnlyWhenAbsent(const Predicate& p) {
  return p.kind != PredicateKind::kIntCompare && !IsPathTest(p) &&
         PredicateSlots(p).size() == 1;
}

class DagBuilder {
 public:
  DagBuilder(FormulaStore& store, Program& program, size_t max_nodes)
      : store_(store), program_(program), max_nodes_(max_nodes) {}

  DagStats Run();

 private:
  uint32_t Build(const State& state);
  // Builds a leaf that keeps the undecided formulas as residual conditions.
  uint32_t BuildResidual(const State& state);
  uint32_t BuildSwitch(const State& state, uint32_t slot);
  uint32_t BuildTest(const State& state, uint32_t predicate);
  uint32_t MakeLeaf(const State& state);
  State Apply(const State& state, const Assignment& assignment);
  // Returns a state with the decided policies of `state` and nothing live.
  State Decided(const State& state) const;
  // Adds `policy` with its substituted `formula` to `state`: live, or
  // decided when the formula is a constant.
  void Place(State& state, uint32_t policy, uint32_t formula) const;
  void Normalize(State& state) const;
  std::string Key(const State& state) const;
  // Picks a switch slot (returns true) or a predicate to test.
  bool Choose(const State& state, uint32_t& choice);
  void AssumePresent(Assignment& assignment, uint32_t slot) const;
  void AssumeAbsent(Assignment& assignment, uint32_t slot) const;
  uint32_t AddNode(const Node& node);
  // Charges the memo key of a state, one node per kStateBytesPerNode bytes.
  void ChargeState(const std::string& key);

  FormulaStore& store_;
  Program& program_;
  const size_t max_nodes_;
  // Nodes built plus the memory of the states behind them, in nodes; the
  // expansion stops when it reaches max_nodes_. See ChargeState.
  size_t budget_used_ = 0;
  absl::flat_hash_map<std::string, uint32_t> memo_;
  std::vector<uint32_t> has_predicate_;  // per slot, or kNoSlot
  // Per predicate: the slot whose absence makes it error, or kNoSlot when
  // that is not the only way it errors.
  std::vector<uint32_t> error_slots_;
  bool prune_permits_ = true;
  DagStats stats_;
};

DagStats DagBuilder::Run() {
  has_predicate_.assign(program_.slots.size(), kNoSlot);
  prune_permits_ = std::all_of(
      program_.sets.begin(), program_.sets.end(), [](const PolicySetInfo& set) {
        return set.algorithm == Combining::kDenyOverrides;
      });
  error_slots_.assign(program_.predicates.size(), kNoSlot);
  for (uint32_t i = 0; i < program_.predicates.size(); ++i) {
    const Predicate& p = program_.predicates[i];
    if (p.kind == PredicateKind::kHas) {
      has_predicate_[p.slot] = i;
    } else if (ErrorsOnlyWhenAbsent(p)) {
      error_slots_[i] = PredicateSlots(p)[0];
    }
  }
  State initial;
  for (uint32_t i = 0; i < program_.policies.size(); ++i) {
    initial.live.push_back(LiveEntry{i, program_.policy_formulas[i]});
  }
  program_.root = Build(Apply(initial, Assignment{}));
  return stats_;
}

void DagBuilder::AssumePresent(Assignment& assignment, uint32_t slot) const {
  if (has_predicate_[slot] != kNoSlot) {
    assignment.Set(has_predicate_[slot], Truth::kTrue, 0);
  }
}

void DagBuilder::AssumeAbsent(Assignment& assignment, uint32_t slot) const {
  if (has_predicate_[slot] != kNoSlot) {
    assignment.Set(has_predicate_[slot], Truth::kFalse, 0);
  }
  assignment.SetAbsent(slot, error_slots_);
}

State DagBuilder::Decided(const State& state) const {
  State out;
  out.permits = state.permits;
  out.forbids = state.forbids;
  out.errors = state.errors;
  return out;
}

void DagBuilder::Place(State& state, uint32_t policy, uint32_t formula) const {
  if (!store_.IsConstant(formula)) {
    state.live.push_back(LiveEntry{policy, formula});
    return;
  }
  const Formula& value = store_.at(formula);
  bool permit = program_.policies[policy].effect == PolicyEffect::kPermit;
  if (value.constant == Truth::kTrue) {
    (permit ? state.permits : state.forbids).push_back(policy);
  } else if (value.constant == Truth::kError) {
    state.errors.push_back(ErroredPolicy{policy, value.predicate});
  }
}

State DagBuilder::Apply(const State& state, const Assignment& assignment) {
  State out = Decided(state);
  absl::flat_hash_map<uint32_t, uint32_t> memo;
  for (const LiveEntry& entry : state.live) {
    Place(out, entry.policy,
          store_.Substitute(entry.formula, assignment, memo));
  }
  Normalize(out);
  return out;
}

// Once a top-level-deciding forbid applies or errors the decision is DENY
// whatever the permits do, so permits are dropped: this keeps the DAG small, and errored permits
// are then not reported (the reference interpreter follows the same rule).
void DagBuilder::Normalize(State& state) const {
  auto is_forbid = [&](uint32_t policy) {
    return program_.policies[policy].effect == PolicyEffect::kForbid;
  };
  // Only a forbid that decides the top level denies whatever else applies;
  // inside a permit-overrides or first-applicable set, permits still count.
  auto decides = [&](uint32_t policy) {
    return is_forbid(policy) && program_.policies[policy].decides_root;
  };
  // Pruning also needs every set to combine deny-overrides: under
  // permit-overrides or first-applicable, a pruned permit would change which
  // policies a set reports as determining.
  bool denied =
      prune_permits_ &&
      (std::any_of(state.forbids.begin(), state.forbids.end(), decides) ||
      std::any_of(state.errors.begin(), state.errors.end(),
                  [&](const ErroredPolicy& e) { return decides(e.policy); }));
  if (denied) {
    state.permits.clear();
    std::erase_if(state.live,
                  [&](const LiveEntry& e) { return !is_forbid(e.policy); });
    std::erase_if(state.errors,
                  [&](const ErroredPolicy& e) { return !is_forbid(e.policy); });
  }
  std::sort(state.permits.begin(), state.permits.end());
  std::sort(state.forbids.begin(), state.forbids.end());
  std::sort(state.errors.begin(), state.errors.end(),
            [](const ErroredPolicy& a, const ErroredPolicy& b) {
              return a.policy < b.policy;
            });
}

std::string DagBuilder::Key(const State& state) const {
  std::string key = "L";
  for (const LiveEntry& entry : state.live) {
    absl::StrAppend(&key, entry.policy, ":", entry.formula, ",");
  }
  absl::StrAppend(&key, "P");
  for (uint32_t policy : state.permits) absl::StrAppend(&key, policy, ",");
  absl::StrAppend(&key, "F");
  for (uint32_t policy : state.forbids) absl::StrAppend(&key, policy, ",");
  absl::StrAppend(&key, "E");
  for (const ErroredPolicy& error : state.errors) {
    absl::StrAppend(&key, error.policy, ":", error.predicate, ",");
  }
  return key;
}

// A state's memo key lists its undecided and decided policies, and its leaf
// copies them, so a state costs memory in proportion to its size. Where
// tests decide few policies each, as membership tests on entity hierarchies
// do, hundreds of policies stay undecided or accumulate as applicable along
// every path. These lists rather than the nodes then exhaust memory (4 GB
// for 10,000 generated GDrive-style policies under a budget of 200,000
// nodes), so charging the keys against the budget keeps memory linear in
// the budget.
void DagBuilder::ChargeState(const std::string& key) {
  budget_used_ += key.size() / kStateBytesPerNode;
}

uint32_t DagBuilder::AddNode(const Node& node) {
  program_.nodes.push_back(node);
  ++stats_.nodes;
  ++budget_used_;
  return static_cast<uint32_t>(program_.nodes.size() - 1);
}

uint32_t DagBuilder::BuildResidual(const State& state) {
  std::string key = "R" + Key(state);
  auto it = memo_.find(key);
  if (it != memo_.end()) return it->second;
  uint32_t node = MakeLeaf(state);
  ChargeState(key);
  memo_.emplace(std::move(key), node);
  return node;
}

uint32_t DagBuilder::Build(const State& state) {
  std::string key = Key(state);
  auto it = memo_.find(key);
  if (it != memo_.end()) return it->second;
  uint32_t node;
  uint32_t choice = 0;
  ChargeState(key);
  if (state.live.empty() || budget_used_ >= max_nodes_) {
    node = MakeLeaf(state);
  } else if (Choose(state, choice)) {
    node = BuildSwitch(state, choice);
  } else {
    node = BuildTest(state, choice);
  }
  memo_.emplace(std::move(key), node);
  return node;
}

bool DagBuilder::Choose(const State& state, uint32_t& choice) {
  std::map<uint32_t, uint32_t> predicate_count;
  std::map<uint32_t, uint32_t> slot_count;
  for (const LiveEntry& entry : state.live) {
    std::vector<uint32_t> predicates = store_.Predicates(entry.formula);
    std::set<uint32_t> switch_slots;
    for (uint32_t predicate : predicates) {
      ++predicate_count[predicate];
      const Predicate& p = program_.predicates[predicate];
      if (IsSwitchable(p)) switch_slots.insert(p.slot);
    }
    for (uint32_t slot : switch_slots) ++slot_count[slot];
  }
  // Highest count wins; on ties the lowest index, for determinism.
  auto best = [](const std::map<uint32_t, uint32_t>& counts) {
    std::pair<uint32_t, uint32_t> top{0, 0};  // count, index
    for (const auto& [index, count] : counts) {
      if (count > top.first) top = {count, index};
    }
    return top;
  };
  auto [predicate_hits, predicate] = best(predicate_count);
  auto [slot_hits, slot] = best(slot_count);
  if (slot_hits > 0 && slot_hits >= predicate_hits) {
    choice = slot;
    return true;
  }
  choice = predicate;
  return false;
}

uint32_t DagBuilder::BuildSwitch(const State& state, uint32_t slot) {
  // The switch predicates on `slot` that each live entry mentions.
  std::vector<std::vector<uint32_t>> entry_predicates(state.live.size());
  std::set<uint32_t> keys;
  for (size_t i = 0; i < state.live.size(); ++i) {
    for (uint32_t predicate : store_.Predicates(state.live[i].formula)) {
      const Predicate& p = program_.predicates[predicate];
      if (!IsSwitchable(p) || p.slot != slot) continue;
      entry_predicates[i].push_back(predicate);
      if (p.kind == PredicateKind::kStrEq) {
        keys.insert(p.symbol);
      } else {
        const auto& set = program_.const_sets[p.set];
        keys.insert(set.begin(), set.end());
      }
    }
  }
  auto matches = [&](uint32_t predicate, uint32_t key) {
    const Predicate& p = program_.predicates[predicate];
    if (p.kind == PredicateKind::kStrEq) return p.symbol == key;
    const auto& set = program_.const_sets[p.set];
    return std::binary_search(set.begin(), set.end(), key);
  };

  // Under the default edge every predicate on `slot` is false. Under a key,
  // so is every predicate that does not match it, so an entry none of
  // whose predicates matches the key gets the default edge's formula.
  // Substituting once for the default and then only the entries that
  // match each key keeps a switch linear in its live entries rather than
  // in entries times keys.
  Assignment other;
  for (const std::vector<uint32_t>& predicates : entry_predicates) {
    for (uint32_t predicate : predicates) other.Set(predicate, Truth::kFalse, 0);
  }
  AssumePresent(other, slot);
  absl::flat_hash_map<uint32_t, uint32_t> other_memo;
  std::vector<uint32_t> other_formulas(state.live.size());
  std::vector<uint32_t> survivors;  // entries the default edge leaves open
  for (size_t i = 0; i < state.live.size(); ++i) {
    other_formulas[i] =
        store_.Substitute(state.live[i].formula, other, other_memo);
    const Formula& f = store_.at(other_formulas[i]);
    if (f.kind != FormulaKind::kConst || f.constant != Truth::kFalse) {
      survivors.push_back(static_cast<uint32_t>(i));
    }
  }
  // Entries (ascending) with a predicate that matches each key.
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> matching;
  for (size_t i = 0; i < state.live.size(); ++i) {
    for (uint32_t predicate : entry_predicates[i]) {
      const Predicate& p = program_.predicates[predicate];
      auto add = [&](uint32_t key) {
        std::vector<uint32_t>& entries = matching[key];
        if (entries.empty() || entries.back() != i) entries.push_back(i);
      };
      if (p.kind == PredicateKind::kStrEq) {
        add(p.symbol);
      } else {
        for (uint32_t key : program_.const_sets[p.set]) add(key);
      }
    }
  }

  std::vector<SwitchEntry> entries;
  // Once the budget runs out, each remaining key's state still becomes a
  // leaf of its own, which copies every policy that survives the default
  // edge. When those are many (with 50,000 keys, tens of gigabytes), the
  // keys not built yet are left out of the table instead and take the
  // default edge, which then ends in a residual leaf of this switch's own
  // state. Its conditions hold for every request that reaches the switch,
  // whatever the value.
  bool exhausted = false;
  for (uint32_t key : keys) {
    if (budget_used_ >= max_nodes_ && survivors.size() > kFreeSurvivors) {
      exhausted = true;
      break;
    }
    const std::vector<uint32_t>& matched = matching[key];
    Assignment assignment;
    for (uint32_t i : matched) {
      for (uint32_t predicate : entry_predicates[i]) {
        assignment.Set(predicate,
                       matches(predicate, key) ? Truth::kTrue : Truth::kFalse,
                       0);
      }
    }
    AssumePresent(assignment, slot);
    absl::flat_hash_map<uint32_t, uint32_t> memo;
    State next = Decided(state);
    // Merge the matched entries with the default survivors, in entry order.
    size_t m = 0, s = 0;
    while (m < matched.size() || s < survivors.size()) {
      uint32_t i;
      uint32_t formula;
      if (s == survivors.size() ||
          (m < matched.size() && matched[m] <= survivors[s])) {
        i = matched[m++];
        if (s < survivors.size() && survivors[s] == i) ++s;
        formula = store_.Substitute(state.live[i].formula, assignment, memo);
      } else {
        i = survivors[s++];
        formula = other_formulas[i];
      }
      Place(next, state.live[i].policy, formula);
    }
    Normalize(next);
    entries.push_back(SwitchEntry{key, Build(next)});
  }
  uint32_t default_child;
  if (exhausted) {
    default_child = BuildResidual(state);
  } else {
    State default_state = Decided(state);
    for (uint32_t i : survivors) {
      Place(default_state, state.live[i].policy, other_formulas[i]);
    }
    Normalize(default_state);
    default_child = Build(default_state);
  }
  Assignment absent;
  AssumeAbsent(absent, slot);
  uint32_t absent_child = BuildResidual(Apply(state, absent));

  // Open addressing at load factor <= 1/2; see Program's node comment.
  uint32_t capacity = std::bit_ceil(static_cast<uint32_t>(entries.size() * 2));
  capacity = std::max<uint32_t>(capacity, 2);
  uint32_t begin = static_cast<uint32_t>(program_.switch_entries.size());
  program_.switch_entries.resize(begin + capacity, SwitchEntry{});
  for (const SwitchEntry& entry : entries) {
    uint32_t index = SwitchHash(entry.symbol, capacity);
    while (program_.switch_entries[begin + index].symbol != kNoSymbol) {
      index = (index + 1) & (capacity - 1);
    }
    program_.switch_entries[begin + index] = entry;
  }
  Node node;
  node.kind = NodeKind::kSwitch;
  node.a = slot;
  node.b = begin;
  node.c = capacity;
  node.children[0] = default_child;
  node.children[1] = absent_child;
  return AddNode(node);
}

uint32_t DagBuilder::BuildTest(const State& state, uint32_t predicate) {
  const Predicate& p = program_.predicates[predicate];
  std::vector<uint32_t> slots = PredicateSlots(p);
  Node node;
  node.kind = NodeKind::kTest;
  node.a = predicate;
  for (Truth truth : {Truth::kTrue, Truth::kFalse, Truth::kError}) {
    Assignment assignment;
    assignment.Set(predicate, truth, predicate);
    bool present = truth != Truth::kError;
    if (p.kind == PredicateKind::kHas) {
      if (truth == Truth::kError) {
        // `has` never errors; the edge exists only to keep nodes uniform.
        node.children[2] = node.children[1];
        continue;
      }
      present = truth == Truth::kTrue;
      if (!present) AssumeAbsent(assignment, p.slot);
    } else if (present) {
      for (uint32_t slot : slots) AssumePresent(assignment, slot);
    } else if (ErrorsOnlyWhenAbsent(p)) {
      AssumeAbsent(assignment, slots[0]);
    }
    State next = Apply(state, assignment);
    node.children[static_cast<int>(truth)] =
        truth == Truth::kError ? BuildResidual(next) : Build(next);
  }
  return AddNode(node);
}

uint32_t DagBuilder::MakeLeaf(const State& state) {
  Leaf leaf;
  leaf.permits_begin = static_cast<uint32_t>(program_.leaf_policies.size());
  leaf.permits_count = static_cast<uint32_t>(state.permits.size());
  program_.leaf_policies.insert(program_.leaf_policies.end(),
                                state.permits.begin(), state.permits.end());
  leaf.forbids_begin = static_cast<uint32_t>(program_.leaf_policies.size());
  leaf.forbids_count = static_cast<uint32_t>(state.forbids.size());
  program_.leaf_policies.insert(program_.leaf_policies.end(),
                                state.forbids.begin(), state.forbids.end());
  leaf.errors_begin = static_cast<uint32_t>(program_.leaf_errors.size());
  leaf.errors_count = static_cast<uint32_t>(state.errors.size());
  program_.leaf_errors.insert(program_.leaf_errors.end(), state.errors.begin(),
                              state.errors.end());
  leaf.residual_begin = static_cast<uint32_t>(program_.leaf_residuals.size());
  leaf.residual_count = static_cast<uint32_t>(state.live.size());
  for (const LiveEntry& entry : state.live) {
    program_.leaf_residuals.push_back(ResidualPolicy{entry.policy, entry.formula});
  }
  if (!state.live.empty()) ++stats_.residual_leaves;
  ++stats_.leaves;
  Node node;
  node.kind = NodeKind::kLeaf;
  node.a = static_cast<uint32_t>(program_.leaves.size());
  program_.leaves.push_back(leaf);
  return AddNode(node);
}

}  // namespace

size_t DagNodeBudget(size_t max_nodes, size_t policies) {
  if (max_nodes != 0) return max_nodes;
  return std::max(kMinDagNodes, kDagNodesPerPolicy * policies);
}

DagStats BuildDag(FormulaStore& store, Program& program, size_t max_nodes) {
  return DagBuilder(store, program,
                    DagNodeBudget(max_nodes, program.policies.size()))
      .Run();
}

}  // namespace verdict::compiler
