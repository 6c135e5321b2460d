// A UserRecord as the attributes of its studio2faEnrollment entry (schema/studio2fa.schema,
// version 3: version 2's attributes and the phone factor's), and back. No libldap here: the directory store turns entries into LdapAttribute
// lists and back, so that this translation can be tested and fuzzed on its own.
//
// Values are the LDAP string forms: INTEGER attributes in decimal, parameters as
// "ALGORITHM DIGITS PERIOD" ("SHA1 6 30"), the lock as "none", "second-factor" or "account",
// sealed blobs and backup-code hashes as raw octets. The phone factor: numbers in canonical
// E.164 form, methods as "sms", "voice" or "sms voice", the code sent as its hash (raw octets)
// and its state "PURPOSE SENT_AT EXPIRES_AT TRIES" (purpose none, login or confirm), the
// hourly cap as "SINCE COUNT". A field at its zero value (0, empty) has no attribute at all.
#pragma once

#include "expected.hpp"
#include "user_record.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace studio2fa {

inline constexpr const char* k_enrollment_class = "studio2faEnrollment";
inline constexpr const char* k_attr_user = "studio2faUser";
inline constexpr const char* k_attr_revision = "studio2faRevision";
inline constexpr const char* k_attr_last_step = "studio2faLastStep";
inline constexpr const char* k_attr_backup_code = "studio2faBackupCode";

// One attribute of an entry with its values (octets).
struct LdapAttribute {
  std::string name;
  std::vector<std::string> values;
};

// The names of every record attribute the codec writes, studio2faUser and studio2faRevision
// first; the directory store asks for exactly these.
std::span<const char* const> record_attribute_names();

// The attributes of `record`'s entry: studio2faUser, studio2faRevision (`revision`, which the
// caller chooses: the record's next one on a write) and one per field that is not at its zero
// value. Every name of record_attribute_names() except the two first appears exactly once,
// with no values for a field at zero, so that a modify replacing them all leaves nothing stale.
std::vector<LdapAttribute> encode_record(const UserRecord& record, std::uint64_t revision);

// The record in an entry's attributes (names compared without case; unknown ones ignored).
// Errc::internal for a malformed value, a missing studio2faUser or studio2faRevision, more
// than one value of a single-valued attribute, or an attribute named twice; the message names
// the attribute, never a value.
Expected<UserRecord> decode_record(std::span<const LdapAttribute> attributes);

// RFC 4514 escaping of an RDN value (the user name in studio2faUser=NAME,<base>).
std::string escape_dn_value(std::string_view value);

} // namespace studio2fa
