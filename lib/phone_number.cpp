#include "phone_number.hpp"

namespace studio2fa::phone {

namespace {

bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

bool is_separator(char c)
{
  return c == ' ' || c == '-' || c == '.';
}

Unexpected<Error> refuse(std::string_view why)
{
  return make_error(Errc::invalid, "not a phone number in international form (+ and the country "
                                   "code, e.g. +44 20 7946 0958): " +
                                       std::string(why));
}

} // namespace

Expected<std::string> parse_e164(std::string_view text)
{
  if (text.size() > k_max_input) {
    return refuse("too long");
  }
  if (text.empty() || text.front() != '+') {
    return refuse("it must start with +");
  }
  // What came before the current character: people write "+44 20 7946 0958",
  // "+1 (415) 555-0100" or "+33.1.23.45.67.89"; a separator never follows another one.
  enum class Prev { plus, digit, separator, open, close };
  Prev prev = Prev::plus;
  bool parenthesised = false; // the one pair of parentheses was opened
  std::string number = "+";
  for (std::size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (is_digit(c)) {
      if (prev == Prev::plus && c == '0') {
        return refuse("a country code never starts with 0");
      }
      if (number.size() - 1 == k_max_digits) {
        return refuse("more than 15 digits");
      }
      number.push_back(c);
      prev = Prev::digit;
    } else if (is_separator(c) && (prev == Prev::digit || prev == Prev::close)) {
      prev = Prev::separator;
    } else if (c == '(' && !parenthesised && (prev == Prev::digit || prev == Prev::separator)) {
      parenthesised = true;
      prev = Prev::open;
    } else if (c == ')' && prev == Prev::digit && parenthesised && text[i - 2] == '(' &&
               text[i - 1] == '0') {
      // A trunk prefix in parentheses is how national numbers are written; abroad it is not
      // dialled, and a gateway given it would call a wrong number.
      return refuse("drop the (0): it is not dialled from abroad");
    } else if (c == ')' && prev == Prev::digit && parenthesised &&
               text.substr(0, i).find(')') == std::string_view::npos) {
      prev = Prev::close;
    } else {
      return refuse("unexpected character at position " + std::to_string(i + 1));
    }
  }
  if (prev != Prev::digit && prev != Prev::close) {
    return refuse("it ends in a separator");
  }
  if (parenthesised && text.find(')') == std::string_view::npos) {
    return refuse("a parenthesis is not closed");
  }
  if (number.size() - 1 < k_min_digits) {
    return refuse("fewer than 7 digits");
  }
  return number;
}

bool is_canonical(std::string_view number)
{
  auto parsed = parse_e164(number);
  return parsed && *parsed == number;
}

std::string mask(std::string_view number)
{
  std::string masked;
  for (int i = 0; i < 6; ++i) {
    masked += "\u2022";
  }
  std::size_t digits = 0;
  for (const char c : number) {
    digits += is_digit(c) ? 1 : 0;
  }
  if (digits <= k_shown_digits) {
    return masked;
  }
  std::string shown;
  for (auto it = number.rbegin(); it != number.rend() && shown.size() < k_shown_digits; ++it) {
    if (is_digit(*it)) {
      shown.insert(shown.begin(), *it);
    }
  }
  return masked + shown;
}

} // namespace studio2fa::phone
