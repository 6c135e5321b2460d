// Phone numbers for codes sent by text message or voice call: the E.164 form a gateway takes
// ("+" and 7 to 15 digits, the first not 0), read from what people type, and the masked form
// that is all a log line, an audit row or a status display ever shows.
#pragma once

#include "expected.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace studio2fa::phone {

inline constexpr std::size_t k_min_digits = 7;  // the shortest numbers in use (+683 XXXX)
inline constexpr std::size_t k_max_digits = 15; // ITU-T E.164's maximum
// Longer input is refused before it is read: room for a number written with separators.
inline constexpr std::size_t k_max_input = 40;
// Digits a masked number shows: the last four.
inline constexpr std::size_t k_shown_digits = 4;

// The canonical E.164 form ("+447946000958") of `text`: a leading '+', then digits, with single
// spaces, '-', '.' and one pair of parentheses between digits allowed and dropped
// ("+44 (0)20 ..." is refused: a trunk prefix is not part of an international number).
// Errc::invalid, saying what is wrong, for anything else. Reads at most k_max_input bytes.
Expected<std::string> parse_e164(std::string_view text);

// Whether `number` is already canonical: what a store or a sender accepts.
bool is_canonical(std::string_view number);

// "••••••4567": six bullets and the last k_shown_digits digits of `number`, whatever its length
// (so the mask does not tell the length either). Six bullets alone for a number that is too short
// to show any.
std::string mask(std::string_view number);

} // namespace studio2fa::phone
