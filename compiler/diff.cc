// Diff: the product walk, decisions under constraints, examples and the
// merging of regions. Rendering is in diff_format.cc.

#include "compiler/diff.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "compiler/combining.h"
#include "compiler/constraints.h"
#include "compiler/policy_match.h"
#include "compiler/regions.h"
#include "compiler/universe.h"
#include "compiler/witness.h"
#include "engine/absl_compat.h"
#include "engine/evaluator.h"

namespace verdict::compiler {
namespace {

using Json = nlohmann::json;

enum class Verdict : uint8_t { kPermit, kDeny, kOpen };

// One conjunct of a region; switch keys remember their slot and keys so
// that regions differing only in the key can be merged.
struct Atom {
  std::string text;
  uint32_t slot = kNoSlot;
  std::vector<std::string> keys;  // rendered, for a switch key
  bool operator==(const Atom& other) const { return text == other.text; }
};

struct Change {
  std::vector<Atom> atoms;
  DiffRegion region;
};

std::string Quote(std::string_view text) {
  return absl::StrCat(
      "\"", absl::StrReplaceAll(ToAbsl(text), {{"\\", "\\\\"}, {"\"", "\\\""}}),
      "\"");
}

class Differ {
 public:
  Differ(const Program& old_program, const Program& new_program,
         const DiffOptions& options)
      : options_(options),
        universe_({&old_program, &new_program}),
        matcher_(universe_),
        witness_(universe_, options.analysis.now) {
    for (size_t k = 0; k < 2; ++k) {
      const Program& program = universe_.program(k);
      for (uint32_t p = 0; p < program.policies.size(); ++p) {
        (program.policies[p].effect == PolicyEffect::kPermit ? permits_[k]
                                                             : forbids_[k])
            .push_back(p);
      }
    }
  }

  DiffReport Run();

 private:
  Verdict DecisionUnder(size_t k, const Constraints& c, uint32_t* branch) const;
  std::optional<std::vector<std::string>> Determining(size_t k,
                                                      const Constraints& c) const;
  Expand Filter(const Constraints& c) const;
  void Visit(const Constraints& c);
  void Enumerate(const Constraints& c, bool old_permit, bool new_permit);
  // Records the region of `c`, with an example when one is confirmed;
  // returns whether it was.
  bool Record(const Constraints& c, bool old_permit, bool new_permit,
              bool policies_only);
  // Returns `c` without the conditions that neither decision depends on.
  Constraints Minimize(const Constraints& c, bool old_permit, bool new_permit) const;
  std::vector<Atom> Atoms(const Constraints& c) const;
  Atom RenderStep(const Step& step) const;
  std::string RenderValue(uint32_t slot, uint32_t symbol) const;
  void Merge(Change change);

  const DiffOptions options_;
  Universe universe_;
  PolicyMatcher matcher_;
  WitnessBuilder witness_;
  std::vector<uint32_t> permits_[2], forbids_[2];
  std::vector<Change> changes_;
  SearchStats search_stats_;
  std::optional<Constraints> start_;
};

Verdict Differ::DecisionUnder(size_t k, const Constraints& c,
                              uint32_t* branch) const {
  switch (DecideRegion(universe_, k, c, branch)) {
    case RegionDecision::kPermit: return Verdict::kPermit;
    case RegionDecision::kDeny: return Verdict::kDeny;
    case RegionDecision::kOpen: return Verdict::kOpen;
  }
  return Verdict::kOpen;
}

// The ids of the policies that determine a decision fixed under `c`, when
// every policy of that effect is decided there. Not computed for programs
// with policy sets, whose determining policies depend on the set structure.
std::optional<std::vector<std::string>> Differ::Determining(
    size_t k, const Constraints& c) const {
  const Program& program = universe_.program(k);
  if (program.has_policy_sets) return std::nullopt;
  uint32_t branch = kNoPredicate;
  const Verdict verdict = DecisionUnder(k, c, &branch);
  if (verdict == Verdict::kOpen) return std::nullopt;
  std::vector<std::string> ids;
  for (uint32_t policy : verdict == Verdict::kPermit ? permits_[k] : forbids_[k]) {
    Outcome o = EvaluateUnder(universe_, k, program.policy_formulas[policy], c, &branch);
    if (o == Outcome::kUnknown) return std::nullopt;
    if (o == Outcome::kTrue) ids.push_back(program.policies[policy].id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Expand Differ::Filter(const Constraints& c) const {
  // Where only unchanged policies can still vary, nothing below changes.
  if (!options_.policies && matcher_.SameDecisions(c)) return Expand::kSkip;
  uint32_t branch;
  const Verdict before = DecisionUnder(0, c, &branch);
  const Verdict after = DecisionUnder(1, c, &branch);
  if (before == Verdict::kOpen || after == Verdict::kOpen) return Expand::kDescend;
  if (before != after) return Expand::kVisit;
  if (!options_.policies) return Expand::kSkip;
  std::optional<std::vector<std::string>> a = Determining(0, c);
  std::optional<std::vector<std::string>> b = Determining(1, c);
  if (!a || !b) return Expand::kDescend;
  return *a == *b ? Expand::kSkip : Expand::kVisit;
}

void Differ::Visit(const Constraints& c) {
  if (!options_.policies && matcher_.SameDecisions(c)) return;
  uint32_t branch;
  const Verdict before = DecisionUnder(0, c, &branch);
  const Verdict after = DecisionUnder(1, c, &branch);
  if (before != Verdict::kOpen && after != Verdict::kOpen) {
    if (before != after) {
      Record(c, before == Verdict::kPermit, after == Verdict::kPermit, false);
    } else if (options_.policies && Filter(c) == Expand::kVisit) {
      Record(c, before == Verdict::kPermit, after == Verdict::kPermit, true);
    }
    return;
  }
  // A leaf kept residual conditions: enumerate the predicates they mention.
  for (bool old_permit : {false, true}) {
    const Verdict want_old = old_permit ? Verdict::kPermit : Verdict::kDeny;
    const Verdict want_new = old_permit ? Verdict::kDeny : Verdict::kPermit;
    if ((before == Verdict::kOpen || before == want_old) &&
        (after == Verdict::kOpen || after == want_new)) {
      Enumerate(c, old_permit, !old_permit);
    }
  }
}

void Differ::Enumerate(const Constraints& c, bool old_permit, bool new_permit) {
  const Verdict want[2] = {old_permit ? Verdict::kPermit : Verdict::kDeny,
                           new_permit ? Verdict::kPermit : Verdict::kDeny};
  SearchLimits limits;
  limits.max_depth = options_.analysis.max_enumerated;
  limits.find_all = true;
  const size_t cut_before = search_stats_.cut;
  Search(
      c,
      [&](const Constraints& cc, uint32_t* branch) {
        if (matcher_.SameDecisions(cc)) return Probe::kViolated;
        bool open = false;
        for (size_t k = 0; k < 2; ++k) {
          uint32_t b = kNoPredicate;
          const Verdict v = DecisionUnder(k, cc, &b);
          if (v == Verdict::kOpen) {
            if (!open) *branch = b;
            open = true;
          } else if (v != want[k]) {
            return Probe::kViolated;
          }
        }
        if (!open) return Probe::kSatisfied;
        // Deciding the policies that changed first settles most regions.
        const uint32_t differing = matcher_.OpenDifferingPredicate(cc);
        if (differing != kNoPredicate) *branch = differing;
        return Probe::kOpen;
      },
      [&](const Constraints& cc) {
        return Record(cc, old_permit, new_permit, false);
      },
      limits, &search_stats_);
  if (search_stats_.cut > cut_before) {
    // What the limits left unexplored may change the decision too.
    Change change;
    change.atoms = Atoms(c);
    change.region.old_permit = old_permit;
    change.region.new_permit = new_permit;
    change.region.basis = absl::StrCat(
        "approximate: the residual conditions here need more than ",
        options_.analysis.max_enumerated,
        " predicates enumerated; the decision may change somewhere in it");
    Merge(std::move(change));
  }
}

// Tries to leave out each condition in turn and keeps it out when the
// remaining ones still fix both decisions: the region grows, and every
// request in it still changes the same way.
Constraints Differ::Minimize(const Constraints& c, bool old_permit,
                             bool new_permit) const {
  const std::vector<Step>& steps = c.steps();
  std::vector<bool> keep(steps.size(), true);
  const Verdict want[2] = {old_permit ? Verdict::kPermit : Verdict::kDeny,
                           new_permit ? Verdict::kPermit : Verdict::kDeny};
  for (size_t i = 0; i < steps.size(); ++i) {
    keep[i] = false;
    std::optional<Constraints> trial = ReplaySteps(*start_, steps, keep);
    uint32_t branch;
    if (!trial || DecisionUnder(0, *trial, &branch) != want[0] ||
        DecisionUnder(1, *trial, &branch) != want[1]) {
      keep[i] = true;
    }
  }
  std::optional<Constraints> result = ReplaySteps(*start_, steps, keep);
  return result ? *result : c;
}

bool Differ::Record(const Constraints& found, bool old_permit, bool new_permit,
                    bool policies_only) {
  const Constraints c =
      policies_only ? found : Minimize(found, old_permit, new_permit);
  Change change;
  change.atoms = Atoms(c);
  DiffRegion& region = change.region;
  region.old_permit = old_permit;
  region.new_permit = new_permit;
  std::optional<Json> example = witness_.Find(c, [&](std::span<Frame* const> frames) {
    std::vector<std::string> determining[2];
    for (size_t k = 0; k < 2; ++k) {
      const Program& program = universe_.program(k);
      Decision decision = Evaluate(program, *frames[k]);
      if (decision.rejected || decision.permit != (k == 0 ? old_permit : new_permit)) {
        return false;
      }
      (k == 0 ? region.old_reasons : region.new_reasons) =
          DecisionReasons(program, *frames[k], decision);
      for (uint32_t p : decision.determining) {
        determining[k].push_back(program.policies[p].id);
      }
      std::sort(determining[k].begin(), determining[k].end());
    }
    return !policies_only || determining[0] != determining[1];
  });
  if (example) {
    region.example = std::move(*example);
    region.exact = true;
    region.basis = "exact: the example was decoded and decided by both versions";
  } else {
    region.old_reasons.clear();
    region.new_reasons.clear();
    region.basis =
        "approximate: no example request could be confirmed; the region may "
        "be unreachable";
  }
  const bool exact = region.exact;
  Merge(std::move(change));
  return exact;
}

// The region's conjuncts, leaving out those a switch key implies: once a
// slot's value is fixed, earlier exclusions and tests of that slot alone
// add nothing for the reader.
std::vector<Atom> Differ::Atoms(const Constraints& c) const {
  std::vector<uint32_t> keyed;
  for (const Step& step : c.steps()) {
    if (step.kind == StepKind::kSwitchKey) keyed.push_back(step.slot);
  }
  auto is_keyed = [&](uint32_t slot) {
    return std::find(keyed.begin(), keyed.end(), slot) != keyed.end();
  };
  std::vector<Atom> atoms;
  for (const Step& step : c.steps()) {
    if (step.kind == StepKind::kSwitchOther && is_keyed(step.slot)) continue;
    if (step.kind == StepKind::kLiteral) {
      const UniversePredicate& p = universe_.predicate(step.predicate);
      if (p.modeled && p.slots.size() == 1 && is_keyed(p.slots[0])) continue;
    }
    atoms.push_back(RenderStep(step));
  }
  return atoms;
}

std::string Differ::RenderValue(uint32_t slot, uint32_t symbol) const {
  const std::string& text = universe_.SymbolText(symbol);
  if (universe_.slot(slot).type != Type::kStringList) return Quote(text);
  std::vector<std::string> elements;
  if (!text.empty()) {
    for (absl::string_view e : absl::StrSplit(ToAbsl(text).substr(1),
                                              kListSeparator, absl::AllowEmpty())) {
      elements.push_back(Quote(ToStd(e)));
    }
  }
  return absl::StrCat("[", absl::StrJoin(elements, ", "), "]");
}

Atom Differ::RenderStep(const Step& step) const {
  Atom atom;
  if (step.kind == StepKind::kLiteral) {
    const UniversePredicate& p = universe_.predicate(step.predicate);
    switch (step.truth) {
      case Truth::kTrue: atom.text = p.rendered; break;
      case Truth::kFalse: atom.text = absl::StrCat("not (", p.rendered, ")"); break;
      case Truth::kError:
        atom.text = !p.may_overflow && p.slots.size() == 1
                        ? absl::StrCat(universe_.slot(p.slots[0]).path, " is absent")
                        : absl::StrCat("`", p.rendered, "` is an error");
        break;
    }
    return atom;
  }
  const std::string& path = universe_.slot(step.slot).path;
  std::vector<std::string> keys;
  for (uint32_t key : step.keys) keys.push_back(RenderValue(step.slot, key));
  std::sort(keys.begin(), keys.end());
  if (step.kind == StepKind::kSwitchKey) {
    atom.text = absl::StrCat(path, " == ", keys[0]);
    atom.slot = step.slot;
    atom.keys = keys;
  } else if (step.kind == StepKind::kAbsent) {
    atom.text = absl::StrCat(path, " is absent");
  } else if (step.kind == StepKind::kPresent || keys.empty()) {
    atom.text = absl::StrCat(path, " is present");
  } else {
    atom.text = absl::StrCat(path, " not in [", absl::StrJoin(keys, ", "), "]");
  }
  return atom;
}

// Merges `change` into an earlier region with the same decisions and the
// same conjuncts except the key of one switch; otherwise appends it.
void Differ::Merge(Change change) {
  for (Change& other : changes_) {
    const DiffRegion& a = other.region;
    const DiffRegion& b = change.region;
    if (a.old_permit != b.old_permit || a.new_permit != b.new_permit ||
        a.exact != b.exact || a.basis != b.basis ||
        other.atoms.size() != change.atoms.size()) {
      continue;
    }
    size_t differing = 0, at = 0;
    for (size_t i = 0; i < change.atoms.size(); ++i) {
      if (!(other.atoms[i] == change.atoms[i])) {
        ++differing;
        at = i;
      }
    }
    if (differing == 0) return;  // the same region, found again
    if (differing != 1) continue;
    Atom& target = other.atoms[at];
    const Atom& source = change.atoms[at];
    if (target.keys.empty() || source.keys.empty() || target.slot != source.slot) {
      continue;
    }
    target.keys.insert(target.keys.end(), source.keys.begin(), source.keys.end());
    std::sort(target.keys.begin(), target.keys.end());
    target.text = absl::StrCat(universe_.slot(target.slot).path, " in [",
                               absl::StrJoin(target.keys, ", "), "]");
    return;
  }
  changes_.push_back(std::move(change));
}

DiffReport Differ::Run() {
  Constraints start(universe_);
  if (universe_.env_now_slot() != kNoSlot) {
    start.RequirePresent(universe_.env_now_slot());  // decoding fills it
  }
  start_ = start;
  WalkStats stats = WalkRegions(
      universe_, start, options_.analysis.max_regions,
      [&](const Constraints& c, std::span<const uint32_t>) { Visit(c); },
      [&](const Constraints& c) { return Filter(c); });
  DiffReport report;
  report.regions_walked = stats.regions;
  report.pruned = stats.pruned + search_stats_.pruned;
  report.complete = stats.complete;
  for (Change& change : changes_) {
    for (Atom& atom : change.atoms) change.region.condition.push_back(atom.text);
    report.regions.push_back(std::move(change.region));
  }
  return report;
}

}  // namespace

DiffReport Diff(const Program& old_program, const Program& new_program,
                const DiffOptions& options) {
  return Differ(old_program, new_program, options).Run();
}

}  // namespace verdict::compiler
