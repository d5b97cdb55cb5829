#include "engine/types.h"

namespace verdict {

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kString:
      return "string";
    case Type::kStringSet:
      return "set<string>";
    case Type::kStringList:
      return "list<string>";
    case Type::kTimestamp:
      return "timestamp";
    case Type::kDuration:
      return "duration";
    case Type::kDecimal:
      return "decimal";
    case Type::kIp:
      return "ip";
    case Type::kCidr:
      return "cidr";
  }
  return "unknown";  // a value outside the enum, cast from an integer
}

}  // namespace verdict
