#include "compiler/ast_text.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/absl_compat.h"
#include "engine/types.h"

namespace verdict::compiler {
namespace {

// Writes every field, whatever the kind, so that a field added to Expr later
// needs one line here and no change of the kinds.
void AppendExpr(const Expr& expr, int depth, std::string& out) {
  absl::StrAppend(
      &out, std::string(static_cast<size_t>(depth) * 2, ' '),
      "kind=", static_cast<int>(expr.kind), " bool=", expr.bool_value,
      " int=", expr.int_value, " string=\"", absl::CEscape(expr.string_value),
      "\"", " path=", absl::StrJoin(expr.path, "."), " has=", expr.has_path,
      " op=", static_cast<int>(expr.compare_op), " method=", expr.method, "\n");
  for (const auto& child : expr.children) {
    if (child == nullptr) {
      absl::StrAppend(
          &out, std::string(static_cast<size_t>(depth + 1) * 2, ' '), "null\n");
    } else {
      AppendExpr(*child, depth + 1, out);
    }
  }
}

void AppendOptionalExpr(const std::unique_ptr<Expr>& expr, int depth,
                        std::string& out) {
  if (expr == nullptr) {
    absl::StrAppend(&out, std::string(static_cast<size_t>(depth) * 2, ' '),
                    "none\n");
  } else {
    AppendExpr(*expr, depth, out);
  }
}

void AppendDuty(const DutyDecl& duty, std::string& out) {
  absl::StrAppend(&out, duty.advice ? "  advice" : "  obligation", " \"",
                  absl::CEscape(duty.name), "\"\n");
  for (const auto& [name, value] : duty.fields) {
    absl::StrAppend(&out, "    ", name, ":\n");
    AppendOptionalExpr(value, 3, out);
  }
}

}  // namespace

std::string AstText(const FileAst& ast) {
  std::string out;
  for (const SchemaDecl& schema : ast.schemas) {
    absl::StrAppend(&out, "schema ", schema.group, " from ", schema.data_set,
                    "\n");
    for (const SchemaAttribute& attribute : schema.attributes) {
      absl::StrAppend(&out, "  ", attribute.name,
                      attribute.optional ? "?: " : ": ",
                      ToAbsl(TypeName(attribute.type)), "\n");
    }
  }
  for (const ConstDecl& constant : ast.constants) {
    absl::StrAppend(&out, "const ", constant.name, "\n");
    AppendOptionalExpr(constant.value, 1, out);
  }
  for (const PolicySetDecl& set : ast.policy_sets) {
    absl::StrAppend(&out, "policyset \"", absl::CEscape(set.id), "\"",
                    " algorithm=", static_cast<int>(set.algorithm),
                    " set=", set.set, " order=", set.order, "\n");
  }
  for (const PolicyDecl& policy : ast.policies) {
    absl::StrAppend(&out,
                    policy.effect == Effect::kPermit ? "permit" : "forbid",
                    " \"", absl::CEscape(policy.id), "\" set=", policy.set,
                    " order=", policy.order, "\n");
    AppendOptionalExpr(policy.condition, 1, out);
    for (const DutyDecl& duty : policy.duties) AppendDuty(duty, out);
  }
  return out;
}

}  // namespace verdict::compiler
