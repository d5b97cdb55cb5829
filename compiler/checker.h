// Name resolution and type checking of parsed policy files.
//
// The checker merges the schema declared across all files and resolves every
// name to an attribute or a constant. It types every expression and checks
// that optional attributes are guarded by `has`. The typed expressions it
// produces feed both the lowering stage and the reference interpreter.

#ifndef VERDICT_COMPILER_CHECKER_H_
#define VERDICT_COMPILER_CHECKER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "compiler/ast.h"
#include "compiler/source.h"
#include "engine/types.h"

namespace verdict::compiler {

struct Attribute {
  std::string path;   // "subject.roles"
  std::string group;  // "subject"
  Type type = Type::kBool;
  bool optional = false;
  // Filled by the engine, never by a request: `<group>.$ancestors`, the
  // entity's ancestors in the data hierarchy, itself included.
  bool computed = false;
  Span span;
};

// The computed attribute that hierarchy tests (`subject in Group::"eng"`)
// read, for groups that declare `type: string` and `id: string`.
inline constexpr char kAncestorsAttribute[] = "$ancestors";

// `meta.source.<path>` contains the provenance of attribute `<path>`, the
// origin of its value, such as "id-jag" for a verified ID-JAG or "attribute" for
// a plain request attribute.
inline constexpr char kProvenancePrefix[] = "meta.source.";

// The prior actors of a delegation chain. RFC 8693 §4.1 lets only the
// current actor (actor.id, actor.issuer) count for access control, so
// conditions may not read it. Obligations and advice may, for audit.
inline constexpr char kActorChainAttribute[] = "actor.chain";

struct Join {
  std::string group;
  std::string data_set;
  Span span;
};

enum class TExprKind {
  kLiteral,     // value in bool_value / int_value / text / elements
  kAttribute,   // attribute index
  kHas,         // attribute index
  kNot,
  kAnd,
  kOr,
  kCompare,     // compare_op
  kAdd,
  kSubtract,
  kNegate,
  kIn,          // children[0] in children[1] (a set)
  kStartsWith,  // children[0].startsWith(children[1])
  kEndsWith,
  kContainsAll,  // children[0].containsAll(children[1]), both sets
  kContainsAny,  // children[0].containsAny(children[1]), both sets
  kSize,         // children[0].size(): int
  kMatches,      // children[0] matches the pattern: text is its source,
                 // int_value its PatternKind, elements[0] the RE2 regex
  kLinked,       // a template's links: some record of data set `text`
                 // equals the attributes in children on the fields named
                 // by elements; int_value is the index in
                 // CheckedSet::templates
};

// A checked, typed expression. Literal collections are typed as the set or
// list their context requires; constants are inlined as literals.
struct TExpr {
  TExprKind kind = TExprKind::kLiteral;
  Type type = Type::kBool;
  Span span;
  bool bool_value = false;
  int64_t int_value = 0;  // int, duration, timestamp
  std::string text;       // string; address bytes for ip and cidr
  std::vector<std::string> elements;  // set (sorted, unique) or list
  uint32_t attribute = 0;
  CompareOp compare_op = CompareOp::kEq;
  std::vector<TExpr> children;
};

struct CheckedDuty {
  bool advice = false;
  std::string name;
  // Each value is a literal or an attribute read.
  std::vector<std::pair<std::string, TExpr>> fields;
};

struct CheckedPolicySet {
  std::string id;
  CombiningAlgorithm algorithm = CombiningAlgorithm::kDenyOverrides;
  int parent = -1;  // index in CheckedSet::sets, or -1 for the top level
  uint64_t order = 0;
  Span span;
};

struct CheckedPolicy {
  std::string id;
  Effect effect = Effect::kPermit;
  int set = -1;  // index in CheckedSet::sets, or -1 for the top level
  // Sorts members of one set in source order: file index, then position.
  uint64_t order = 0;
  Span span;
  bool has_condition = false;
  TExpr condition;  // bool; meaningful when has_condition
  std::vector<CheckedDuty> duties;
};

// A template policy: linked once per record of a data set.
struct CheckedTemplate {
  std::string policy;    // the policy id
  std::string data_set;  // "shares" for `from shares`
  Span span;             // the data set name
  std::vector<std::string> placeholders;  // record field names, in order
  std::vector<uint32_t> attributes;       // the attribute each binds
};

// The checked policy set. Attribute indexes are the engine's slot indexes.
struct CheckedSet {
  std::vector<Attribute> attributes;  // sorted by path
  std::map<std::string, uint32_t> attribute_index;
  std::vector<Join> joins;            // sorted by group
  std::vector<CheckedPolicy> policies;  // in file order, files sorted
  std::vector<CheckedPolicySet> sets;
  std::vector<CheckedTemplate> templates;
};

// Checks `files` and reports every error to `diagnostics`. The result is
// complete only when no error was reported. Thread-compatible.
CheckedSet Check(const std::vector<FileAst>& files, Diagnostics& diagnostics);

// Checks `files` as above, taking them. The policies of each file are freed
// as soon as they are checked, so that the syntax trees of all policies and
// the checked set are never whole in memory at the same time.
CheckedSet Check(std::vector<FileAst>&& files, Diagnostics& diagnostics);

// Checks files one at a time, so that only one file's syntax tree is in
// memory besides the declarations. `declarations` contains every file with its
// schemas, constants and policy sets; its policies are not read.
// `parse_again(f)` returns file f's syntax tree with its policies; it is
// called once per file, in order. After each file, `after_file` gets the
// set so far. Its attributes and policy sets are complete, and its policies
// grow by the file's. The callback may free what it has consumed of them.
// Reports what Check reports, in the same order.
CheckedSet CheckStreaming(const std::vector<FileAst>& declarations,
                          absl::FunctionRef<FileAst(size_t)> parse_again,
                          absl::FunctionRef<void(CheckedSet&)> after_file,
                          Diagnostics& diagnostics);

// Returns "<path>:<line>:<column>" for a span.
std::string FormatLocation(const Span& span);

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_CHECKER_H_
