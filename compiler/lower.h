// Lowering of checked policies into shared atomic predicates and formulas.

#ifndef VERDICT_COMPILER_LOWER_H_
#define VERDICT_COMPILER_LOWER_H_

#include <memory>
#include <string_view>

#include "compiler/checker.h"
#include "compiler/formula.h"
#include "engine/program.h"

namespace verdict::compiler {

// Fills `program` with the slots, symbols, policies, constant sets and
// predicates of `checked`, and `store` with one condition formula per policy
// (Program::policy_formulas). Identical predicates across policies are
// stored once; literal-only comparisons are folded to constants.
// REQUIRES: `checked` came from Check() with no errors.
void Lower(const CheckedSet& checked, Program& program, FormulaStore& store);

// Lowers policies as the checker produces them, file by file, and frees
// each policy's condition and duties once lowered, so that the checked
// conditions of all policies are never in memory at once. Gives the
// program Lower() gives.
class StreamingLowerer {
 public:
  StreamingLowerer(Program& program, FormulaStore& store);
  ~StreamingLowerer();

  // Lowers the policies of `checked` not lowered yet. `checked` has every
  // attribute and policy set; its later policies may be yet to come.
  // REQUIRES: no checker error so far.
  void Lower(CheckedSet& checked);
  // Lays out the policy sets and link tables once every policy is lowered.
  void Finish(const CheckedSet& checked);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Returns the program symbol for `text`, adding it if new.
uint32_t InternSymbol(Program& program, std::string_view text);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_LOWER_H_
