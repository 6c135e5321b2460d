// Text from the daemon (user names, hosts, reasons with directory DNs) made safe for a terminal.
#pragma once

#include <string>
#include <string_view>

namespace studio2fa {

// Printable ASCII and UTF-8 kept, control characters (which could move the cursor or retitle
// the terminal) as \xNN.
std::string printable(std::string_view text);

// For a `key=value` field of a line: as printable(), and spaces, quotes, `=` and `\` as \xNN
// too, so that text a client chose cannot read as further fields.
std::string field_value(std::string_view text);

// For a `key="value"` field: as printable(), and `"` and `\` as \xNN.
std::string quoted_value(std::string_view text);

} // namespace studio2fa
