// The users' records in the directory: one studio2faEnrollment entry per user,
// studio2faUser=<name>,<enrollment_base> (schema/studio2fa.schema, version 2), shared by every
// host whose studio2fad has store = directory.
//
// Every write is conditional on the entry's studio2faRevision, in one modify: where the write
// server lists the RFC 4528 assertion control in its root DSE (or ldap_compare_and_swap =
// assertion requires it), with a critical assertion (studio2faRevision=R), plus
// (!(studio2faLastStep>=S)) when the write raises the last step to S; elsewhere, or always with
// ldap_compare_and_swap = delete-add, as a delete of the old revision value and an add of the
// new one (and the same for a raised last step), which the loser of a race fails with
// noSuchAttribute. A spent backup code is deleted by its exact value. A write of a record this
// host holds a copy of at that revision sends only the attributes that changed. Either way a
// write that lost is Errc::conflict, and the next load() of that user reads the write server,
// not a replica that may not have the winner's write yet.
//
// commit_records() of many records is atomic per record only: LDAP has no transaction across
// entries. Records are written in order and the first failure stops the commit; those before
// it stay written. (Its only caller with more than one record is the administrator's IMPORT.)
//
// Reads go to the first of `read_uris` that answers, writes to `write_uris` (the provider that
// takes writes). Every call is bounded by `timeout`; a directory that cannot be reached is
// Errc::unavailable.
#pragma once

#include "enrollment_store.hpp"
#include "ldap_connection.hpp"
#include "store_health.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace studio2fa {

struct LdapStoreSettings {
  LdapConnectionSettings read;  // uris: ldap_uri
  LdapConnectionSettings write; // uris: ldap_write_uri
  std::string base;             // enrollment_base
  std::chrono::milliseconds timeout{5000};
  // ldap_compare_and_swap: unknown (auto) chooses by the root DSE; assertion requires the
  // server to list the control; delete_add never sends it.
  CasForm forced = CasForm::unknown;
};

class LdapEnrollmentStore final : public EnrollmentStore {
public:
  explicit LdapEnrollmentStore(LdapStoreSettings settings);
  ~LdapEnrollmentStore() override;

  // Reads the write server's root DSE (supportedControl) to choose the form of conditional
  // writes, or to check the forced one: with settings.forced = assertion, a server that does
  // not list the control is Errc::invalid (nothing is written then). Called at start; a write
  // finds it out itself when the server could not be asked.
  Expected<CasForm> detect_cas_form();
  CasForm cas_form() const;
  // Whether the form was forced by ldap_compare_and_swap rather than chosen by the root DSE.
  bool cas_form_forced() const;

  Expected<std::optional<UserRecord>> load(std::string_view user) override;
  // This store's copy of `user`'s record (see copy_of), or load().
  Expected<Loaded> load_for_commit(std::string_view user) override;
  // What this store last read or wrote of `user`, at the revision it had then; nullopt when it
  // has none, or when its last write of that user lost a race (the copy is known to be stale).
  // Up to a few thousand users are remembered.
  std::optional<UserRecord> copy_of(std::string_view user);
  // A page reads only its own records, by names taken from a sorted index of the container's
  // names (read for a listing's first page, `after` empty, or once a minute); see the .cpp.
  // A record added after a listing's first page shows in the next listing.
  Expected<std::vector<UserRecord>> list(std::string_view after, std::size_t limit) override;
  Expected<void> commit_records(std::span<const UserRecord> records) override;
  Expected<void> remove(std::string_view user) override;

  // Asks each server something small now: the write server its root DSE (which also settles
  // cas_form()), the read server the container enrollment_base.
  ServerHealth probe_write_server();
  ServerHealth probe_read_server();

  // Operations sent to the directory so far (reads and writes, binds included).
  std::uint64_t operations() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace studio2fa
