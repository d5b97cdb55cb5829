// Templates: a policy `from` a data set, linked once per record.
//
// CheckTemplate rejects a placeholder that is bound twice or that appears
// anywhere but in a term `attribute == ?field` of the top-level `and`.
// Because `and` is commutative under Kleene logic, those terms are gathered
// into one test, kLinked: does some record match the request on every
// bound attribute? The lowering stage compiles it into one hash lookup
// however many records link the template.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/checker_internal.h"

namespace verdict::compiler::checker_internal {
namespace {

void CollectConjuncts(const Expr& expr, std::vector<const Expr*>& out) {
  if (expr.kind == ExprKind::kAnd) {
    for (const auto& child : expr.children) CollectConjuncts(*child, out);
  } else {
    out.push_back(&expr);
  }
}

// Returns the placeholder of `attribute == ?field` (either way round), or
// null when `expr` is not such a term.
const Expr* BindingPlaceholder(const Expr& expr) {
  if (expr.kind != ExprKind::kCompare || expr.compare_op != CompareOp::kEq) {
    return nullptr;
  }
  const Expr& left = *expr.children[0];
  const Expr& right = *expr.children[1];
  if (right.kind == ExprKind::kPlaceholder && left.kind == ExprKind::kName) {
    return &right;
  }
  if (left.kind == ExprKind::kPlaceholder && right.kind == ExprKind::kName) {
    return &left;
  }
  return nullptr;
}

}  // namespace

std::optional<TExpr> Checker::CheckTemplate(const PolicyDecl& decl,
                                            const std::string& id) {
  if (decl.condition == nullptr) {
    diagnostics_.Error(decl.link_span,
                       absl::StrCat("template \"", id, "\" links records of '",
                                    decl.link_data_set,
                                    "' but has no condition to bind them; "
                                    "write `when { subject.id == ?user }`"));
    return std::nullopt;
  }
  std::vector<const Expr*> conjuncts;
  CollectConjuncts(*decl.condition, conjuncts);
  TExpr linked;
  linked.kind = TExprKind::kLinked;
  linked.type = Type::kBool;
  linked.span = decl.link_span;
  linked.text = decl.link_data_set;
  std::vector<TExpr> rest;
  bool ok = true;
  for (const Expr* conjunct : conjuncts) {
    const Expr* placeholder = BindingPlaceholder(*conjunct);
    if (placeholder == nullptr) {
      // Any other placeholder is reported by CheckExpr.
      std::optional<TExpr> checked = CheckExpr(*conjunct);
      if (!checked || !ExpectType(*checked, Type::kBool, "a policy condition")) {
        ok = false;
      } else {
        rest.push_back(std::move(*checked));
      }
      continue;
    }
    const Expr& name = conjunct->children[0].get() == placeholder
                           ? *conjunct->children[1]
                           : *conjunct->children[0];
    std::optional<TExpr> attribute = CheckName(name);
    if (!attribute) {
      ok = false;
      continue;
    }
    if (attribute->kind != TExprKind::kAttribute ||
        (attribute->type != Type::kString && attribute->type != Type::kInt)) {
      diagnostics_.Error(
          name.span,
          absl::StrCat("placeholder ?", placeholder->string_value,
                       " binds a string or int attribute; this is ",
                       TypeText(attribute->type),
                       attribute->kind == TExprKind::kAttribute ? "" : " constant"));
      ok = false;
      continue;
    }
    if (std::find(linked.elements.begin(), linked.elements.end(),
                  placeholder->string_value) != linked.elements.end()) {
      diagnostics_.Error(placeholder->span,
                         absl::StrCat("placeholder ?", placeholder->string_value,
                                      " is bound twice; bind each placeholder "
                                      "to one attribute"));
      ok = false;
      continue;
    }
    linked.elements.push_back(placeholder->string_value);
    linked.children.push_back(std::move(*attribute));
  }
  if (!ok) return std::nullopt;
  if (linked.elements.empty()) {
    diagnostics_.Error(decl.link_span,
                       absl::StrCat("template \"", id,
                                    "\" binds no placeholder; compare an "
                                    "attribute with one, as in "
                                    "`subject.id == ?user`"));
    return std::nullopt;
  }
  if (linked.elements.size() > kMaxPlaceholders) {
    diagnostics_.Error(
        decl.link_span,
        absl::StrCat("template \"", id, "\" binds ", linked.elements.size(),
                     " placeholders, over the limit of ", kMaxPlaceholders,
                     "; link it on at most ", kMaxPlaceholders, " attributes"));
    return std::nullopt;
  }
  linked.int_value = static_cast<int64_t>(result_.templates.size());
  CheckedTemplate entry{id, decl.link_data_set, decl.link_span,
                        linked.elements, {}};
  for (const TExpr& attribute : linked.children) {
    entry.attributes.push_back(attribute.attribute);
  }
  result_.templates.push_back(std::move(entry));
  if (rest.empty()) return linked;
  TExpr out;
  out.kind = TExprKind::kAnd;
  out.type = Type::kBool;
  out.span = decl.condition->span;
  // Last, so that `has` guards among the other terms cover its attributes.
  for (TExpr& term : rest) out.children.push_back(std::move(term));
  out.children.push_back(std::move(linked));
  return out;
}

}  // namespace verdict::compiler::checker_internal
