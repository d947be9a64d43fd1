#include "cli/aloftctl/output/json_cell.hpp"

namespace aloft::cli::aloftctl::output {

using core::codec::Json;

std::string Cell(const Json* value) {
  if (value == nullptr || value->IsNull()) return "-";
  if (value->IsString()) return value->AsString().empty() ? "-" : value->AsString();
  if (value->IsInt()) return std::to_string(value->AsInt());
  if (value->IsBool()) return value->AsBool() ? "yes" : "no";
  if (value->IsArray()) {
    std::string out;
    for (const Json& item : value->AsArray()) out += (out.empty() ? "" : ",") + Cell(&item);
    return out.empty() ? "-" : out;
  }
  return core::codec::DumpJson(*value);
}

std::string Cell(const Json& object, std::string_view key) { return Cell(object.Find(key)); }

}  // namespace aloft::cli::aloftctl::output
