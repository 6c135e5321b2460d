#include "ldap_enrollment_store.hpp"

#include "ldap_record_codec.hpp"
#include "log.hpp"

#include <algorithm>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace studio2fa {

namespace {

constexpr const char* k_assertion_oid = "1.3.6.1.1.12"; // RFC 4528
constexpr const char* k_entry_filter = "(objectClass=studio2faEnrollment)";
// Users whose last write this store remembers (see Seen); forgotten all at once past this.
constexpr std::size_t k_max_seen = 4096;
// How long list()'s index of names serves the pages after the first; names per search of a
// page's records (a filter of hundreds of terms is slow on some servers).
constexpr std::chrono::seconds k_index_life{60};
constexpr std::size_t k_names_per_query = 128;

// What this host last read or wrote of a user, at the directory's revision (record.revision):
// the copy load_for_commit() hands out, and what lets a write raise the last step with its own
// assertion and spend a backup code by deleting exactly its value. Without it (another host's
// write came between, or the memory was cleared) the write replaces those attributes whole,
// still under the revision condition.
struct Seen {
  UserRecord record;
};

struct BerFreer {
  void operator()(BerElement* ber) const { ber_free(ber, 0); }
};
using BerPtr = std::unique_ptr<BerElement, BerFreer>;

struct ControlFreer {
  void operator()(LDAPControl* control) const { ldap_control_free(control); }
};
using ControlPtr = std::unique_ptr<LDAPControl, ControlFreer>;

// The modifications of one modify (or the attributes of one add), owning what libldap points
// into.
class ModList {
public:
  void add(int op, std::string_view name, const std::vector<std::string>& values)
  {
    std::vector<berval*>& pointers = m_pointers.emplace_back();
    for (const std::string& value : values) {
      const std::string& kept = m_values.emplace_back(value);
      berval& bv = m_bervals.emplace_back();
      bv.bv_len = static_cast<ber_len_t>(kept.size());
      bv.bv_val = const_cast<char*>(kept.data());
      pointers.push_back(&bv);
    }
    pointers.push_back(nullptr);
    LDAPMod& mod = m_mods.emplace_back();
    mod.mod_op = op | LDAP_MOD_BVALUES;
    mod.mod_type = m_names.emplace_back(name).data();
    mod.mod_bvalues = pointers.data();
  }

  LDAPMod** get()
  {
    m_list.clear();
    for (LDAPMod& mod : m_mods) {
      m_list.push_back(&mod);
    }
    m_list.push_back(nullptr);
    return m_list.data();
  }

private:
  std::deque<std::string> m_names;
  std::deque<std::string> m_values;
  std::deque<berval> m_bervals;
  std::deque<std::vector<berval*>> m_pointers;
  std::deque<LDAPMod> m_mods;
  std::vector<LDAPMod*> m_list;
};

std::vector<std::string> hash_values(const std::vector<BackupCodeHash>& hashes,
                                     const std::vector<BackupCodeHash>& except)
{
  std::vector<std::string> out;
  for (const BackupCodeHash& hash : hashes) {
    if (std::find(except.begin(), except.end(), hash) == except.end()) {
      out.emplace_back(hash.begin(), hash.end());
    }
  }
  return out;
}

std::vector<LdapAttribute> read_attributes(LDAP* ld, LDAPMessage* entry)
{
  std::vector<LdapAttribute> out;
  BerElement* raw_ber = nullptr;
  for (char* name = ldap_first_attribute(ld, entry, &raw_ber); name != nullptr;
       name = ldap_next_attribute(ld, entry, raw_ber)) {
    LdapString owned_name(name);
    LdapAttribute& attribute = out.emplace_back();
    attribute.name = name;
    LdapValues values(ldap_get_values_len(ld, entry, name));
    for (berval** value = values.get(); value && *value; ++value) {
      attribute.values.emplace_back((*value)->bv_val, (*value)->bv_len);
    }
  }
  BerPtr ber(raw_ber);
  return out;
}

// The results of a conditional write that mean another write came first.
bool lost_race(int rc)
{
  return rc == LDAP_ASSERTION_FAILED || rc == LDAP_NO_SUCH_ATTRIBUTE || rc == LDAP_NO_SUCH_OBJECT ||
         rc == LDAP_ALREADY_EXISTS || rc == LDAP_TYPE_OR_VALUE_EXISTS;
}

} // namespace

const char* cas_form_name(CasForm form)
{
  switch (form) {
  case CasForm::assertion:
    return "assertion control (RFC 4528)";
  case CasForm::delete_add:
    return "delete of the old value and add of the new";
  case CasForm::unknown:
    break;
  }
  return "not known yet";
}

struct LdapEnrollmentStore::Impl {
  explicit Impl(LdapStoreSettings settings)
      : reader(std::move(settings.read)), writer(std::move(settings.write)),
        base(std::move(settings.base)), timeout(settings.timeout), forced(settings.forced)
  {
  }

  LdapConnector reader;
  LdapConnector writer;
  std::string base;
  std::chrono::milliseconds timeout;
  const CasForm forced;
  // Forced delete-add needs nothing of the server; forced assertion is settled only once the
  // root DSE lists the control.
  std::atomic<CasForm> form{forced == CasForm::delete_add ? CasForm::delete_add : CasForm::unknown};

  std::mutex seen_mutex;
  std::unordered_map<std::string, Seen> seen;
  // Users whose last write lost: their next read goes to the write server.
  std::unordered_set<std::string> read_from_writer;

  Deadline deadline() const { return std::chrono::steady_clock::now() + timeout; }
  std::string dn_of(std::string_view user) const
  {
    return std::string(k_attr_user) + "=" + escape_dn_value(user) + "," + base;
  }
  std::vector<char*> attribute_list() const
  {
    std::vector<char*> names;
    for (const char* name : record_attribute_names()) {
      names.push_back(const_cast<char*>(name));
    }
    names.push_back(nullptr);
    return names;
  }
  // A write that could not reach the write server says so: with a read replica that still
  // answers, "the directory" would be the wrong place to look. Other errors pass unchanged.
  static Unexpected<Error> write_unreachable(const Error& error)
  {
    if (error.code != Errc::unavailable) {
      return Unexpected<Error>{error};
    }
    return make_error(Errc::unavailable,
                      "directory store: the write server (ldap_write_uri) cannot be reached: " +
                          error.message);
  }
  Unexpected<Error> failed(const char* what, std::string_view user, int rc) const
  {
    return make_error(Errc::internal, std::string("directory store: ") + what + " of " +
                                          log::sanitize(user) + " failed: " + ldap_err2string(rc));
  }

  void remember(const UserRecord& record, std::uint64_t revision)
  {
    std::lock_guard lock(seen_mutex);
    if (seen.size() >= k_max_seen) {
      seen.clear();
    }
    Seen& kept = seen[record.user];
    kept.record = record;
    kept.record.revision = revision;
  }
  std::optional<Seen> recall(const UserRecord& record)
  {
    std::lock_guard lock(seen_mutex);
    auto found = seen.find(record.user);
    if (found == seen.end() || found->second.record.revision != record.revision) {
      return std::nullopt;
    }
    return found->second;
  }
  std::optional<UserRecord> copy_of(const std::string& user)
  {
    std::lock_guard lock(seen_mutex);
    auto found = seen.find(user);
    if (found == seen.end() || read_from_writer.contains(user)) {
      return std::nullopt;
    }
    return found->second.record;
  }
  void forget_after_conflict(const std::string& user)
  {
    std::lock_guard lock(seen_mutex);
    seen.erase(user);
    read_from_writer.insert(user);
  }

  // list()'s index: the container's names, sorted, as last read, and when.
  std::mutex index_mutex;
  std::vector<std::string> index;
  std::optional<std::chrono::steady_clock::time_point> index_read_at;

  // Up to `count` names of the index after `after`, reading the names again first when
  // `refresh` or the index is older than k_index_life.
  Expected<std::vector<std::string>> names_after(std::string_view after, std::size_t count,
                                                 bool refresh);
  // The entries of `names` (those still there), by one search naming them.
  Expected<std::vector<std::vector<LdapAttribute>>> entries_of(std::span<const std::string> names);

  Expected<void> add(const UserRecord& record);
  Expected<void> modify(const UserRecord& record);
};

LdapEnrollmentStore::LdapEnrollmentStore(LdapStoreSettings settings)
    : m_impl(std::make_unique<Impl>(std::move(settings)))
{
}

LdapEnrollmentStore::~LdapEnrollmentStore() = default;

CasForm LdapEnrollmentStore::cas_form() const
{
  return m_impl->form.load();
}

bool LdapEnrollmentStore::cas_form_forced() const
{
  return m_impl->forced != CasForm::unknown;
}

std::uint64_t LdapEnrollmentStore::operations() const
{
  return m_impl->reader.operations() + m_impl->writer.operations();
}

namespace {

// The URI `ld` is connected to.
std::string connected_uri(LDAP* ld)
{
  char* raw = nullptr;
  if (ldap_get_option(ld, LDAP_OPT_URI, &raw) != LDAP_OPT_SUCCESS || raw == nullptr) {
    return {};
  }
  LdapString uri(raw);
  return uri.get();
}

// One base-scope search of `dn` on `connector` (no attributes), as a probe.
ServerHealth probe(LdapConnector& connector, const std::string& dn, Deadline deadline)
{
  ServerHealth health;
  const auto& uris = connector.settings().uris;
  health.uri = uris.empty() ? std::string() : uris.front();
  char no_attributes[] = "1.1";
  char* attributes[] = {no_attributes, nullptr};
  std::string answered;
  auto rc = connector.run(deadline, [&](LDAP* ld, timeval* left) {
    answered = connected_uri(ld);
    LDAPMessage* raw = nullptr;
    const int result = ldap_search_ext_s(ld, dn.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)",
                                         attributes, 0, nullptr, nullptr, left, 1, &raw);
    LdapMessagePtr message(raw);
    return result;
  });
  if (!answered.empty()) {
    health.uri = answered;
  }
  if (!rc) {
    health.problem = rc.error().message;
  } else if (*rc != LDAP_SUCCESS) {
    health.problem = "reading " + dn + ": " + ldap_err2string(*rc);
  } else {
    health.answers = true;
  }
  return health;
}

} // namespace

ServerHealth LdapEnrollmentStore::probe_write_server()
{
  ServerHealth health = probe(m_impl->writer, "", m_impl->deadline());
  if (health.answers) {
    if (auto form = detect_cas_form(); !form) {
      health.answers = false;
      health.problem = form.error().message;
    }
  }
  return health;
}

ServerHealth LdapEnrollmentStore::probe_read_server()
{
  return probe(m_impl->reader, m_impl->base, m_impl->deadline());
}

Expected<CasForm> LdapEnrollmentStore::detect_cas_form()
{
  char supported[] = "supportedControl";
  char* attributes[] = {supported, nullptr};
  bool listed = false;
  auto rc = m_impl->writer.run(m_impl->deadline(), [&](LDAP* ld, timeval* left) {
    LDAPMessage* raw = nullptr;
    const int result = ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attributes, 0,
                                         nullptr, nullptr, left, 1, &raw);
    LdapMessagePtr message(raw);
    if (LDAPMessage* entry = message ? ldap_first_entry(ld, message.get()) : nullptr;
        entry != nullptr) {
      LdapValues values(ldap_get_values_len(ld, entry, supported));
      for (berval** value = values.get(); value && *value; ++value) {
        listed = listed || std::string_view((*value)->bv_val, (*value)->bv_len) == k_assertion_oid;
      }
    }
    return result;
  });
  if (!rc) {
    return Unexpected<Error>{rc.error()};
  }
  if (*rc != LDAP_SUCCESS) {
    return m_impl->failed("reading the root DSE", "", *rc);
  }
  if (m_impl->forced == CasForm::assertion && !listed) {
    return make_error(Errc::invalid,
                      "directory store: ldap_compare_and_swap = assertion, but the write server "
                      "does not list the assertion control (" +
                          std::string(k_assertion_oid) +
                          ") in its root DSE; use auto or delete-add for this directory");
  }
  const CasForm form = m_impl->forced != CasForm::unknown ? m_impl->forced
                       : listed                           ? CasForm::assertion
                                                          : CasForm::delete_add;
  if (m_impl->form.exchange(form) != form) {
    log::notice("directory store: conditional writes by %s%s", cas_form_name(form),
                cas_form_forced() ? " (forced by ldap_compare_and_swap)" : "");
  }
  return form;
}

Expected<std::optional<UserRecord>> LdapEnrollmentStore::load(std::string_view user)
{
  const std::string key(user);
  bool from_writer = false;
  {
    std::lock_guard lock(m_impl->seen_mutex);
    from_writer = m_impl->read_from_writer.contains(key);
  }
  const std::string dn = m_impl->dn_of(user);
  std::vector<char*> attributes = m_impl->attribute_list();
  std::optional<std::vector<LdapAttribute>> found;
  LdapConnector& connector = from_writer ? m_impl->writer : m_impl->reader;
  auto rc = connector.run(m_impl->deadline(), [&](LDAP* ld, timeval* left) {
    LDAPMessage* raw = nullptr;
    const int result = ldap_search_ext_s(ld, dn.c_str(), LDAP_SCOPE_BASE, k_entry_filter,
                                         attributes.data(), 0, nullptr, nullptr, left, 1, &raw);
    LdapMessagePtr message(raw);
    if (LDAPMessage* entry = message ? ldap_first_entry(ld, message.get()) : nullptr;
        entry != nullptr) {
      found = read_attributes(ld, entry);
    }
    return result;
  });
  if (!rc) {
    return Unexpected<Error>{rc.error()};
  }
  if (*rc == LDAP_NO_SUCH_OBJECT || (*rc == LDAP_SUCCESS && !found)) {
    std::lock_guard lock(m_impl->seen_mutex);
    m_impl->read_from_writer.erase(key);
    return std::optional<UserRecord>{};
  }
  if (*rc != LDAP_SUCCESS) {
    return m_impl->failed("reading the record", user, *rc);
  }
  auto record = decode_record(*found);
  if (!record) {
    return make_error(Errc::internal, record.error().message + " (" + log::sanitize(dn) + ")");
  }
  if (record->user != user) {
    return make_error(Errc::internal,
                      "directory store: the entry " + log::sanitize(dn) + " names another user");
  }
  m_impl->remember(*record, record->revision);
  {
    std::lock_guard lock(m_impl->seen_mutex);
    m_impl->read_from_writer.erase(key);
  }
  return std::optional<UserRecord>{std::move(*record)};
}

std::optional<UserRecord> LdapEnrollmentStore::copy_of(std::string_view user)
{
  return m_impl->copy_of(std::string(user));
}

Expected<EnrollmentStore::Loaded> LdapEnrollmentStore::load_for_commit(std::string_view user)
{
  if (auto copy = copy_of(user)) {
    return Loaded{std::move(copy), true};
  }
  return EnrollmentStore::load_for_commit(user);
}

Expected<std::vector<std::string>>
LdapEnrollmentStore::Impl::names_after(std::string_view after, std::size_t count, bool refresh)
{
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(index_mutex);
    refresh = refresh || !index_read_at || now - *index_read_at > k_index_life;
  }
  if (refresh) {
    char user_attribute[] = "studio2faUser";
    char* attributes[] = {user_attribute, nullptr};
    std::vector<std::string> names;
    auto rc = reader.run(deadline(), [&](LDAP* ld, timeval* left) {
      names.clear();
      LDAPMessage* raw = nullptr;
      const int result = ldap_search_ext_s(ld, base.c_str(), LDAP_SCOPE_ONELEVEL, k_entry_filter,
                                           attributes, 0, nullptr, nullptr, left, 0, &raw);
      LdapMessagePtr message(raw);
      for (LDAPMessage* entry = message ? ldap_first_entry(ld, message.get()) : nullptr;
           entry != nullptr; entry = ldap_next_entry(ld, entry)) {
        LdapValues values(ldap_get_values_len(ld, entry, user_attribute));
        if (values && values.get()[0] != nullptr) {
          names.emplace_back(values.get()[0]->bv_val, values.get()[0]->bv_len);
        }
      }
      return result;
    });
    if (!rc) {
      return Unexpected<Error>{rc.error()};
    }
    if (*rc == LDAP_SIZELIMIT_EXCEEDED || *rc == LDAP_ADMINLIMIT_EXCEEDED) {
      // Listed in part, it would look whole to an administrator (or a migration).
      return make_error(Errc::internal,
                        "directory store: the directory's size limit cut the list of records "
                        "under " + log::sanitize(base) + " short (" + ldap_err2string(*rc) +
                        "); lift it for the service account (olcLimits, schema/README.md)");
    }
    if (*rc != LDAP_SUCCESS && *rc != LDAP_NO_SUCH_OBJECT) {
      return failed("listing the names", base, *rc);
    }
    std::sort(names.begin(), names.end());
    std::lock_guard lock(index_mutex);
    index = std::move(names);
    index_read_at = now;
  }
  std::lock_guard lock(index_mutex);
  auto from = std::upper_bound(index.begin(), index.end(), after,
                               [](std::string_view a, const std::string& b) { return a < b; });
  const auto n = std::min<std::size_t>(count, static_cast<std::size_t>(index.end() - from));
  return std::vector<std::string>(from, from + static_cast<std::ptrdiff_t>(n));
}

Expected<std::vector<std::vector<LdapAttribute>>>
LdapEnrollmentStore::Impl::entries_of(std::span<const std::string> names)
{
  std::string filter = std::string("(&") + k_entry_filter + "(|";
  for (const std::string& name : names) {
    filter += "(" + std::string(k_attr_user) + "=" + escape_filter_value(name) + ")";
  }
  filter += "))";
  std::vector<char*> attributes = attribute_list();
  std::vector<std::vector<LdapAttribute>> entries;
  auto rc = reader.run(deadline(), [&](LDAP* ld, timeval* left) {
    entries.clear();
    LDAPMessage* raw = nullptr;
    const int result = ldap_search_ext_s(ld, base.c_str(), LDAP_SCOPE_ONELEVEL, filter.c_str(),
                                         attributes.data(), 0, nullptr, nullptr, left, 0, &raw);
    LdapMessagePtr message(raw);
    for (LDAPMessage* entry = message ? ldap_first_entry(ld, message.get()) : nullptr;
         entry != nullptr; entry = ldap_next_entry(ld, entry)) {
      entries.push_back(read_attributes(ld, entry));
    }
    return result;
  });
  if (!rc) {
    return Unexpected<Error>{rc.error()};
  }
  if (*rc != LDAP_SUCCESS && *rc != LDAP_NO_SUCH_OBJECT) {
    return failed("listing the records", base, *rc);
  }
  return entries;
}

// A page in name order that reads only its own records. studio2faUser has no ORDERING rule
// (schema version 3; one would be a schema change), so neither a filter past the last name
// returned, (studio2faUser>=NAME), nor server-side sorting (RFC 2891; slapd only with the sssvlv
// overlay) can order the entries; and the simple paged results control (RFC 2696) pages in the
// server's own order with a cookie bound to one connection, which ADMIN_LIST's cursor (a name,
// across requests and pooled connections) cannot carry. Instead the names alone (one search
// returning studio2faUser only: no secrets, no codes) make a sorted index, read again for a
// listing's first page (`after` empty) or once it is older than k_index_life; each page then
// reads its records by a search naming them (equality on studio2faUser), which any directory
// answers. A record removed since the index was read is skipped and the page filled from the
// names after it; one added since is listed from the next listing on.
Expected<std::vector<UserRecord>> LdapEnrollmentStore::list(std::string_view after,
                                                            std::size_t limit)
{
  std::vector<UserRecord> records;
  std::string last(after);
  bool refresh = after.empty();
  while (records.size() < limit) {
    auto names =
        m_impl->names_after(last, std::min(limit - records.size(), k_names_per_query), refresh);
    refresh = false;
    if (!names) {
      return Unexpected<Error>{names.error()};
    }
    if (names->empty()) {
      break;
    }
    auto entries = m_impl->entries_of(*names);
    if (!entries) {
      return Unexpected<Error>{entries.error()};
    }
    std::vector<UserRecord> batch;
    for (const auto& attributes_of_entry : *entries) {
      auto record = decode_record(attributes_of_entry);
      if (!record) {
        log::warning("directory store: %s", record.error().message.c_str());
        continue;
      }
      if (std::string_view(record->user) > std::string_view(last) &&
          record->user <= names->back()) {
        batch.push_back(std::move(*record));
      }
    }
    std::sort(batch.begin(), batch.end(),
              [](const UserRecord& a, const UserRecord& b) { return a.user < b.user; });
    for (UserRecord& record : batch) {
      records.push_back(std::move(record));
    }
    last = names->back();
  }
  return records;
}

Expected<void> LdapEnrollmentStore::Impl::add(const UserRecord& record)
{
  ModList attributes;
  const std::vector<LdapAttribute> encoded = encode_record(record, 1);
  attributes.add(LDAP_MOD_ADD, "objectClass", {k_enrollment_class});
  for (const LdapAttribute& attribute : encoded) {
    if (!attribute.values.empty()) {
      attributes.add(LDAP_MOD_ADD, attribute.name, attribute.values);
    }
  }
  const std::string dn = dn_of(record.user);
  auto rc = writer.run(deadline(), [&](LDAP* ld, timeval*) {
    return ldap_add_ext_s(ld, dn.c_str(), attributes.get(), nullptr, nullptr);
  });
  if (!rc) {
    return write_unreachable(rc.error());
  }
  if (*rc == LDAP_ALREADY_EXISTS) {
    forget_after_conflict(record.user);
    return make_error(Errc::conflict, "directory store: " + log::sanitize(record.user) +
                                          " was added by another writer meanwhile");
  }
  if (*rc != LDAP_SUCCESS) {
    return failed("adding the record", record.user, *rc);
  }
  remember(record, 1);
  return {};
}

Expected<void> LdapEnrollmentStore::Impl::modify(const UserRecord& record)
{
  CasForm cas = form.load();
  const std::uint64_t next = record.revision + 1;
  const std::optional<Seen> old = recall(record);
  const bool step_raised = old && record.last_step > old->record.last_step;
  const bool exact_codes = old.has_value();

  ModList mods;
  std::string assertion =
      "(" + std::string(k_attr_revision) + "=" + std::to_string(record.revision) + ")";
  if (cas == CasForm::assertion) {
    mods.add(LDAP_MOD_REPLACE, k_attr_revision, {std::to_string(next)});
    if (step_raised) {
      assertion = "(&" + assertion + "(!(" + k_attr_last_step +
                  ">=" + std::to_string(record.last_step) + ")))";
    }
  } else {
    mods.add(LDAP_MOD_DELETE, k_attr_revision, {std::to_string(record.revision)});
    mods.add(LDAP_MOD_ADD, k_attr_revision, {std::to_string(next)});
  }
  // What the entry holds at this revision (this host's copy, when it has one) is not sent
  // again: the modify carries only what changed, and a directory whose schema lacks attributes
  // this record never uses (the phone factor's, before version 3) takes it.
  const std::vector<LdapAttribute> before =
      old ? encode_record(old->record, record.revision) : std::vector<LdapAttribute>{};
  const std::vector<LdapAttribute> after = encode_record(record, next);
  for (std::size_t i = 0; i < after.size(); ++i) {
    const LdapAttribute& attribute = after[i];
    if (attribute.name == k_attr_user || attribute.name == k_attr_revision) {
      continue;
    }
    if (old && before[i].values == attribute.values) {
      continue;
    }
    if (attribute.name == k_attr_last_step && cas == CasForm::delete_add && step_raised &&
        old->record.last_step != 0) {
      mods.add(LDAP_MOD_DELETE, k_attr_last_step, {std::to_string(old->record.last_step)});
      mods.add(LDAP_MOD_ADD, k_attr_last_step, attribute.values);
      continue;
    }
    if (attribute.name == k_attr_backup_code && exact_codes) {
      // A spent code goes by its exact value: a second host spending it fails here.
      if (auto spent = hash_values(old->record.backup_codes, record.backup_codes); !spent.empty()) {
        mods.add(LDAP_MOD_DELETE, k_attr_backup_code, spent);
      }
      if (auto added = hash_values(record.backup_codes, old->record.backup_codes); !added.empty()) {
        mods.add(LDAP_MOD_ADD, k_attr_backup_code, added);
      }
      continue;
    }
    mods.add(LDAP_MOD_REPLACE, attribute.name, attribute.values);
  }

  const std::string dn = dn_of(record.user);
  auto rc = writer.run(deadline(), [&](LDAP* ld, timeval*) {
    LDAPControl* raw = nullptr;
    ControlPtr control;
    if (cas == CasForm::assertion) {
      if (int made = ldap_create_assertion_control(ld, assertion.data(), 1, &raw);
          made != LDAP_SUCCESS) {
        return made;
      }
      control.reset(raw);
    }
    LDAPControl* controls[] = {control.get(), nullptr};
    return ldap_modify_ext_s(ld, dn.c_str(), mods.get(), control ? controls : nullptr, nullptr);
  });
  if (!rc) {
    return write_unreachable(rc.error());
  }
  if (lost_race(*rc)) {
    forget_after_conflict(record.user);
    return make_error(Errc::conflict, "directory store: the record of " +
                                          log::sanitize(record.user) +
                                          " changed since it was read");
  }
  if (*rc != LDAP_SUCCESS) {
    return failed("writing the record", record.user, *rc);
  }
  remember(record, next);
  return {};
}

Expected<void> LdapEnrollmentStore::commit_records(std::span<const UserRecord> records)
{
  if (!records.empty() && m_impl->form.load() == CasForm::unknown) {
    if (auto form = detect_cas_form(); !form) {
      return Impl::write_unreachable(form.error());
    }
  }
  for (const UserRecord& record : records) {
    auto written = record.revision == 0 ? m_impl->add(record) : m_impl->modify(record);
    if (!written) {
      return written;
    }
  }
  return {};
}

Expected<void> LdapEnrollmentStore::remove(std::string_view user)
{
  const std::string dn = m_impl->dn_of(user);
  auto rc = m_impl->writer.run(m_impl->deadline(), [&](LDAP* ld, timeval*) {
    return ldap_delete_ext_s(ld, dn.c_str(), nullptr, nullptr);
  });
  if (!rc) {
    return Impl::write_unreachable(rc.error());
  }
  if (*rc != LDAP_SUCCESS && *rc != LDAP_NO_SUCH_OBJECT) {
    return m_impl->failed("removing the record", user, *rc);
  }
  std::lock_guard lock(m_impl->seen_mutex);
  m_impl->seen.erase(std::string(user));
  return {};
}

} // namespace studio2fa
