#include "compiler/checker.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/checker_internal.h"
#include "compiler/suggest.h"
#include "engine/absl_compat.h"

namespace verdict::compiler {
namespace checker_internal {

CheckedSet Checker::Run(const std::vector<FileAst>& files) {
  CollectSchema(files);
  CollectConstants(files);
  CollectSets(files);
  for (size_t f = 0; f < files.size(); ++f) CheckPolicies(f, files[f]);
  module_.clear();
  return std::move(result_);
}

CheckedSet Checker::RunAndRelease(std::vector<FileAst>& files) {
  CollectSchema(files);
  CollectConstants(files);
  CollectSets(files);
  for (size_t f = 0; f < files.size(); ++f) {
    CheckPolicies(f, files[f]);
    std::vector<PolicyDecl>().swap(files[f].policies);
  }
  module_.clear();
  return std::move(result_);
}

CheckedSet Checker::RunStreaming(
    const std::vector<FileAst>& declarations,
    absl::FunctionRef<FileAst(size_t)> parse_again,
    absl::FunctionRef<void(CheckedSet&)> after_file) {
  CollectSchema(declarations);
  CollectConstants(declarations);
  CollectSets(declarations);
  for (size_t f = 0; f < declarations.size(); ++f) {
    CheckPolicies(f, parse_again(f));
    after_file(result_);
  }
  module_.clear();
  return std::move(result_);
}

void Checker::CollectSchema(const std::vector<FileAst>& files) {
  std::map<std::string, Attribute> attributes;
  std::map<std::string, Join> joins;
  for (const FileAst& file : files) {
    for (const SchemaDecl& schema : file.schemas) {
      groups_.insert(schema.group);
      if (!schema.data_set.empty()) {
        auto [it, inserted] = joins.emplace(
            schema.group, Join{schema.group, schema.data_set, schema.data_span});
        if (!inserted && it->second.data_set != schema.data_set) {
          diagnostics_.Error(
              schema.data_span,
              absl::StrCat("schema ", schema.group, " is joined from data set '",
                           schema.data_set, "' here but from '",
                           it->second.data_set, "' at ",
                           FormatLocation(it->second.span)));
        }
      }
      for (const SchemaAttribute& attribute : schema.attributes) {
        std::string path = absl::StrCat(schema.group, ".", attribute.name);
        Attribute entry{path, schema.group, attribute.type, attribute.optional,
                        /*computed=*/false, attribute.span};
        auto [it, inserted] = attributes.emplace(path, entry);
        if (!inserted) {
          diagnostics_.Error(attribute.span,
                             absl::StrCat("attribute '", path,
                                          "' is already declared at ",
                                          FormatLocation(it->second.span)));
        }
      }
    }
  }
  // Groups that name an entity (type and id) get their ancestors.
  for (const std::string& group : groups_) {
    auto type = attributes.find(group + ".type");
    auto id = attributes.find(group + ".id");
    if (type == attributes.end() || id == attributes.end() ||
        type->second.type != Type::kString || id->second.type != Type::kString) {
      continue;
    }
    std::string path = absl::StrCat(group, ".", kAncestorsAttribute);
    attributes.emplace(path, Attribute{path, group, Type::kStringSet,
                                       /*optional=*/false, /*computed=*/true,
                                       id->second.span});
  }
  for (auto& [group, join] : joins) {
    auto it = attributes.find(group + ".id");
    if (it == attributes.end() || it->second.type != Type::kString) {
      diagnostics_.Error(join.span,
                         absl::StrCat("schema ", group, " joins data set '",
                                      join.data_set, "' by ", group,
                                      ".id, so it must declare `id: string`"));
    }
    result_.joins.push_back(join);
  }
  for (const auto& [path, attribute] : attributes) {
    if (!path.starts_with(kProvenancePrefix)) continue;
    const std::string target = path.substr(std::strlen(kProvenancePrefix));
    if (attribute.type != Type::kString) {
      diagnostics_.Error(attribute.span,
                         absl::StrCat("provenance attribute '", path,
                                      "' must be declared as string"));
    } else if (attributes.count(target) == 0) {
      diagnostics_.Error(
          attribute.span,
          absl::StrCat("provenance attribute '", path,
                       "' names no declared attribute; declare '", target,
                       "' in schema ", target.substr(0, target.find('.'))));
    }
  }
  for (auto& [path, attribute] : attributes) {
    result_.attribute_index[path] =
        static_cast<uint32_t>(result_.attributes.size());
    result_.attributes.push_back(attribute);
  }
}

std::string Checker::Qualify(const std::string& name) const {
  return module_.empty() ? name : absl::StrCat(module_, "::", name);
}

void Checker::CollectConstants(const std::vector<FileAst>& files) {
  for (const FileAst& file : files) {
    module_ = file.module;
    for (const ConstDecl& decl : file.constants) {
      auto [it, inserted] = constants_.try_emplace(Qualify(decl.name));
      if (!inserted) {
        diagnostics_.Error(decl.span,
                           absl::StrCat("constant ", it->first,
                                        " is already declared at ",
                                        FormatLocation(it->second.decl->span)));
        continue;
      }
      it->second.decl = &decl;
      if (groups_.count(decl.name) > 0) {
        diagnostics_.Error(decl.span,
                           absl::StrCat("constant ", decl.name,
                                        " has the name of an attribute group"));
        continue;
      }
      // A collection constant stays untyped until a use gives it the set or
      // list type its context needs.
      it->second.value = CheckLiteral(*decl.value);
    }
  }
  module_.clear();
}

void Checker::CollectSets(const std::vector<FileAst>& files) {
  for (size_t f = 0; f < files.size(); ++f) {
    set_base_.push_back(static_cast<int>(result_.sets.size()));
    module_ = files[f].module;
    for (const PolicySetDecl& set : files[f].policy_sets) {
      std::string id = Qualify(set.id);
      auto [it, inserted] = seen_ids_.emplace(id, set.span);
      if (!inserted) {
        diagnostics_.Error(set.span,
                           absl::StrCat("policy set id \"", id,
                                        "\" is already used at ",
                                        FormatLocation(it->second)));
      }
      result_.sets.push_back(CheckedPolicySet{
          std::move(id), set.algorithm,
          set.set < 0 ? -1 : set_base_[f] + set.set,
          (uint64_t{f} << 32) | set.order, set.span});
    }
  }
}

void Checker::CheckPolicies(size_t f, const FileAst& file) {
  module_ = file.module;
  for (const PolicyDecl& decl : file.policies) {
    std::string id = Qualify(decl.id);
    auto [it, inserted] = seen_ids_.emplace(id, decl.id_span);
    if (!inserted) {
      diagnostics_.Error(decl.id_span,
                         absl::StrCat("policy id \"", id,
                                      "\" is already used at ",
                                      FormatLocation(it->second)));
      continue;
    }
    CheckedPolicy policy;
    policy.id = std::move(id);
    policy.effect = decl.effect;
    policy.set = decl.set < 0 ? -1 : set_base_[f] + decl.set;
    policy.order = (uint64_t{f} << 32) | decl.order;
    policy.span = decl.span;
    if (!decl.link_data_set.empty()) {
      std::optional<TExpr> condition = CheckTemplate(decl, policy.id);
      if (!condition) continue;
      CheckGuards(*condition, {});
      policy.has_condition = true;
      policy.condition = std::move(*condition);
    } else if (decl.condition != nullptr) {
      std::optional<TExpr> condition = CheckExpr(*decl.condition);
      if (!condition) continue;
      if (!ExpectType(*condition, Type::kBool, "a policy condition")) continue;
      CheckGuards(*condition, {});
      policy.has_condition = true;
      policy.condition = std::move(*condition);
    }
    if (!CheckDuties(decl, policy)) continue;
    result_.policies.push_back(std::move(policy));
  }
}

std::optional<TExpr> Checker::CheckExpr(const Expr& expr) {
  switch (expr.kind) {
    case ExprKind::kBoolLiteral:
    case ExprKind::kIntLiteral:
    case ExprKind::kDurationLiteral:
    case ExprKind::kStringLiteral:
    case ExprKind::kCollectionLiteral:
      return CheckLiteral(expr);
    case ExprKind::kName:
      return CheckName(expr);
    case ExprKind::kHas:
      return CheckHas(expr);
    case ExprKind::kNot:
    case ExprKind::kAnd:
    case ExprKind::kOr:
      return CheckLogic(expr);
    case ExprKind::kCompare:
      return CheckCompare(expr);
    case ExprKind::kAdd:
    case ExprKind::kSubtract:
    case ExprKind::kNegate:
      return CheckArithmetic(expr);
    case ExprKind::kIn:
      return CheckIn(expr);
    case ExprKind::kLike:
      return CheckLike(expr);
    case ExprKind::kMethodCall:
      return CheckMethod(expr);
    case ExprKind::kCall:
      return CheckCall(expr);
    case ExprKind::kEntityRef:
      diagnostics_.Error(expr.span,
                         absl::StrCat("an entity such as ", expr.path[0],
                                      "::\"", expr.string_value,
                                      "\" can only be the right operand of "
                                      "`in`, as in `subject in ", expr.path[0],
                                      "::\"", expr.string_value, "\"`"));
      return std::nullopt;
    case ExprKind::kPlaceholder:
      diagnostics_.Error(
          expr.span,
          absl::StrCat("placeholder ?", expr.string_value,
                       " must be compared with `==` to an attribute, as a "
                       "term of the top-level `and` of a template's "
                       "condition (`permit \"id\" from DATASET when "
                       "{ subject.id == ?", expr.string_value, " }`)"));
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<TExpr> Checker::CheckLiteral(const Expr& expr) {
  TExpr out;
  out.span = expr.span;
  switch (expr.kind) {
    case ExprKind::kBoolLiteral:
      out.type = Type::kBool;
      out.bool_value = expr.bool_value;
      return out;
    case ExprKind::kIntLiteral:
      out.type = Type::kInt;
      out.int_value = expr.int_value;
      return out;
    case ExprKind::kDurationLiteral:
      out.type = Type::kDuration;
      out.int_value = expr.int_value;
      return out;
    case ExprKind::kStringLiteral:
      out.type = Type::kString;
      out.text = expr.string_value;
      return out;
    case ExprKind::kCollectionLiteral:
      return CheckCollection(expr);
    case ExprKind::kCall:
      return CheckCall(expr);
    case ExprKind::kNegate: {
      std::optional<TExpr> inner = CheckLiteral(*expr.children[0]);
      if (!inner || !(IsNumeric(inner->type) && inner->type != Type::kTimestamp) ||
          inner->int_value == std::numeric_limits<int64_t>::min()) {
        break;
      }
      inner->int_value = -inner->int_value;
      inner->span = expr.span;
      return inner;
    }
    default:
      break;
  }
  diagnostics_.Error(expr.span,
                     "a constant must be a literal: a string, an integer, a "
                     "duration, a boolean, a constructor such as ip(\"...\") "
                     "or a list of strings");
  return std::nullopt;
}

void Checker::ReportUnknownName(const Expr& expr, const std::string& name) {
  std::vector<std::string> candidates;
  for (const Attribute& attribute : result_.attributes) {
    candidates.push_back(attribute.path);
  }
  for (const auto& [constant, value] : constants_) candidates.push_back(constant);
  std::string message =
      expr.path.size() > 1 && groups_.count(expr.path[0]) > 0
          ? absl::StrCat("unknown attribute '", name, "'")
          : absl::StrCat("unknown name '", name, "'");
  std::string nearest = NearestName(name, candidates);
  if (!nearest.empty()) absl::StrAppend(&message, "; did you mean '", nearest, "'?");
  diagnostics_.Error(expr.span, message);
}

std::optional<TExpr> Checker::CheckName(const Expr& expr) {
  std::string name = absl::StrJoin(expr.path, ".");
  if (expr.path.size() == 1) {
    auto it = module_.empty() ? constants_.end() : constants_.find(Qualify(name));
    if (it == constants_.end()) it = constants_.find(name);
    if (it != constants_.end()) {
      if (!it->second.value) return std::nullopt;  // already reported
      TExpr value = *it->second.value;
      value.span = expr.span;
      return value;
    }
    if (groups_.count(name) > 0) {
      diagnostics_.Error(expr.span,
                         absl::StrCat("'", name, "' is an attribute group; name "
                                      "one of its attributes, like ", name,
                                      ".id, or test one with `", name,
                                      " has NAME`"));
      return std::nullopt;
    }
  }
  auto it = result_.attribute_index.find(name);
  if (it == result_.attribute_index.end()) {
    ReportUnknownName(expr, name);
    return std::nullopt;
  }
  if (name == kActorChainAttribute && !checking_duties_) {
    diagnostics_.Error(
        expr.span,
        "actor.chain lists prior actors, and a decision may depend only on "
        "the current actor (RFC 8693 §4.1); read actor.id and actor.issuer, "
        "and keep actor.chain for obligations and advice");
    return std::nullopt;
  }
  TExpr out;
  out.kind = TExprKind::kAttribute;
  out.span = expr.span;
  out.attribute = it->second;
  out.type = result_.attributes[it->second].type;
  return out;
}

std::optional<TExpr> Checker::CheckHas(const Expr& expr) {
  const Expr& target = *expr.children[0];
  std::string name =
      absl::StrCat(absl::StrJoin(target.path, "."), ".", expr.has_path);
  auto it = result_.attribute_index.find(name);
  if (it == result_.attribute_index.end()) {
    Expr named;
    named.span = expr.span;
    named.path = {target.path.empty() ? "" : target.path[0], "x"};
    ReportUnknownName(named, name);
    return std::nullopt;
  }
  TExpr out;
  out.kind = TExprKind::kHas;
  out.type = Type::kBool;
  out.span = expr.span;
  out.attribute = it->second;
  return out;
}

std::optional<TExpr> Checker::CheckLogic(const Expr& expr) {
  TExpr out;
  out.span = expr.span;
  out.type = Type::kBool;
  out.kind = expr.kind == ExprKind::kNot   ? TExprKind::kNot
             : expr.kind == ExprKind::kAnd ? TExprKind::kAnd
                                           : TExprKind::kOr;
  bool ok = true;
  for (const auto& child : expr.children) {
    std::optional<TExpr> checked = CheckExpr(*child);
    std::string_view context = expr.kind == ExprKind::kNot ? "an operand of `not`"
                               : expr.kind == ExprKind::kAnd
                                   ? "an operand of `and`"
                                   : "an operand of `or`";
    if (!checked || !ExpectType(*checked, Type::kBool, context)) {
      ok = false;
      continue;
    }
    out.children.push_back(std::move(*checked));
  }
  if (!ok) return std::nullopt;
  return out;
}

bool Checker::Coerce(TExpr& expr, Type want) {
  if (expr.type != kUntypedCollection) return expr.type == want;
  if (want == Type::kStringSet) {
    std::sort(expr.elements.begin(), expr.elements.end());
    expr.elements.erase(std::unique(expr.elements.begin(), expr.elements.end()),
                        expr.elements.end());
  } else if (want == Type::kStringList) {
    for (const std::string& element : expr.elements) {
      if (element.find('\x1f') != std::string::npos) {
        diagnostics_.Error(expr.span,
                           "a list element may not contain the byte 0x1F");
        return false;
      }
    }
  } else {
    return false;
  }
  expr.type = want;
  return true;
}

bool Checker::ExpectType(const TExpr& expr, Type want,
                         std::string_view context) {
  if (expr.type == want) return true;
  diagnostics_.Error(expr.span, absl::StrCat(ToAbsl(context), " must be ",
                                             ToAbsl(TypeName(want)), ", but this is ",
                                             TypeText(expr.type)));
  return false;
}

std::string CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return "==";
    case CompareOp::kNe: return "!=";
    case CompareOp::kLt: return "<";
    case CompareOp::kLe: return "<=";
    case CompareOp::kGt: return ">";
    case CompareOp::kGe: return ">=";
  }
  return "?";
}

std::optional<TExpr> Checker::CheckCompare(const Expr& expr) {
  std::optional<TExpr> left = CheckExpr(*expr.children[0]);
  std::optional<TExpr> right = CheckExpr(*expr.children[1]);
  if (!left || !right) return std::nullopt;
  if (left->type == kUntypedCollection) Coerce(*left, right->type);
  if (right->type == kUntypedCollection) Coerce(*right, left->type);
  if (left->type == kUntypedCollection && right->type == kUntypedCollection) {
    Coerce(*left, Type::kStringSet);
    Coerce(*right, Type::kStringSet);
  }
  std::string op = CompareOpText(expr.compare_op);
  if (left->type == kCidrCollection || right->type == kCidrCollection) {
    diagnostics_.Error(expr.span, "a collection of cidr ranges can only be "
                                  "the right operand of `in`");
    return std::nullopt;
  }
  bool ordering = expr.compare_op != CompareOp::kEq &&
                  expr.compare_op != CompareOp::kNe;
  if (left->type != right->type) {
    std::string message =
        absl::StrCat("cannot compare ", TypeText(left->type), " ", op, " ",
                     TypeText(right->type));
    if ((left->type == Type::kDuration && right->type == Type::kInt) ||
        (left->type == Type::kInt && right->type == Type::kDuration)) {
      absl::StrAppend(&message,
                      "; write the integer with a unit, such as 300s or 5m");
    }
    diagnostics_.Error(expr.span, message);
    return std::nullopt;
  }
  if (ordering && !IsNumeric(left->type)) {
    diagnostics_.Error(expr.span,
                       absl::StrCat("operator ", op, " needs int, decimal, "
                                    "timestamp or duration operands, but "
                                    "these are ",
                                    TypeText(left->type)));
    return std::nullopt;
  }
  if (left->type == Type::kStringSet && left->kind == TExprKind::kAttribute &&
      right->kind == TExprKind::kAttribute) {
    diagnostics_.Error(expr.span,
                       "comparing two set attributes is not supported; compare "
                       "a set attribute with a literal set");
    return std::nullopt;
  }
  TExpr out;
  out.kind = TExprKind::kCompare;
  out.type = Type::kBool;
  out.span = expr.span;
  out.compare_op = expr.compare_op;
  out.children.push_back(std::move(*left));
  out.children.push_back(std::move(*right));
  return out;
}

// Returns the result type of `left op right`, or nullopt when the operands
// do not combine: timestamps subtract to durations and move by durations.
std::optional<Type> ArithmeticType(Type left, Type right, bool subtract) {
  if (left == Type::kInt && right == Type::kInt) return Type::kInt;
  if (left == Type::kDecimal && right == Type::kDecimal) return Type::kDecimal;
  if (left == Type::kDuration && right == Type::kDuration) {
    return Type::kDuration;
  }
  if (left == Type::kTimestamp && right == Type::kDuration) {
    return Type::kTimestamp;
  }
  if (!subtract && left == Type::kDuration && right == Type::kTimestamp) {
    return Type::kTimestamp;
  }
  if (subtract && left == Type::kTimestamp && right == Type::kTimestamp) {
    return Type::kDuration;
  }
  return std::nullopt;
}

std::optional<TExpr> Checker::CheckArithmetic(const Expr& expr) {
  TExpr out;
  out.span = expr.span;
  if (expr.kind == ExprKind::kNegate) {
    std::optional<TExpr> operand = CheckExpr(*expr.children[0]);
    if (!operand) return std::nullopt;
    if (operand->type != Type::kInt && operand->type != Type::kDuration &&
        operand->type != Type::kDecimal) {
      diagnostics_.Error(expr.span, absl::StrCat("cannot negate ",
                                                 TypeText(operand->type)));
      return std::nullopt;
    }
    out.kind = TExprKind::kNegate;
    out.type = operand->type;
    out.children.push_back(std::move(*operand));
    return FoldConstant(std::move(out));
  }
  std::optional<TExpr> left = CheckExpr(*expr.children[0]);
  std::optional<TExpr> right = CheckExpr(*expr.children[1]);
  if (!left || !right) return std::nullopt;
  bool subtract = expr.kind == ExprKind::kSubtract;
  std::optional<Type> type = ArithmeticType(left->type, right->type, subtract);
  if (!type) {
    diagnostics_.Error(expr.span,
                       absl::StrCat("cannot compute ", TypeText(left->type),
                                    subtract ? " - " : " + ",
                                    TypeText(right->type)));
    return std::nullopt;
  }
  out.kind = subtract ? TExprKind::kSubtract : TExprKind::kAdd;
  out.type = *type;
  out.children.push_back(std::move(*left));
  out.children.push_back(std::move(*right));
  return FoldConstant(std::move(out));
}

// Folds arithmetic whose operands are all literals. An overflow there would
// make the condition error on every request, so it is a compile error.
std::optional<TExpr> Checker::FoldConstant(TExpr expr) {
  for (const TExpr& child : expr.children) {
    if (child.kind != TExprKind::kLiteral) return expr;
  }
  int64_t value;
  bool overflow;
  if (expr.kind == TExprKind::kNegate) {
    overflow = __builtin_sub_overflow(int64_t{0}, expr.children[0].int_value,
                                      &value);
  } else if (expr.kind == TExprKind::kAdd) {
    overflow = __builtin_add_overflow(expr.children[0].int_value,
                                      expr.children[1].int_value, &value);
  } else {
    overflow = __builtin_sub_overflow(expr.children[0].int_value,
                                      expr.children[1].int_value, &value);
  }
  if (overflow) {
    diagnostics_.Error(expr.span,
                       "this constant expression overflows a signed 64-bit "
                       "integer");
    return std::nullopt;
  }
  TExpr literal;
  literal.kind = TExprKind::kLiteral;
  literal.type = expr.type;
  literal.span = expr.span;
  literal.int_value = value;
  return literal;
}

// Obligation and advice values are literals or attribute reads, so the
// engine can fill them without evaluating expressions.
bool Checker::CheckDuties(const PolicyDecl& decl, CheckedPolicy& policy) {
  bool ok = true;
  checking_duties_ = true;
  for (const DutyDecl& duty : decl.duties) {
    CheckedDuty checked{duty.advice, duty.name, {}};
    std::set<std::string> keys;
    for (const auto& [key, value] : duty.fields) {
      if (!keys.insert(key).second) {
        diagnostics_.Error(value->span,
                           absl::StrCat("field '", key, "' is given twice in ",
                                        duty.advice ? "advice" : "obligation",
                                        " \"", duty.name, "\""));
        ok = false;
        continue;
      }
      std::optional<TExpr> checked_value = CheckExpr(*value);
      if (!checked_value) {
        ok = false;
        continue;
      }
      if (checked_value->type == kUntypedCollection) {
        Coerce(*checked_value, Type::kStringSet);
      }
      if ((checked_value->kind != TExprKind::kLiteral &&
           checked_value->kind != TExprKind::kAttribute) ||
          checked_value->type == kCidrCollection) {
        diagnostics_.Error(value->span,
                           "an obligation or advice value is a literal, a "
                           "constant or an attribute");
        ok = false;
        continue;
      }
      checked.fields.emplace_back(key, std::move(*checked_value));
    }
    policy.duties.push_back(std::move(checked));
  }
  checking_duties_ = false;
  return ok;
}

// `subject in Group::"eng"` tests the entity hierarchy: it is true when
// the subject is Group::"eng" or a descendant of it in the entity data.
std::optional<TExpr> Checker::CheckHierarchy(const Expr& expr) {
  const Expr& entity = *expr.children[0];
  const Expr& ancestor = *expr.children[1];
  const std::string& group = entity.path[0];
  auto it = result_.attribute_index.find(
      absl::StrCat(group, ".", kAncestorsAttribute));
  if (it == result_.attribute_index.end()) {
    diagnostics_.Error(entity.span,
                       absl::StrCat("`", group, " in ", ancestor.path[0],
                                    "::...` needs schema ", group,
                                    " to declare `type: string` and "
                                    "`id: string`, which name the entity"));
    return std::nullopt;
  }
  TExpr element;
  element.kind = TExprKind::kLiteral;
  element.type = Type::kString;
  element.span = ancestor.span;
  element.text = absl::StrCat(ancestor.path[0], "::", ancestor.string_value);
  TExpr set;
  set.kind = TExprKind::kAttribute;
  set.type = Type::kStringSet;
  set.span = entity.span;
  set.attribute = it->second;
  TExpr out;
  out.kind = TExprKind::kIn;
  out.type = Type::kBool;
  out.span = expr.span;
  out.children.push_back(std::move(element));
  out.children.push_back(std::move(set));
  return out;
}

std::optional<TExpr> Checker::CheckIn(const Expr& expr) {
  const Expr& left = *expr.children[0];
  if (left.kind == ExprKind::kName && left.path.size() == 1 &&
      groups_.count(left.path[0]) > 0 &&
      expr.children[1]->kind == ExprKind::kEntityRef) {
    return CheckHierarchy(expr);
  }
  std::optional<TExpr> element = CheckExpr(*expr.children[0]);
  std::optional<TExpr> set = CheckExpr(*expr.children[1]);
  if (!element || !set) return std::nullopt;
  if (element->type == Type::kIp) {
    if (set->type != Type::kCidr && set->type != kCidrCollection) {
      diagnostics_.Error(set->span,
                         absl::StrCat("an ip address is tested `in` a cidr "
                                      "range or a list of them, not in ",
                                      TypeText(set->type)));
      return std::nullopt;
    }
    TExpr out;
    out.kind = TExprKind::kIn;
    out.type = Type::kBool;
    out.span = expr.span;
    out.children.push_back(std::move(*element));
    out.children.push_back(std::move(*set));
    return out;
  }
  Coerce(*set, Type::kStringSet);
  if (!ExpectType(*element, Type::kString, "the left operand of `in`") ||
      !ExpectType(*set, Type::kStringSet, "the right operand of `in`")) {
    return std::nullopt;
  }
  TExpr out;
  out.kind = TExprKind::kIn;
  out.type = Type::kBool;
  out.span = expr.span;
  out.children.push_back(std::move(*element));
  out.children.push_back(std::move(*set));
  return out;
}

// Returns the attributes that `expr` proves present when it is true: the
// `has` tests among its top-level conjuncts.
void CollectHasFacts(const TExpr& expr, std::set<uint32_t>& facts) {
  if (expr.kind == TExprKind::kHas) {
    facts.insert(expr.attribute);
  } else if (expr.kind == TExprKind::kAnd) {
    for (const TExpr& child : expr.children) CollectHasFacts(child, facts);
  }
}

void Checker::CheckGuards(const TExpr& expr, std::set<uint32_t> guarded) {
  if (expr.kind == TExprKind::kAttribute) {
    const Attribute& attribute = result_.attributes[expr.attribute];
    if (attribute.optional && guarded.count(expr.attribute) == 0) {
      std::string_view relative =
          std::string_view(attribute.path).substr(attribute.group.size() + 1);
      diagnostics_.Error(
          expr.span,
          absl::StrCat("optional attribute '", attribute.path,
                       "' is read without a guard; test `", attribute.group,
                       " has ", ToAbsl(relative),
                       "` first, joined with `and`"));
    }
    return;
  }
  if (expr.kind == TExprKind::kAnd) {
    // The right operand of `and` runs only where the left one is true.
    for (const TExpr& child : expr.children) {
      CheckGuards(child, guarded);
      CollectHasFacts(child, guarded);
    }
    return;
  }
  for (const TExpr& child : expr.children) CheckGuards(child, guarded);
}

}  // namespace checker_internal

std::string FormatLocation(const Span& span) {
  if (span.file == nullptr) return "<unknown>";
  return absl::StrCat(span.file->path(), ":", span.line, ":", span.column);
}

CheckedSet Check(const std::vector<FileAst>& files, Diagnostics& diagnostics) {
  return checker_internal::Checker(diagnostics).Run(files);
}

CheckedSet Check(std::vector<FileAst>&& files, Diagnostics& diagnostics) {
  std::vector<FileAst> owned = std::move(files);
  return checker_internal::Checker(diagnostics).RunAndRelease(owned);
}

CheckedSet CheckStreaming(const std::vector<FileAst>& declarations,
                          absl::FunctionRef<FileAst(size_t)> parse_again,
                          absl::FunctionRef<void(CheckedSet&)> after_file,
                          Diagnostics& diagnostics) {
  return checker_internal::Checker(diagnostics)
      .RunStreaming(declarations, parse_again, after_file);
}

}  // namespace verdict::compiler
