// The checker's class, shared by the .cc files that implement it.

#ifndef VERDICT_COMPILER_CHECKER_INTERNAL_H_
#define VERDICT_COMPILER_CHECKER_INTERNAL_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "compiler/checker.h"
#include "engine/program.h"

namespace verdict::compiler::checker_internal {

// Literal collections have no type of their own until context gives one.
inline constexpr Type kUntypedCollection = static_cast<Type>(0xFF);

// A collection literal of cidr("...") elements.
inline constexpr Type kCidrCollection = static_cast<Type>(0xFE);

// Returns the name of `type` for messages, including the collection kinds.
std::string TypeText(Type type);

struct ConstantValue {
  const ConstDecl* decl = nullptr;
  std::optional<TExpr> value;  // empty when the declaration was invalid
};

// Budgets on literals in policy source.
inline constexpr size_t kMaxCollectionElements = 100'000;
inline constexpr size_t kMaxPlaceholders = 8;
inline constexpr int kMaxRegexProgramSize = 5'000;

class Checker {
 public:
  explicit Checker(Diagnostics& diagnostics) : diagnostics_(diagnostics) {}

  CheckedSet Run(const std::vector<FileAst>& files);
  // Runs the checks and frees the policies of each file of `files` as soon
  // as they are checked.
  CheckedSet RunAndRelease(std::vector<FileAst>& files);
  // Runs the checks on the declarations of `declarations` and on the
  // policies of `parse_again(f)` for each file f in turn, calling
  // `after_file` with the set so far after each.
  CheckedSet RunStreaming(const std::vector<FileAst>& declarations,
                          absl::FunctionRef<FileAst(size_t)> parse_again,
                          absl::FunctionRef<void(CheckedSet&)> after_file);

 private:
  void CollectSchema(const std::vector<FileAst>& files);
  void CollectConstants(const std::vector<FileAst>& files);
  // Numbers the policy sets of all files and reports duplicate set ids.
  void CollectSets(const std::vector<FileAst>& files);
  // Checks the policies of `file`, the f-th file. REQUIRES: CollectSets
  // has run.
  void CheckPolicies(size_t f, const FileAst& file);

  std::optional<TExpr> CheckExpr(const Expr& expr);
  std::optional<TExpr> CheckName(const Expr& expr);
  std::optional<TExpr> CheckHas(const Expr& expr);
  std::optional<TExpr> CheckLogic(const Expr& expr);
  std::optional<TExpr> CheckCompare(const Expr& expr);
  std::optional<TExpr> CheckArithmetic(const Expr& expr);
  std::optional<TExpr> CheckIn(const Expr& expr);
  std::optional<TExpr> CheckHierarchy(const Expr& expr);
  bool CheckDuties(const PolicyDecl& decl, CheckedPolicy& policy);
  // Checks a template's condition: the `attribute == ?field` terms of its
  // top-level `and` become one kLinked test.
  std::optional<TExpr> CheckTemplate(const PolicyDecl& decl,
                                     const std::string& id);
  // Returns the id `name` declared in the current file has after module
  // qualification.
  std::string Qualify(const std::string& name) const;
  std::optional<TExpr> CheckMethod(const Expr& expr);
  std::optional<TExpr> CheckLiteral(const Expr& expr);
  // checker_builtins.cc: constructors, collections, patterns, methods.
  std::optional<TExpr> CheckCall(const Expr& expr);
  std::optional<TExpr> CheckCollection(const Expr& expr);
  std::optional<TExpr> CheckLike(const Expr& expr);
  std::optional<TExpr> CheckStringMethod(const Expr& expr, TExpr receiver);
  std::optional<TExpr> CheckSetMethod(const Expr& expr, TExpr receiver);
  std::optional<TExpr> CheckIpMethod(const Expr& expr, TExpr receiver);
  std::optional<TExpr> PatternTest(const Span& span, TExpr subject,
                                   const TExpr& pattern, PatternKind kind);
  // Returns the argument of a one-argument call, checked, or reports.
  std::optional<TExpr> SingleArgument(const Expr& expr);
  std::optional<TExpr> FoldConstant(TExpr expr);

  // Gives an untyped collection literal the set or list type `want`.
  bool Coerce(TExpr& expr, Type want);
  bool ExpectType(const TExpr& expr, Type want, std::string_view context);
  void CheckGuards(const TExpr& expr, std::set<uint32_t> guarded);
  void ReportUnknownName(const Expr& expr, const std::string& name);

  Diagnostics& diagnostics_;
  CheckedSet result_;
  std::set<std::string> groups_;
  absl::flat_hash_map<std::string, ConstantValue> constants_;
  std::string module_;  // of the file being checked, or empty
  std::map<std::string, Span> seen_ids_;  // policy and set ids so far
  std::vector<int> set_base_;  // first index in result_.sets of each file
  bool checking_duties_ = false;  // obligations and advice may read more
};

inline bool IsNumeric(Type type) {
  return type == Type::kInt || type == Type::kTimestamp ||
         type == Type::kDuration || type == Type::kDecimal;
}

}  // namespace verdict::compiler::checker_internal

#endif  // VERDICT_COMPILER_CHECKER_INTERNAL_H_
