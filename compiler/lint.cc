// Lint: the questions asked about every policy, answered by a direct
// search and then, where needed, region by region over the DAG. Findings
// are derived in lint_findings.cc and rendered in lint_format.cc.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "compiler/lint_internal.h"
#include "engine/evaluator.h"

namespace verdict::compiler {
namespace lint_internal {

size_t Linter::AddQuery(std::vector<Goal> goals, bool all_present) {
  Query query;
  query.goals = std::move(goals);
  query.all_present = all_present;
  queries_.push_back(std::move(query));
  return queries_.size() - 1;
}

void Linter::AddQueries() {
  std::vector<uint32_t> permits, forbids;
  for (uint32_t p = 0; p < program_.policies.size(); ++p) {
    (IsPermit(p) ? permits : forbids).push_back(p);
  }
  per_policy_.resize(program_.policies.size());
  for (uint32_t p = 0; p < program_.policies.size(); ++p) {
    const Formula& condition = Condition(p);
    const bool constant = condition.kind == FormulaKind::kConst;
    if (constant && condition.constant != Truth::kTrue &&
        !(condition.constant == Truth::kError && !IsPermit(p))) {
      continue;  // never applies; always-false reports it without a search
    }
    PolicyQueries& q = per_policy_[p];
    // Shadowed, overridden and redundant-forbid assume the top-level rule
    // (a forbid overrides, a permit grants); policy sets combine otherwise.
    const bool relations = !program_.has_policy_sets;
    if (relations && IsPermit(p)) {
      // The policy's own goal comes first: the search branches on the
      // first open goal, and this one prunes the most.
      std::vector<Goal> grants = {Goal{p, kMaskTrue}};
      for (uint32_t f : forbids) grants.push_back(Goal{f, kMaskFalse});
      std::vector<Goal> alone = grants;
      for (uint32_t other : permits) {
        if (other != p) alone.push_back(Goal{other, kMaskFalse | kMaskError});
      }
      q.alone = AddQuery(std::move(alone));
      q.grants = AddQuery(std::move(grants));
    }
    // A forbid whose condition is the constant error denies every request.
    const uint8_t applies_mask =
        constant && condition.constant == Truth::kError ? kMaskError : kMaskTrue;
    q.applies = AddQuery({Goal{p, applies_mask}});
    if (!constant) {
      q.full_true = AddQuery({Goal{p, kMaskTrue}}, /*all_present=*/true);
      q.full_other =
          AddQuery({Goal{p, kMaskFalse | kMaskError}}, /*all_present=*/true);
    }
    if (relations && !IsPermit(p)) {
      for (uint32_t permit : permits) {
        q.with_permit.push_back(AddQuery(
            {Goal{p, kMaskTrue | kMaskError}, Goal{permit, kMaskTrue}}));
      }
    }
    if (q.alone != kNone) queries_[q.alone].implies = {q.grants, q.applies};
    if (q.grants != kNone) queries_[q.grants].implies = {q.applies};
    if (q.full_true != kNone) queries_[q.full_true].implies = {q.applies};
  }
}

Probe Linter::CheckGoals(const Query& query, const Constraints& c,
                         uint32_t* branch) const {
  Probe result = Probe::kSatisfied;
  for (const Goal& goal : query.goals) {
    uint32_t open = kNoPredicate;
    Outcome outcome = EvaluateUnder(universe_, 0, program_.policy_formulas[goal.policy],
                                    c, &open);
    if (outcome == Outcome::kUnknown) {
      if (result == Probe::kSatisfied) *branch = open;
      result = Probe::kOpen;
      continue;
    }
    if ((MaskOf(outcome) & goal.mask) == 0) return Probe::kViolated;
  }
  return result;
}

bool Linter::Accept(Query& query, const Constraints& c) {
  std::optional<Json> request =
      witness_.Find(c, [&](std::span<Frame* const> frames) {
        Frame& frame = *frames[0];
        for (const Goal& goal : query.goals) {
          Truth truth = EvaluateFormula(program_, frame,
                                        program_.policy_formulas[goal.policy]);
          if ((MaskOf(static_cast<Outcome>(truth)) & goal.mask) == 0) return false;
        }
        for (uint32_t s = 0; query.all_present && s < program_.slots.size(); ++s) {
          if (!frame.slot(s).present) return false;
        }
        query.applying.clear();
        query.erroring.clear();
        for (uint32_t p = 0; p < program_.policies.size(); ++p) {
          Truth truth = EvaluateFormula(program_, frame, program_.policy_formulas[p]);
          if (truth == Truth::kTrue) query.applying.push_back(p);
          if (truth == Truth::kError) query.erroring.push_back(p);
        }
        Decision decision = Evaluate(program_, frame);
        query.permit = decision.permit;
        query.reasons = DecisionReasons(program_, frame, decision);
        return true;
      });
  if (!request) return false;
  query.witness = std::move(*request);
  query.witnessed = true;
  return true;
}

void Linter::Answer(size_t index, const Query& source) {
  Query& target = queries_[index];
  if (target.witnessed) return;
  target.witnessed = true;
  target.witness = source.witness;
  target.permit = source.permit;
  target.reasons = source.reasons;
  target.applying = source.applying;
  target.erroring = source.erroring;
}

// Searches one DAG region for the questions the direct search left open.
void Linter::VisitRegion(const Constraints& region) {
  std::optional<Constraints> full;
  bool full_feasible = true;
  SearchLimits limits;
  limits.max_depth = options_.max_enumerated;
  for (size_t i : open_) {
    Query& query = queries_[i];
    if (query.witnessed) continue;
    const Constraints* start = &region;
    if (query.all_present) {
      if (!full) {
        full = region;
        full_feasible = full->RequireAllPresent();
      }
      if (!full_feasible) continue;
      start = &*full;
    }
    SearchResult result = Ask(query, *start, limits);
    if (result == SearchResult::kUnknown) ++query.undecided;
  }
}

SearchResult Linter::Ask(Query& query, const Constraints& start,
                         const SearchLimits& limits) {
  SearchResult result = Search(
      start,
      [&](const Constraints& c, uint32_t* branch) {
        return CheckGoals(query, c, branch);
      },
      [&](const Constraints& c) { return Accept(query, c); }, limits,
      &search_stats_);
  if (result == SearchResult::kWitnessed) {
    for (size_t implied : query.implies) Answer(implied, query);
  }
  return result;
}

// True when the answer to question `index` can still change a finding. A
// question is dropped only on answers already proved: a refinement of a
// question that has no request, or a redundancy check of a forbid that
// some permit already applies with.
bool Linter::Needed(size_t index) const {
  if (queries_[index].witnessed) return false;
  auto none = [&](size_t i) { return i != kNone && queries_[i].none; };
  auto witnessed = [&](size_t i) { return i != kNone && queries_[i].witnessed; };
  for (const PolicyQueries& q : per_policy_) {
    if (index == q.applies) return true;
    if (index == q.grants) return !none(q.applies);
    if (index == q.alone) return !none(q.applies) && !none(q.grants);
    if (index == q.full_true) return !witnessed(q.full_other);
    if (index == q.full_other) return !none(q.full_true);
    if (std::find(q.with_permit.begin(), q.with_permit.end(), index) !=
        q.with_permit.end()) {
      return !none(q.applies) &&
             std::none_of(q.with_permit.begin(), q.with_permit.end(), witnessed);
    }
  }
  return true;
}

// True when some open question may still be answered below `prefix`.
bool Linter::Interesting(const Constraints& prefix) const {
  for (size_t i : open_) {
    const Query& query = queries_[i];
    if (query.witnessed) continue;
    uint32_t branch = kNoPredicate;
    if (CheckGoals(query, prefix, &branch) != Probe::kViolated) return true;
  }
  return false;
}

LintReport Linter::Run() {
  AddQueries();
  Constraints start(universe_);
  if (universe_.env_now_slot() != kNoSlot) {
    start.RequirePresent(universe_.env_now_slot());  // decoding fills it
  }
  // First a direct search over predicate outcomes, which needs no DAG and
  // decides most questions; a kNone answer is a proof over all requests.
  SearchLimits direct;
  direct.max_depth = universe_.predicate_count();
  direct.max_steps = options_.max_search_steps;
  for (size_t i = 0; i < queries_.size(); ++i) {
    Query& query = queries_[i];
    if (query.witnessed) continue;
    Constraints begin = start;
    if (query.all_present && !begin.RequireAllPresent()) {
      query.none = true;
      continue;
    }
    SearchResult result = Ask(query, begin, direct);
    if (result == SearchResult::kNone) query.none = true;
    if (result == SearchResult::kUnknown) open_.push_back(i);
  }
  std::erase_if(open_, [&](size_t i) { return !Needed(i); });
  // Then the DAG's regions, for what the direct search left open: a path
  // fixes many predicates at once, so the search inside each is shallow.
  WalkStats stats;
  if (!open_.empty()) {
    stats = WalkRegions(
        universe_, start, options_.max_regions,
        [&](const Constraints& region, std::span<const uint32_t>) {
          VisitRegion(region);
        },
        [&](const Constraints& prefix) {
          return Interesting(prefix) ? Expand::kDescend : Expand::kSkip;
        });
    for (size_t i : open_) {
      Query& query = queries_[i];
      query.none = !query.witnessed && stats.complete && query.undecided == 0;
    }
  }
  LintReport report;
  report.questions = queries_.size();
  report.regions = stats.regions;
  report.pruned = stats.pruned + search_stats_.pruned;
  report.complete = stats.complete;
  report.relations_checked = !program_.has_policy_sets;
  for (uint32_t p = 0; p < program_.policies.size(); ++p) Derive(p, report);
  return report;
}

}  // namespace lint_internal

LintReport Lint(const Program& program, const AnalysisOptions& options) {
  return lint_internal::Linter(program, options).Run();
}

}  // namespace verdict::compiler
