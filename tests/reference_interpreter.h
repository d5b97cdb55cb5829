// A deliberately simple evaluator that walks the checked AST, used only by
// tests to check the compiled DAG. It shares request decoding (the Frame)
// with the engine but none of the lowering, DAG or evaluator code.

#ifndef VERDICT_TESTS_REFERENCE_INTERPRETER_H_
#define VERDICT_TESTS_REFERENCE_INTERPRETER_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "compiler/checker.h"
#include "engine/program.h"
#include "engine/request.h"

namespace verdict::testing {

struct ReferenceDecision {
  bool permit = false;
  std::set<std::string> determining;  // policy ids
  std::set<std::string> errored;      // policy ids
};

// The records that link templates, by data set name: each record maps a
// field to its value as text (an int in decimal).
using ReferenceLinks =
    std::map<std::string, std::vector<std::map<std::string, std::string>>>;

// Decides the request in `frame` by evaluating every policy of `checked`
// directly, with the language's rules: Kleene logic where an error is
// "unknown", default deny, forbid overrides permit, an errored forbid
// denies, an errored permit does not apply, and permits are not reported
// once a forbid applies or errors, and a permit whose obligation reads an
// absent attribute denies. A template applies when some record of
// `links` equals the attributes it binds. `program` supplies slot indexes
// and symbols only (its attribute order equals `checked`'s).
ReferenceDecision ReferenceEvaluate(const compiler::CheckedSet& checked,
                                    const Program& program, const Frame& frame,
                                    const ReferenceLinks& links = {});

}  // namespace verdict::testing

#endif  // VERDICT_TESTS_REFERENCE_INTERPRETER_H_
