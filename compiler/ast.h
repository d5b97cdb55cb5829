// The abstract syntax tree of Verdict policy files.
//
// The parser (parser.h) produces these nodes from ANTLR's parse tree; nothing
// after the parser sees ANTLR types. Names are unresolved here: `subject.roles`
// and `ADMINS` are both kName nodes until the checker decides whether a name
// is an attribute or a constant.
//
// Surface syntax, by example:
//
//   // Attribute group `subject`; records of data set `users` are joined in
//   // by `subject.id`.
//   schema subject from users {
//     id: string
//     roles: set<string>
//     email?: string          // optional: reading it needs `subject has email`
//   }
//   schema tee { tcb.snp: int  debug: bool }
//
//   const AGENT = "https://agent.example.com/app"
//   const APPROVED = ["a", "b"]
//   const MAX_AGE = 5m
//
//   permit "read-todos" when {
//     action.name == "can_read_todos" and "viewer" in subject.roles
//   }
//   forbid "debug-tee" when { tee.debug }
//   permit "open";             // no condition: always applies
//
//   // A template: one link per record of data set `shares`, each binding
//   // ?user and ?doc to the record's fields of those names.
//   permit "shared" from shares when {
//     subject.id == ?user and resource.id == ?doc and action.name == "view"
//   }
//
// A file may start with `module payments;`: its policy "refund" is then
// "payments::refund", and its constant LIMIT is `payments::LIMIT` elsewhere.

#ifndef VERDICT_COMPILER_AST_H_
#define VERDICT_COMPILER_AST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "compiler/source.h"
#include "engine/types.h"

namespace verdict::compiler {

struct SchemaAttribute {
  std::string name;  // relative to the group, may be dotted: "tcb.snp"
  Type type = Type::kBool;
  bool optional = false;
  Span span;
};

struct SchemaDecl {
  std::string group;     // "subject"
  std::string data_set;  // "users" for `from users`, empty when not joined
  Span span;             // the group name
  Span data_span;        // the data set name
  std::vector<SchemaAttribute> attributes;
};

enum class ExprKind {
  kBoolLiteral,        // bool_value
  kIntLiteral,         // int_value
  kDurationLiteral,    // int_value in seconds: 300s, 5m, 2h, 1d
  kStringLiteral,      // string_value
  kCollectionLiteral,  // ["a", "b"]: children are any expressions
  kName,               // path: {"subject", "roles"} or {"ADMINS"}
  kHas,                // children[0] is a kName; has_path is the attribute
  kNot,                // children[0]
  kNegate,             // -children[0]
  kAnd,                // children[0] and children[1]
  kOr,                 // children[0] or children[1]
  kCompare,            // children[0] op children[1], op in == != < <= > >=
  kAdd,                // children[0] + children[1]
  kSubtract,           // children[0] - children[1]
  kIn,                 // children[0] in children[1]
  kLike,               // children[0] like children[1] (a glob pattern)
  kMethodCall,         // children[0].method(children[1...])
  kCall,               // method(children...): ip("10.0.0.1"), decimal("1.5")
  kEntityRef,          // Group::"eng": path[0] is the type, string_value the id
  kPlaceholder,        // ?user in a template: string_value is "user"
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

struct Expr {
  ExprKind kind = ExprKind::kBoolLiteral;
  Span span;
  bool bool_value = false;
  int64_t int_value = 0;
  std::string string_value;
  std::vector<std::string> path;      // kName
  std::string has_path;               // kHas: "email" or "tcb.snp"
  CompareOp compare_op = CompareOp::kEq;  // kCompare
  std::string method;                 // kMethodCall, kCall: "startsWith"
  std::vector<std::unique_ptr<Expr>> children;
};

struct ConstDecl {
  std::string name;
  Span span;
  std::unique_ptr<Expr> value;  // a literal expression
};

enum class Effect { kPermit, kForbid };

// An obligation or advice attached to a policy.
struct DutyDecl {
  bool advice = false;  // advice may be ignored; an obligation may not
  std::string name;
  Span span;
  std::vector<std::pair<std::string, std::unique_ptr<Expr>>> fields;
};

enum class CombiningAlgorithm { kDenyOverrides, kPermitOverrides, kFirstApplicable };

// A policy set. Its members are the policies and sets whose `set` is its
// index in FileAst::policy_sets, in the order of their `order`.
struct PolicySetDecl {
  std::string id;
  CombiningAlgorithm algorithm = CombiningAlgorithm::kDenyOverrides;
  Span span;
  int set = -1;        // the enclosing set, or -1 at the top level
  uint32_t order = 0;  // position among all policies and sets of the file
};

struct PolicyDecl {
  Effect effect = Effect::kPermit;
  int set = -1;        // index of the enclosing set in the file, or -1
  uint32_t order = 0;  // position among all policies and sets of the file
  std::string id;
  Span span;                        // the whole `permit "id" ...` head
  Span id_span;
  std::unique_ptr<Expr> condition;  // null: the policy always applies
  std::vector<DutyDecl> duties;
  // A template names the data set whose records link it: `from shares`.
  std::string link_data_set;
  Span link_span;
};

struct FileAst {
  const SourceFile* source = nullptr;
  // `module payments::billing;`, or empty. The checker qualifies the ids of
  // the file's policies, sets and constants with it.
  std::string module;
  Span module_span;
  std::vector<SchemaDecl> schemas;
  std::vector<ConstDecl> constants;
  std::vector<PolicyDecl> policies;
  std::vector<PolicySetDecl> policy_sets;
};

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_AST_H_
