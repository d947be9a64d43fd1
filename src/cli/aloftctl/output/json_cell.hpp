#pragma once

// One JSON value as a table cell or a "key: value" line: strings as they are, numbers in
// decimal, booleans as yes/no, arrays comma-joined, "-" when absent, null or empty.

#include <string>
#include <string_view>

#include "core/codec/json.hpp"

namespace aloft::cli::aloftctl::output {

std::string Cell(const core::codec::Json* value);
// The member `key` of `object` as a cell.
std::string Cell(const core::codec::Json& object, std::string_view key);

}  // namespace aloft::cli::aloftctl::output
