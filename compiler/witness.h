// Witness requests: concrete AuthZEN JSON requests that lie in a region,
// confirmed with the real engine.
//
// From the constraints of a region the builder chooses a value per
// attribute: the switch key or the one allowed symbol, a string no program
// mentions for an `other` edge (built around required prefixes and
// suffixes), an integer inside the interval, a set holding the required
// elements, and nothing for an absent attribute. It renders the request as
// JSON, decodes it with DecodeJsonRequest for every program, and checks with
// EvaluatePredicate that every outcome and switch edge of the region holds.
// When a check fails (relations between two attributes, kinds the analysis
// does not model), it tries other values for the attributes involved, a
// bounded number of times. Only a request that passes every check and the
// caller's own check is returned, so a returned witness is a fact about the
// engine, not about this analysis.
//
// Thread-compatible: the builder owns one Frame per program. Cost per Find:
// at most kMaxAttempts decodes per program.

#ifndef VERDICT_COMPILER_WITNESS_H_
#define VERDICT_COMPILER_WITNESS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compiler/constraints.h"
#include "compiler/universe.h"
#include "engine/request.h"
#include "nlohmann/json.hpp"

namespace verdict::compiler {

class WitnessBuilder {
 public:
  static constexpr int kMaxAttempts = 64;

  // `now` is the clock passed to the decoder, so that a request without
  // `env.now` is decided the same way on every run.
  // REQUIRES: `universe` outlives the builder.
  WitnessBuilder(const Universe& universe, int64_t now);

  // Receives the request decoded for each program (in universe order).
  using Check = std::function<bool(std::span<Frame* const> frames)>;

  // Returns a request that lies in the region of `constraints` and that
  // `check` accepts, or nullopt when none was found within the attempts.
  std::optional<nlohmann::json> Find(const Constraints& constraints,
                                     const Check& check);

  int64_t now() const { return now_; }

 private:
  struct Value {
    bool present = false;
    int64_t integer = 0;
    std::string text;
    std::vector<std::string> elements;  // set (sorted) or list (in order)
  };

  std::vector<Value> Candidates(const Constraints& c, uint32_t slot) const;
  std::vector<Value> IntCandidates(const SlotConstraint& c, Type type) const;
  std::vector<Value> TextCandidates(const Constraints& c, uint32_t slot) const;
  std::vector<Value> ListCandidates(const Constraints& c, uint32_t slot) const;
  std::vector<Value> SetCandidates(const Constraints& c, uint32_t slot) const;
  void AddSizedSets(const Value& base, const std::string& fresh,
                    std::vector<Value>& out) const;
  void FixRelations(const Constraints& c, std::vector<Value>& values) const;
  void FixAncestors(const Constraints& c, std::vector<Value>& values) const;
  bool AncestorsFit(const Program& program, size_t k, const SlotConstraint& sc,
                    const std::string& key) const;
  std::optional<nlohmann::json> Render(const std::vector<Value>& values) const;
  std::vector<bool> JoinedSlots(const std::vector<Value>& values) const;
  // Returns the slots whose region conditions the decoded requests break;
  // sets `decoded` to false when a program rejected the request.
  std::vector<uint32_t> Violations(const Constraints& c,
                                   const std::string& json, bool& decoded);
  void AddViolations(const Constraints& c, size_t program,
                     std::vector<uint32_t>& out) const;

  const Universe& universe_;
  int64_t now_;
  std::vector<std::unique_ptr<Frame>> frames_;
  std::vector<Frame*> frame_pointers_;
};

}  // namespace verdict::compiler

#endif  // VERDICT_COMPILER_WITNESS_H_
