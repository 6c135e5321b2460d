// ldap_cas_bench: the directory store's compare-and-swap writes against a real slapd, from C
// client connections (StartTLS, bound as the service account), each sending its next operation
// as soon as the last one is answered.
//
//   ldap_cas_bench --uri URI --bind-dn DN --password-file FILE --ca-file FILE --base BASE
//                  --mode own|shared --clients C --seconds S
//   ldap_cas_bench (the same connection options) --mode lag --replica-uri URI --samples N
//
// own     client i owns studio2faUser=bench<i>,BASE; an operation is one modify raising its
//         studio2faLastStep by one under the assertion (!(studio2faLastStep>=S)): what one
//         accepted code costs the directory.
// shared  every client updates studio2faUser=bench0,BASE: read the revision R, then replace it
//         with R+1 under the assertion (studio2faRevision=R); a loser (assertionFailed) counts
//         as a conflict and tries again. At the end the revision must have moved by exactly the
//         number of successes (the program fails otherwise).
// lag     raises bench0's last step through URI, then searches it on REPLICA-URI (one open
//         connection, no pause) until the new value shows: the replication lag.
//
// The records must exist (studio2faEnrollment with a studio2faLastStep). One result line:
//   ldap_cas mode=M clients=C ok=N failed=F seconds=S rate=R p50_ms=X p99_ms=Y   (own, shared;
//     failed: conflicts)
//   ldap_lag samples=N p50_ms=X p99_ms=Y max_ms=Z
#include "latency.hpp"

#include <atomic>
#include <fstream>
#include <ldap.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

using namespace studio2fa::bench;

namespace {

struct Options {
  std::string uri, replica_uri, bind_dn, password_file, ca_file, base, mode;
  unsigned clients = 1, seconds = 5, samples = 100;
};

struct LdapCloser {
  void operator()(LDAP* ld) const { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
struct MessageFreer {
  void operator()(LDAPMessage* message) const { ldap_msgfree(message); }
};
struct ControlFreer {
  void operator()(LDAPControl* control) const { ldap_control_free(control); }
};
using Connection = std::unique_ptr<LDAP, LdapCloser>;

[[noreturn]] void fail(const std::string& what, int rc)
{
  throw std::runtime_error(what + ": " + ldap_err2string(rc));
}

std::string read_password(const std::string& path)
{
  std::ifstream in(path);
  std::string password;
  if (!in || !std::getline(in, password)) {
    throw std::runtime_error("cannot read " + path);
  }
  return password;
}

// A connection to URI, StartTLS trusting only the CA file, bound as the service account.
Connection connect(const Options& options, const std::string& uri, const std::string& password)
{
  LDAP* raw = nullptr;
  int rc = ldap_initialize(&raw, uri.c_str());
  if (rc != LDAP_SUCCESS) {
    fail("ldap_initialize " + uri, rc);
  }
  Connection ld(raw);
  int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, new_context = 0;
  ldap_set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version);
  ldap_set_option(ld.get(), LDAP_OPT_X_TLS_CACERTFILE, options.ca_file.c_str());
  ldap_set_option(ld.get(), LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
  ldap_set_option(ld.get(), LDAP_OPT_X_TLS_NEWCTX, &new_context);
  if ((rc = ldap_start_tls_s(ld.get(), nullptr, nullptr)) != LDAP_SUCCESS) {
    fail("StartTLS " + uri, rc);
  }
  berval credentials{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
  rc = ldap_sasl_bind_s(ld.get(), options.bind_dn.c_str(), LDAP_SASL_SIMPLE, &credentials, nullptr,
                        nullptr, nullptr);
  if (rc != LDAP_SUCCESS) {
    fail("bind " + options.bind_dn, rc);
  }
  return ld;
}

std::string record_dn(const Options& options, unsigned n)
{
  return "studio2faUser=bench" + std::to_string(n) + "," + options.base;
}

// The integer value of ATTRIBUTE in the entry DN, read with a base search.
long long read_integer(LDAP* ld, const std::string& dn, const char* attribute)
{
  char* attributes[] = {const_cast<char*>(attribute), nullptr};
  LDAPMessage* raw = nullptr;
  int rc = ldap_search_ext_s(ld, dn.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)", attributes, 0,
                             nullptr, nullptr, nullptr, 1, &raw);
  std::unique_ptr<LDAPMessage, MessageFreer> result(raw);
  if (rc != LDAP_SUCCESS) {
    fail("search " + dn, rc);
  }
  LDAPMessage* entry = ldap_first_entry(ld, result.get());
  berval** values = entry ? ldap_get_values_len(ld, entry, attribute) : nullptr;
  if (!values || !values[0]) {
    ldap_value_free_len(values);
    throw std::runtime_error(dn + " has no " + attribute);
  }
  long long value = std::stoll(std::string(values[0]->bv_val, values[0]->bv_len));
  ldap_value_free_len(values);
  return value;
}

// replace: ATTRIBUTE: VALUE under the critical assertion FILTER; the LDAP result code.
int replace_asserting(LDAP* ld, const std::string& dn, const char* attribute, long long value,
                      const std::string& filter)
{
  LDAPControl* raw = nullptr;
  int rc = ldap_create_assertion_control(ld, const_cast<char*>(filter.c_str()), 1, &raw);
  if (rc != LDAP_SUCCESS) {
    fail("assertion control " + filter, rc);
  }
  std::unique_ptr<LDAPControl, ControlFreer> control(raw);
  std::string text = std::to_string(value);
  char* values[] = {text.data(), nullptr};
  LDAPMod mod{};
  mod.mod_op = LDAP_MOD_REPLACE;
  mod.mod_type = const_cast<char*>(attribute);
  mod.mod_values = values;
  LDAPMod* mods[] = {&mod, nullptr};
  LDAPControl* controls[] = {control.get(), nullptr};
  return ldap_modify_ext_s(ld, dn.c_str(), mods, controls, nullptr);
}

// One accepted code on a record: its next step, asserted above the last one.
int take_next_step(LDAP* ld, const std::string& dn, long long step)
{
  return replace_asserting(ld, dn, "studio2faLastStep", step,
                           "(!(studio2faLastStep>=" + std::to_string(step) + "))");
}

void run_clients(const Options& options, const std::string& password)
{
  std::atomic<std::size_t> ok{0}, conflicts{0};
  std::atomic<bool> stop{false}, broken{false};
  Latencies latencies;
  std::vector<Connection> connections;
  for (unsigned i = 0; i < options.clients; ++i) {
    connections.push_back(connect(options, options.uri, password));
  }
  auto client = [&](unsigned i) {
    LDAP* ld = connections[i].get();
    std::vector<double> samples;
    try {
      const bool own = options.mode == "own";
      const std::string dn = record_dn(options, own ? i : 0);
      long long step = own ? read_integer(ld, dn, "studio2faLastStep") : 0;
      while (!stop) {
        auto start = std::chrono::steady_clock::now();
        int rc;
        if (own) {
          rc = take_next_step(ld, dn, ++step);
        } else {
          long long revision = read_integer(ld, dn, "studio2faRevision");
          rc = replace_asserting(ld, dn, "studio2faRevision", revision + 1,
                                 "(studio2faRevision=" + std::to_string(revision) + ")");
        }
        if (rc == LDAP_SUCCESS) {
          ++ok;
          samples.push_back(ms_since(start));
        } else if (rc == LDAP_ASSERTION_FAILED && !own) {
          ++conflicts;
        } else {
          fail("modify " + dn, rc);
        }
      }
    } catch (const std::exception& e) {
      fprintf(stderr, "ldap_cas_bench: client %u: %s\n", i, e.what());
      broken = true;
    }
    latencies.add(samples);
  };
  const bool shared = options.mode == "shared";
  const long long first_revision =
      shared ? read_integer(connections[0].get(), record_dn(options, 0), "studio2faRevision") : 0;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < options.clients; ++i) {
    threads.emplace_back(client, i);
  }
  std::this_thread::sleep_for(std::chrono::seconds(options.seconds));
  stop = true;
  for (auto& thread : threads) {
    thread.join();
  }
  double seconds = ms_since(start) / 1000.0;
  if (broken) {
    throw std::runtime_error("a client failed");
  }
  // Every success must have moved the revision by exactly one: two winners of one swap would
  // show as more successes than steps.
  if (shared) {
    long long steps =
        read_integer(connections[0].get(), record_dn(options, 0), "studio2faRevision") -
        first_revision;
    if (steps != static_cast<long long>(ok.load())) {
      throw std::runtime_error(std::to_string(ok.load()) +
                               " swaps succeeded but the revision moved by " +
                               std::to_string(steps));
    }
  }
  std::string what = "ldap_cas mode=" + options.mode;
  print_result(what.c_str(), options.clients, ok, conflicts, seconds, latencies);
}

void measure_lag(const Options& options, const std::string& password)
{
  Connection primary = connect(options, options.uri, password);
  Connection replica = connect(options, options.replica_uri, password);
  const std::string dn = record_dn(options, 0);
  long long step = read_integer(primary.get(), dn, "studio2faLastStep");
  Latencies latencies;
  std::vector<double> samples;
  for (unsigned i = 0; i < options.samples; ++i) {
    int rc = take_next_step(primary.get(), dn, ++step);
    if (rc != LDAP_SUCCESS) {
      fail("modify " + dn, rc);
    }
    auto written = std::chrono::steady_clock::now();
    while (read_integer(replica.get(), dn, "studio2faLastStep") < step) {
      if (ms_since(written) > 10000) {
        throw std::runtime_error("the replica did not show step " + std::to_string(step) +
                                 " within 10 s");
      }
    }
    samples.push_back(ms_since(written));
  }
  latencies.add(samples);
  printf("ldap_lag samples=%u p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", options.samples,
         latencies.percentile(50), latencies.percentile(99), latencies.percentile(100));
}

} // namespace

int main(int argc, char** argv)
{
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string option = argv[i], value = argv[i + 1];
    if (option == "--uri")
      options.uri = value;
    else if (option == "--replica-uri")
      options.replica_uri = value;
    else if (option == "--bind-dn")
      options.bind_dn = value;
    else if (option == "--password-file")
      options.password_file = value;
    else if (option == "--ca-file")
      options.ca_file = value;
    else if (option == "--base")
      options.base = value;
    else if (option == "--mode")
      options.mode = value;
    else if (option == "--clients")
      options.clients = static_cast<unsigned>(std::stoul(value));
    else if (option == "--seconds")
      options.seconds = static_cast<unsigned>(std::stoul(value));
    else if (option == "--samples")
      options.samples = static_cast<unsigned>(std::stoul(value));
    else {
      fprintf(stderr, "ldap_cas_bench: unknown option %s\n", option.c_str());
      return 2;
    }
  }
  try {
    std::string password = read_password(options.password_file);
    if (options.mode == "own" || options.mode == "shared") {
      run_clients(options, password);
    } else if (options.mode == "lag" && !options.replica_uri.empty()) {
      measure_lag(options, password);
    } else {
      fprintf(stderr, "ldap_cas_bench: --mode own, shared, or lag with --replica-uri\n");
      return 2;
    }
  } catch (const std::exception& e) {
    fprintf(stderr, "ldap_cas_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
