// Conversions between std::string_view and Debian's absl::string_view.
//
// Debian 12 builds Abseil 20220623 with its own absl::string_view class, not
// an alias of std::string_view, so Abseil calls need an explicit conversion.

#ifndef VERDICT_ENGINE_ABSL_COMPAT_H_
#define VERDICT_ENGINE_ABSL_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace verdict {

inline absl::string_view ToAbsl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

inline std::string_view ToStd(absl::string_view text) {
  return std::string_view(text.data(), text.size());
}

}  // namespace verdict

#endif  // VERDICT_ENGINE_ABSL_COMPAT_H_
