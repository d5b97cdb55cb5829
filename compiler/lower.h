// Lowering of checked policies into shared atomic predicates and formulas.

#ifndef VERDICT_COMPILER_LOWER_H_
#define VERDICT_COMPILER_LOWER_H_

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

// Returns the program symbol for `text`, adding it if new.
uint32_t InternSymbol(Program& program, std::string_view text);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_LOWER_H_
