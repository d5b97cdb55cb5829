// Text and JSON renderings of a DiffReport.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "compiler/diff.h"

namespace verdict::compiler {
namespace {

using Json = nlohmann::json;

std::string DecisionName(bool permit) { return permit ? "PERMIT" : "DENY"; }

std::string Plural(size_t count, const char* one, const char* many) {
  return absl::StrCat(count, " ", count == 1 ? one : many);
}

std::string Counts(const DiffReport& report) {
  return absl::StrCat(Plural(report.regions_walked, "region", "regions"), " walked, ",
                      Plural(report.pruned, "infeasible branch", "infeasible branches"), " pruned");
}

void AppendRegion(const DiffRegion& region, size_t number, std::string& out) {
  absl::StrAppend(&out, number, ". ", DecisionName(region.old_permit), " -> ",
                  DecisionName(region.new_permit),
                  region.old_permit == region.new_permit
                      ? " (the determining policies differ)"
                      : "",
                  " when\n");
  if (region.condition.empty()) absl::StrAppend(&out, "     any request\n");
  for (size_t i = 0; i < region.condition.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "     " : "     and ", region.condition[i],
                    "\n");
  }
  if (region.example) {
    absl::StrAppend(&out, "   example: ", region.example->dump(), "\n",
                    "     old: ", DecisionName(region.old_permit), " [",
                    absl::StrJoin(region.old_reasons, ", "), "]\n",
                    "     new: ", DecisionName(region.new_permit), " [",
                    absl::StrJoin(region.new_reasons, ", "), "]\n");
  }
  absl::StrAppend(&out, "   ", region.basis, "\n");
}

constexpr char kLegend[] =
    "exact: the example request was decoded and decided by both versions with "
    "the\n"
    "  engine as shown; every request that meets the condition changes the "
    "same way.\n"
    "approximate: not confirmed by an example; the region may be "
    "unreachable.\n";

}  // namespace

std::string FormatDiffText(const DiffReport& report, size_t max) {
  std::string out;
  const size_t total = report.regions.size();
  if (total == 0) {
    absl::StrAppend(&out, "no decision changes (", Counts(report), ")\n");
  } else {
    size_t exact = 0;
    for (const DiffRegion& region : report.regions) exact += region.exact;
    absl::StrAppend(&out, total, total == 1 ? " region changes" : " regions change",
                    " (", exact, " exact, ", total - exact, " approximate; ",
                    Counts(report), ")\n");
    for (size_t i = 0; i < total && i < max; ++i) {
      absl::StrAppend(&out, "\n");
      AppendRegion(report.regions[i], i + 1, out);
    }
    if (total > max) {
      absl::StrAppend(&out, "\n... and ", total - max, " more (raise --max to show ",
                      total - max == 1 ? "it" : "them", ")\n");
    }
  }
  if (!report.complete) {
    absl::StrAppend(&out,
                    "note: the walk stopped at the region limit; changes past "
                    "it are not listed\n");
  }
  if (total > 0) absl::StrAppend(&out, "\n", kLegend);
  return out;
}

Json DiffToJson(const DiffReport& report, size_t max) {
  Json changes = Json::array();
  size_t exact = 0;
  for (size_t i = 0; i < report.regions.size(); ++i) {
    const DiffRegion& region = report.regions[i];
    exact += region.exact;
    if (i >= max) continue;
    Json item = {{"old", DecisionName(region.old_permit)},
                 {"new", DecisionName(region.new_permit)},
                 {"condition", region.condition},
                 {"exact", region.exact},
                 {"basis", region.basis}};
    if (region.example) {
      item["example"] = *region.example;
      item["old_reasons"] = region.old_reasons;
      item["new_reasons"] = region.new_reasons;
    }
    changes.push_back(std::move(item));
  }
  return {{"changes", changes},
          {"summary",
           {{"regions", report.regions.size()},
            {"shown", std::min(max, report.regions.size())},
            {"exact", exact},
            {"approximate", report.regions.size() - exact},
            {"regions_walked", report.regions_walked},
            {"pruned", report.pruned},
            {"complete", report.complete}}}};
}

}  // namespace verdict::compiler
