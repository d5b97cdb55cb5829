// Generated differential cases: policy sets kept as trees so that a
// failing case can be minimised, the comparison of the compiled engine
// with the reference interpreter, the minimiser, and the regression files.
//
// Used only by tests/differential_test.cc. Thread-compatible.

#ifndef VERDICT_TESTS_DIFFERENTIAL_CASE_H_
#define VERDICT_TESTS_DIFFERENTIAL_CASE_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace verdict::testing {

// The file policies/lib.verdict of every case: `module lib;` with the
// constants ROLES and NETS that generated policies read as lib::ROLES and
// lib::NETS.
extern const char kLibraryModule[];

// A condition: an atom (a comparison or test written as text) or a logical
// operator over children.
struct Condition {
  enum Kind { kAtom, kAnd, kOr, kNot } kind = kAtom;
  std::string atom;
  bool symbols = false;  // `&&`, `||` and `!` in place of the words
  std::vector<Condition> children;

  std::string Render() const;
};

struct GeneratedPolicy {
  bool forbid = false;
  std::string id;
  // A template is linked from `data_set`; its binding terms stay fixed.
  std::string data_set;
  std::vector<std::string> binding_terms;
  std::optional<Condition> condition;  // none: the policy always applies
  std::vector<std::string> duties;     // obligation and advice blocks

  std::string Render() const;
};

// A policy or a policy set with its members.
struct Member {
  bool is_set = false;
  GeneratedPolicy policy;
  std::string set_id;
  std::string algorithm;  // empty for the default
  std::vector<Member> members;

  std::string Render() const;
};

struct DifferentialCase {
  bool in_module = false;  // the generated file declares `module app;`
  std::vector<Member> members;
  nlohmann::json request;
  nlohmann::json data;  // data set name -> file contents
  size_t max_dag_nodes = 0;

  // The text of the generated policy file, schema included.
  std::string PolicyFile() const;
  size_t PolicyCount() const;
};

// What a decision carries, in a form both deciders produce.
struct Outcome {
  bool permit = false;
  std::set<std::string> determining;
  std::set<std::string> errored;
  // "obligation NAME by POLICY FIELDS" (or "advice ..."), FIELDS in JSON
  // with arrays sorted.
  std::multiset<std::string> duties;

  bool operator==(const Outcome&) const = default;
  nlohmann::json ToJson() const;
  static Outcome FromJson(const nlohmann::json& json);
};

// Produces random cases over the fixed schema of PolicyFile().
class CaseGenerator {
 public:
  explicit CaseGenerator(uint64_t seed) : random_(seed) {}

  int Uniform(int n);
  std::vector<Member> Members(int count);
  nlohmann::json Request();
  // The entity data: users and docs joins, the hierarchy, template links.
  static nlohmann::json Data();

 private:
  std::string Atom();
  Condition MakeCondition(int depth);
  GeneratedPolicy Policy(int index);
  template <typename T>
  T Pick(const std::vector<T>& items) {
    return items[Uniform(static_cast<int>(items.size()))];
  }

  std::mt19937_64 random_;
};

// A case compiled once, ready to decide requests with both deciders.
class PreparedCase {
 public:
  PreparedCase(const PreparedCase&) = delete;
  PreparedCase& operator=(const PreparedCase&) = delete;
  ~PreparedCase();

  // Writes the files of `c` under `dir` (replacing what is there) and
  // compiles them. Returns null and sets `error` when they do not compile.
  static std::unique_ptr<PreparedCase> Prepare(const DifferentialCase& c,
                                               const std::filesystem::path& dir,
                                               std::string* error);
  // Compiles `dir/policies` with the entity data in `dir/data`, as saved
  // by SaveRegression.
  static std::unique_ptr<PreparedCase> Load(const std::filesystem::path& dir,
                                            size_t max_dag_nodes,
                                            std::string* error);

  // Decides `request` with the compiled engine. Returns nullopt and sets
  // `error` when the request cannot be decoded.
  std::optional<Outcome> Engine(const nlohmann::json& request,
                                std::string* error) const;
  // Decides `request` with the reference interpreter.
  std::optional<Outcome> Reference(const nlohmann::json& request,
                                   std::string* error) const;

 private:
  struct State;
  explicit PreparedCase(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Changes the engine's outcome before the comparison; tests of the
// minimiser use it to stand in for a broken engine.
using EngineFault = std::function<void(const nlohmann::json& request,
                                       Outcome& engine)>;

// Returns a description of the disagreement between the engine and the
// reference on `c`, or nullopt when they agree or `c` does not compile.
std::optional<std::string> Disagreement(const DifferentialCase& c,
                                        const std::filesystem::path& scratch,
                                        const EngineFault& fault = nullptr);

// Shrinks `c` while `disagrees` stays true: drops policies, sets and
// duties, flattens sets, replaces conditions by a child or a constant,
// drops request attributes and entity data records.
// REQUIRES: disagrees(c).
DifferentialCase Minimise(
    DifferentialCase c,
    const std::function<bool(const DifferentialCase&)>& disagrees);

// Writes `c` and the reference's `expected` outcome to
// `root/<hash>/`: policies/, data/, request.json and expected.json.
// Returns the directory.
std::filesystem::path SaveRegression(const DifferentialCase& c,
                                     const Outcome& expected,
                                     const std::filesystem::path& root);

}  // namespace verdict::testing

#endif  // VERDICT_TESTS_DIFFERENTIAL_CASE_H_
