#include "compiler/ast_text.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/absl_compat.h"
#include "engine/types.h"

namespace verdict::compiler {
namespace {

// Writes the AST as AstText describes. With `spans`, each line that
// describes a node or declaration ends in its spans.
class AstWriter {
 public:
  explicit AstWriter(bool spans) : spans_(spans) {}

  std::string Write(const FileAst& ast);

 private:
  void AppendExpr(const Expr& expr, int depth);
  void AppendOptionalExpr(const std::unique_ptr<Expr>& expr, int depth);
  void AppendDuty(const DutyDecl& duty);
  // Appends " @line:column-end_line:end_column" when spans are written.
  void AppendSpan(const Span& span);

  const bool spans_;
  std::string out_;
};

void AstWriter::AppendSpan(const Span& span) {
  if (!spans_) return;
  absl::StrAppend(&out_, " @", span.line, ":", span.column, "-", span.end_line,
                  ":", span.end_column);
}

// Writes every field, whatever the kind, so that a field added to Expr later
// needs one line here and no change of the kinds.
void AstWriter::AppendExpr(const Expr& expr, int depth) {
  absl::StrAppend(
      &out_, std::string(static_cast<size_t>(depth) * 2, ' '),
      "kind=", static_cast<int>(expr.kind), " bool=", expr.bool_value,
      " int=", expr.int_value, " string=\"", absl::CEscape(expr.string_value),
      "\"", " path=", absl::StrJoin(expr.path, "."), " has=", expr.has_path,
      " op=", static_cast<int>(expr.compare_op), " method=", expr.method);
  AppendSpan(expr.span);
  out_.push_back('\n');
  for (const auto& child : expr.children) {
    if (child == nullptr) {
      absl::StrAppend(&out_,
                      std::string(static_cast<size_t>(depth + 1) * 2, ' '),
                      "null\n");
    } else {
      AppendExpr(*child, depth + 1);
    }
  }
}

void AstWriter::AppendOptionalExpr(const std::unique_ptr<Expr>& expr,
                                   int depth) {
  if (expr == nullptr) {
    absl::StrAppend(&out_, std::string(static_cast<size_t>(depth) * 2, ' '),
                    "none\n");
  } else {
    AppendExpr(*expr, depth);
  }
}

void AstWriter::AppendDuty(const DutyDecl& duty) {
  absl::StrAppend(&out_, duty.advice ? "  advice" : "  obligation", " \"",
                  absl::CEscape(duty.name), "\"");
  AppendSpan(duty.span);
  out_.push_back('\n');
  for (const auto& [name, value] : duty.fields) {
    absl::StrAppend(&out_, "    ", name, ":\n");
    AppendOptionalExpr(value, 3);
  }
}

std::string AstWriter::Write(const FileAst& ast) {
  if (!ast.module.empty()) {
    absl::StrAppend(&out_, "module ", ast.module);
    AppendSpan(ast.module_span);
    out_.push_back('\n');
  }
  for (const SchemaDecl& schema : ast.schemas) {
    absl::StrAppend(&out_, "schema ", schema.group, " from ", schema.data_set);
    AppendSpan(schema.span);
    AppendSpan(schema.data_span);
    out_.push_back('\n');
    for (const SchemaAttribute& attribute : schema.attributes) {
      absl::StrAppend(&out_, "  ", attribute.name,
                      attribute.optional ? "?: " : ": ",
                      ToAbsl(TypeName(attribute.type)));
      AppendSpan(attribute.span);
      out_.push_back('\n');
    }
  }
  for (const ConstDecl& constant : ast.constants) {
    absl::StrAppend(&out_, "const ", constant.name);
    AppendSpan(constant.span);
    out_.push_back('\n');
    AppendOptionalExpr(constant.value, 1);
  }
  for (const PolicySetDecl& set : ast.policy_sets) {
    absl::StrAppend(&out_, "policyset \"", absl::CEscape(set.id), "\"",
                    " algorithm=", static_cast<int>(set.algorithm),
                    " set=", set.set, " order=", set.order);
    AppendSpan(set.span);
    out_.push_back('\n');
  }
  for (const PolicyDecl& policy : ast.policies) {
    absl::StrAppend(&out_,
                    policy.effect == Effect::kPermit ? "permit" : "forbid",
                    " \"", absl::CEscape(policy.id), "\" set=", policy.set,
                    " order=", policy.order);
    if (!policy.link_data_set.empty()) {
      absl::StrAppend(&out_, " from ", policy.link_data_set);
    }
    AppendSpan(policy.span);
    AppendSpan(policy.id_span);
    AppendSpan(policy.link_span);
    out_.push_back('\n');
    AppendOptionalExpr(policy.condition, 1);
    for (const DutyDecl& duty : policy.duties) AppendDuty(duty);
  }
  return std::move(out_);
}

}  // namespace

std::string AstText(const FileAst& ast) { return AstWriter(false).Write(ast); }

std::string AstTextWithSpans(const FileAst& ast) {
  return AstWriter(true).Write(ast);
}

}  // namespace verdict::compiler
