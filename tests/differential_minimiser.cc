// Greedy minimisation of a failing differential case: each pass lists the
// one-step simplifications of the case, largest cuts first, and keeps the
// first that still disagrees, until none does.

#include <functional>
#include <optional>
#include <vector>

#include "tests/differential_case.h"

namespace verdict::testing {
namespace {

using Json = nlohmann::json;

template <typename T>
using Emit = std::function<void(T)>;

void ConditionCandidates(const Condition& condition, const Emit<Condition>& emit) {
  auto constant = [](const char* value) {
    Condition atom;
    atom.atom = value;
    return atom;
  };
  if (condition.kind == Condition::kAtom) {
    if (condition.atom != "true" && condition.atom != "false") {
      emit(constant("true"));
      emit(constant("false"));
    }
    return;
  }
  for (const Condition& child : condition.children) emit(child);
  emit(constant("true"));
  emit(constant("false"));
  for (size_t i = 0; i < condition.children.size(); ++i) {
    ConditionCandidates(condition.children[i], [&](Condition child) {
      Condition copy = condition;
      copy.children[i] = std::move(child);
      emit(std::move(copy));
    });
  }
}

void PolicyCandidates(const GeneratedPolicy& policy,
                      const Emit<GeneratedPolicy>& emit) {
  for (size_t i = 0; i < policy.duties.size(); ++i) {
    GeneratedPolicy copy = policy;
    copy.duties.erase(copy.duties.begin() + i);
    emit(std::move(copy));
  }
  if (!policy.condition) return;
  GeneratedPolicy without = policy;
  without.condition.reset();
  emit(std::move(without));
  ConditionCandidates(*policy.condition, [&](Condition condition) {
    GeneratedPolicy copy = policy;
    copy.condition = std::move(condition);
    emit(std::move(copy));
  });
}

void MemberCandidates(const std::vector<Member>& members,
                      const Emit<std::vector<Member>>& emit) {
  for (size_t i = 0; i < members.size(); ++i) {
    std::vector<Member> copy = members;
    copy.erase(copy.begin() + i);
    emit(std::move(copy));
  }
  for (size_t i = 0; i < members.size(); ++i) {
    if (!members[i].is_set) continue;
    // The set's members in its place, then the set's members simplified.
    std::vector<Member> flat(members.begin(), members.begin() + i);
    flat.insert(flat.end(), members[i].members.begin(), members[i].members.end());
    flat.insert(flat.end(), members.begin() + i + 1, members.end());
    emit(std::move(flat));
    MemberCandidates(members[i].members, [&](std::vector<Member> inner) {
      std::vector<Member> copy = members;
      copy[i].members = std::move(inner);
      emit(std::move(copy));
    });
  }
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i].is_set) continue;
    PolicyCandidates(members[i].policy, [&](GeneratedPolicy policy) {
      std::vector<Member> copy = members;
      copy[i].policy = std::move(policy);
      emit(std::move(copy));
    });
  }
}

// Drops one member of an object or one element of an array, at any depth.
void JsonCandidates(const Json& value, const Emit<Json>& emit) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      Json copy = value;
      copy.erase(it.key());
      emit(std::move(copy));
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      JsonCandidates(it.value(), [&](Json child) {
        Json copy = value;
        copy[it.key()] = std::move(child);
        emit(std::move(copy));
      });
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      Json copy = value;
      copy.erase(i);
      emit(std::move(copy));
    }
    for (size_t i = 0; i < value.size(); ++i) {
      JsonCandidates(value[i], [&](Json child) {
        Json copy = value;
        copy[i] = std::move(child);
        emit(std::move(copy));
      });
    }
  }
}

// Lists the one-step simplifications of `c` until `accept` takes one.
// Returns true when one was taken.
bool Simplify(const DifferentialCase& c,
              const std::function<bool(DifferentialCase)>& accept) {
  bool taken = false;
  auto offer = [&](DifferentialCase candidate) {
    if (!taken && accept(std::move(candidate))) taken = true;
  };
  MemberCandidates(c.members, [&](std::vector<Member> members) {
    if (taken) return;
    DifferentialCase copy = c;
    copy.members = std::move(members);
    offer(std::move(copy));
  });
  if (c.in_module) {
    DifferentialCase copy = c;
    copy.in_module = false;
    offer(std::move(copy));
  }
  if (c.max_dag_nodes != 0) {
    DifferentialCase copy = c;
    copy.max_dag_nodes = 0;
    offer(std::move(copy));
  }
  JsonCandidates(c.request, [&](Json request) {
    if (taken) return;
    DifferentialCase copy = c;
    copy.request = std::move(request);
    offer(std::move(copy));
  });
  // Records and their contents go, but every data set stays.
  for (auto it = c.data.begin(); it != c.data.end() && !taken; ++it) {
    JsonCandidates(it.value(), [&](Json records) {
      if (taken) return;
      DifferentialCase copy = c;
      copy.data[it.key()] = std::move(records);
      offer(std::move(copy));
    });
  }
  return taken;
}

}  // namespace

DifferentialCase Minimise(
    DifferentialCase c,
    const std::function<bool(const DifferentialCase&)>& disagrees) {
  while (true) {
    std::optional<DifferentialCase> next;
    Simplify(c, [&](DifferentialCase candidate) {
      if (!disagrees(candidate)) return false;
      next = std::move(candidate);
      return true;
    });
    if (!next) return c;
    c = std::move(*next);
  }
}

}  // namespace verdict::testing
