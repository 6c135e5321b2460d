#include "ldap_record_codec.hpp"

#include "phone_number.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <type_traits>

namespace studio2fa {

namespace {

using protocol::LockState;

// One record field as one attribute: how it is written (no values at the zero value) and read
// back (false: malformed). Adding a field to UserRecord is adding one row to k_fields.
struct FieldCodec {
  const char* name;
  bool multi_valued;
  void (*encode)(const UserRecord& record, std::vector<std::string>& values);
  bool (*decode)(UserRecord& record, std::span<const std::string> values);
};

template <typename T> std::optional<T> parse_integer(std::string_view text)
{
  T value{};
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0') || text[0] == '+') {
    return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

template <auto Member> FieldCodec integer_field(const char* name)
{
  using T = std::remove_cvref_t<decltype(std::declval<UserRecord>().*Member)>;
  return {name, false,
          [](const UserRecord& record, std::vector<std::string>& values) {
            if (record.*Member != 0) {
              values.push_back(std::to_string(record.*Member));
            }
          },
          [](UserRecord& record, std::span<const std::string> values) {
            auto value = parse_integer<T>(values.front());
            if (value) {
              record.*Member = *value;
            }
            return value.has_value();
          }};
}

template <auto Member> FieldCodec blob_field(const char* name)
{
  return {name, false,
          [](const UserRecord& record, std::vector<std::string>& values) {
            const auto& blob = record.*Member;
            if (!blob.empty()) {
              values.emplace_back(blob.begin(), blob.end());
            }
          },
          [](UserRecord& record, std::span<const std::string> values) {
            const std::string& value = values.front();
            (record.*Member).assign(value.begin(), value.end());
            return !value.empty();
          }};
}

std::string format_parameters(const totp::Parameters& params)
{
  return std::string(totp::algorithm_name(params.algorithm)) + " " + std::to_string(params.digits) +
         " " + std::to_string(params.period);
}

std::optional<totp::Parameters> parse_parameters(std::string_view text)
{
  const auto first = text.find(' ');
  const auto second = first == std::string_view::npos ? first : text.find(' ', first + 1);
  if (second == std::string_view::npos) {
    return std::nullopt;
  }
  const auto algorithm = totp::parse_algorithm(text.substr(0, first));
  const auto digits = parse_integer<unsigned>(text.substr(first + 1, second - first - 1));
  const auto period = parse_integer<unsigned>(text.substr(second + 1));
  if (!algorithm || !digits || *digits < 6 || *digits > 8 || !period || *period < 1) {
    return std::nullopt;
  }
  totp::Parameters params;
  params.algorithm = *algorithm;
  params.digits = *digits;
  params.period = *period;
  return params;
}

template <auto Member> FieldCodec parameters_field(const char* name)
{
  return {name, false,
          [](const UserRecord& record, std::vector<std::string>& values) {
            const totp::Parameters& params = record.*Member;
            const totp::Parameters defaults;
            if (params.algorithm != defaults.algorithm || params.digits != defaults.digits ||
                params.period != defaults.period) {
              values.push_back(format_parameters(params));
            }
          },
          [](UserRecord& record, std::span<const std::string> values) {
            auto params = parse_parameters(values.front());
            if (params) {
              record.*Member = *params;
            }
            return params.has_value();
          }};
}

constexpr std::array<std::pair<LockState, const char*>, 3> k_lock_names = {{
    {LockState::none, "none"},
    {LockState::second_factor, "second-factor"},
    {LockState::account, "account"},
}};

FieldCodec lock_field(const char* name)
{
  return {name, false,
          [](const UserRecord& record, std::vector<std::string>& values) {
            for (const auto& [state, text] : k_lock_names) {
              if (state == record.lock && state != LockState::none) {
                values.emplace_back(text);
              }
            }
          },
          [](UserRecord& record, std::span<const std::string> values) {
            for (const auto& [state, text] : k_lock_names) {
              if (values.front() == text) {
                record.lock = state;
                return true;
              }
            }
            return false;
          }};
}

FieldCodec backup_codes_field(const char* name)
{
  return {name, true,
          [](const UserRecord& record, std::vector<std::string>& values) {
            for (const BackupCodeHash& hash : record.backup_codes) {
              values.emplace_back(hash.begin(), hash.end());
            }
          },
          [](UserRecord& record, std::span<const std::string> values) {
            if (values.size() > protocol::k_backup_codes_per_set) {
              return false;
            }
            for (const std::string& value : values) {
              BackupCodeHash hash{};
              if (value.size() != hash.size()) {
                return false;
              }
              std::copy(value.begin(), value.end(), hash.begin());
              record.backup_codes.push_back(hash);
            }
            return true;
          }};
}

// A phone number in E.164 form: only the canonical form (phone::is_canonical) is taken.
template <auto Member> FieldCodec phone_field(const char* name)
{
  return {name, false,
          [](const UserRecord& record, std::vector<std::string>& values) {
            if (!(record.*Member).empty()) {
              values.push_back(record.*Member);
            }
          },
          [](UserRecord& record, std::span<const std::string> values) {
            if (!phone::is_canonical(values.front())) {
              return false;
            }
            record.*Member = values.front();
            return true;
          }};
}

// How codes reach a phone (k_phone_* bits) as words: "sms", "voice" or "sms voice".
constexpr std::array<std::pair<std::uint8_t, const char*>, 3> k_method_names = {{
    {k_phone_sms, "sms"},
    {k_phone_voice, "voice"},
    {k_phone_sms | k_phone_voice, "sms voice"},
}};

template <auto Member> FieldCodec phone_methods_field(const char* name)
{
  return {name, false,
          [](const UserRecord& record, std::vector<std::string>& values) {
            for (const auto& [bits, text] : k_method_names) {
              if (record.*Member == bits) {
                values.emplace_back(text);
              }
            }
          },
          [](UserRecord& record, std::span<const std::string> values) {
            for (const auto& [bits, text] : k_method_names) {
              if (values.front() == text) {
                record.*Member = bits;
                return true;
              }
            }
            return false;
          }};
}

FieldCodec phone_code_field(const char* name)
{
  return {name, false,
          [](const UserRecord& record, std::vector<std::string>& values) {
            if (record.phone_code != PhoneCodeHash{}) {
              values.emplace_back(record.phone_code.begin(), record.phone_code.end());
            }
          },
          [](UserRecord& record, std::span<const std::string> values) {
            const std::string& value = values.front();
            if (value.size() != record.phone_code.size()) {
              return false;
            }
            std::copy(value.begin(), value.end(), record.phone_code.begin());
            return true;
          }};
}

// Space-separated words, at most `N` of them; false if there are more.
template <std::size_t N>
bool split_words(std::string_view text, std::array<std::string_view, N>& words, std::size_t& count)
{
  count = 0;
  while (!text.empty()) {
    const auto space = text.find(' ');
    if (count == N || space == 0) {
      return false;
    }
    words[count++] = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (space != std::string_view::npos && text.empty()) {
      return false; // a trailing space
    }
  }
  return true;
}

constexpr std::array<std::pair<PhoneCodePurpose, const char*>, 3> k_purpose_names = {{
    {PhoneCodePurpose::none, "none"},
    {PhoneCodePurpose::login, "login"},
    {PhoneCodePurpose::confirm, "confirm"},
}};

// The code last sent, but for its hash: "PURPOSE SENT_AT EXPIRES_AT TRIES" ("login 1700000000
// 1700000300 0"). A new code replaces all four at once.
FieldCodec phone_code_state_field(const char* name)
{
  return {
      name, false,
      [](const UserRecord& record, std::vector<std::string>& values) {
        if (record.phone_code_purpose == PhoneCodePurpose::none && record.phone_code_sent_at == 0 &&
            record.phone_code_expires_at == 0 && record.phone_code_tries == 0) {
          return;
        }
        for (const auto& [purpose, text] : k_purpose_names) {
          if (purpose == record.phone_code_purpose) {
            values.push_back(std::string(text) + " " + std::to_string(record.phone_code_sent_at) +
                             " " + std::to_string(record.phone_code_expires_at) + " " +
                             std::to_string(record.phone_code_tries));
          }
        }
      },
      [](UserRecord& record, std::span<const std::string> values) {
        std::array<std::string_view, 4> words;
        std::size_t count = 0;
        if (!split_words(values.front(), words, count) || count != words.size()) {
          return false;
        }
        const auto sent = parse_integer<std::int64_t>(words[1]);
        const auto expires = parse_integer<std::int64_t>(words[2]);
        const auto tries = parse_integer<std::uint32_t>(words[3]);
        for (const auto& [purpose, text] : k_purpose_names) {
          if (words[0] == text && sent && expires && tries) {
            record.phone_code_purpose = purpose;
            record.phone_code_sent_at = *sent;
            record.phone_code_expires_at = *expires;
            record.phone_code_tries = *tries;
            return true;
          }
        }
        return false;
      }};
}

// The per-user cap on codes sent: "SINCE COUNT", the hour that began at SINCE and the codes
// sent in it.
FieldCodec phone_sends_field(const char* name)
{
  return {name, false,
          [](const UserRecord& record, std::vector<std::string>& values) {
            if (record.phone_sends_since != 0 || record.phone_sends != 0) {
              values.push_back(std::to_string(record.phone_sends_since) + " " +
                               std::to_string(record.phone_sends));
            }
          },
          [](UserRecord& record, std::span<const std::string> values) {
            std::array<std::string_view, 2> words;
            std::size_t count = 0;
            if (!split_words(values.front(), words, count) || count != words.size()) {
              return false;
            }
            const auto since = parse_integer<std::int64_t>(words[0]);
            const auto sends = parse_integer<std::uint32_t>(words[1]);
            if (!since || !sends) {
              return false;
            }
            record.phone_sends_since = *since;
            record.phone_sends = *sends;
            return true;
          }};
}

// Every field but the user and the revision, which every entry has.
const std::array k_fields = {
    integer_field<&UserRecord::last_step>(k_attr_last_step),
    blob_field<&UserRecord::sealed_secret>("studio2faSecret"),
    parameters_field<&UserRecord::params>("studio2faTotpParameters"),
    integer_field<&UserRecord::enrolled_at>("studio2faEnrolledAt"),
    blob_field<&UserRecord::pending_secret>("studio2faPendingSecret"),
    parameters_field<&UserRecord::pending_params>("studio2faPendingParameters"),
    integer_field<&UserRecord::pending_created_at>("studio2faPendingCreatedAt"),
    backup_codes_field(k_attr_backup_code),
    integer_field<&UserRecord::failures>("studio2faFailures"),
    integer_field<&UserRecord::last_failure_at>("studio2faLastFailureAt"),
    integer_field<&UserRecord::backup_failures>("studio2faBackupFailures"),
    lock_field("studio2faLockState"),
    integer_field<&UserRecord::locked_at>("studio2faLockedAt"),
    integer_field<&UserRecord::pass_until>("studio2faPassUntil"),
    integer_field<&UserRecord::last_login_at>("studio2faLastLoginAt"),
    integer_field<&UserRecord::grace_until>("studio2faGraceUntil"),
    // Schema version 3: the phone factor.
    phone_field<&UserRecord::phone>("studio2faPhone"),
    phone_methods_field<&UserRecord::phone_methods>("studio2faPhoneMethods"),
    integer_field<&UserRecord::phone_enrolled_at>("studio2faPhoneEnrolledAt"),
    phone_field<&UserRecord::pending_phone>("studio2faPendingPhone"),
    phone_methods_field<&UserRecord::pending_phone_methods>("studio2faPendingPhoneMethods"),
    phone_code_field("studio2faPhoneCode"),
    phone_code_state_field("studio2faPhoneCodeState"),
    phone_sends_field("studio2faPhoneSends"),
};

const auto k_names = [] {
  std::array<const char*, k_fields.size() + 2> names{k_attr_user, k_attr_revision};
  for (std::size_t i = 0; i < k_fields.size(); ++i) {
    names[i + 2] = k_fields[i].name;
  }
  return names;
}();

bool same_name(std::string_view a, std::string_view b)
{
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

} // namespace

std::span<const char* const> record_attribute_names()
{
  return k_names;
}

std::vector<LdapAttribute> encode_record(const UserRecord& record, std::uint64_t revision)
{
  std::vector<LdapAttribute> out;
  out.reserve(k_names.size());
  out.push_back({k_attr_user, {record.user}});
  out.push_back({k_attr_revision, {std::to_string(revision)}});
  for (const FieldCodec& field : k_fields) {
    LdapAttribute attribute{field.name, {}};
    field.encode(record, attribute.values);
    out.push_back(std::move(attribute));
  }
  return out;
}

Expected<UserRecord> decode_record(std::span<const LdapAttribute> attributes)
{
  UserRecord record;
  bool has_user = false;
  bool has_revision = false;
  std::array<bool, k_fields.size()> seen{};
  auto malformed = [](std::string_view name) {
    return make_error(Errc::internal,
                      "malformed " + std::string(name) + " in a studio2faEnrollment entry");
  };
  for (const LdapAttribute& attribute : attributes) {
    if (attribute.values.empty()) {
      continue;
    }
    const bool single = attribute.values.size() == 1;
    if (same_name(attribute.name, k_attr_user)) {
      if (!single || has_user || attribute.values.front().empty()) {
        return malformed(k_attr_user);
      }
      record.user = attribute.values.front();
      has_user = true;
      continue;
    }
    if (same_name(attribute.name, k_attr_revision)) {
      auto revision =
          single ? parse_integer<std::uint64_t>(attribute.values.front()) : std::nullopt;
      if (!revision || has_revision || *revision == 0) {
        return malformed(k_attr_revision);
      }
      record.revision = *revision;
      has_revision = true;
      continue;
    }
    const auto field = std::find_if(k_fields.begin(), k_fields.end(), [&](const FieldCodec& f) {
      return same_name(attribute.name, f.name);
    });
    if (field == k_fields.end()) {
      continue;
    }
    // An attribute named twice (a directory never returns that) is refused rather than
    // merged: the limits on a field (backup codes) hold per attribute.
    const auto index = static_cast<std::size_t>(field - k_fields.begin());
    if (seen[index] || (!single && !field->multi_valued) ||
        !field->decode(record, attribute.values)) {
      return malformed(field->name);
    }
    seen[index] = true;
  }
  if (!has_user) {
    return malformed(k_attr_user);
  }
  if (!has_revision) {
    return malformed(k_attr_revision);
  }
  return record;
}

std::string escape_dn_value(std::string_view value)
{
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    const bool edge_space = c == ' ' && (i == 0 || i + 1 == value.size());
    if (c < 0x20 || c == 0x7f) {
      out += '\\';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
    } else if (edge_space || (i == 0 && c == '#') ||
               std::string_view(",+\"\\<>;=").find(static_cast<char>(c)) !=
                   std::string_view::npos) {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

} // namespace studio2fa
