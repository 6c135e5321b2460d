// A sender that posts each message to the studio's SMS or voice gateway over HTTPS (libcurl):
// the body made from the configured template (body_template.hpp), the content type's header,
// and the header lines of a root-only auth header file (`Authorization: Basic ...`,
// `Authorization: Bearer ...`, or a provider's API-key header).
//
// Fails closed: https only (a URL of another scheme is refused when the sender is made, and
// libcurl is allowed no other protocol), certificate and host name always verified (against
// ca_file when set), TLS 1.2 at least, redirects never followed, at most the deadline for
// connecting and answering together. A 2xx answer within the deadline means accepted; anything
// else is a failure whose problem says why ("the gateway answered 500", "no answer within
// 10000 ms", "certificate verify failed: ...") and never holds the message, the whole number or
// the gateway's answer (providers echo the message back). The answer's body is read and
// discarded.
//
// The body and the header lines live in SecretBytes and libcurl's copy of the header list is
// wiped before it is freed. libcurl's and OpenSSL's own transfer buffers are freed without
// being wiped: that copy of the message lasts until the memory is reused.
#pragma once

#include "code_sender.hpp"
#include "config.hpp"
#include "expected.hpp"
#include "secret_bytes.hpp"

#include <string>

namespace studio2fa {

// curl_global_init, once, while the process has one thread (libcurl before 7.84, as on EL 8, is
// not thread-safe there); false if it failed (then no HTTPS sender can send). The daemon calls it
// at start; HttpsSender::create calls it too, for programs that make a sender without it.
bool init_https_senders();

class HttpsSender final : public CodeSender {
public:
  // The largest auth header file read, and the most lines it may hold.
  static constexpr std::size_t k_max_auth_file_size = 8192;
  static constexpr std::size_t k_max_auth_lines = 8;

  // Errc::invalid when the URL is not https://, the body template does not parse, the auth
  // header file is not root's and closed to others (read_private_file) or holds anything but
  // "Name: value" lines, or ca_file cannot be read. `channel` names the keys in errors.
  static Expected<HttpsSender> create(const HttpsGateway& gateway, PhoneChannel channel);

  SendOutcome send(const OutgoingCode& code, std::chrono::milliseconds deadline) override;

private:
  HttpsSender(std::string url, BodyTemplate body, SecretBytes auth_lines, std::string ca_file)
      : m_url(std::move(url)), m_body(std::move(body)), m_auth_lines(std::move(auth_lines)),
        m_ca_file(std::move(ca_file))
  {
  }

  std::string m_url;
  BodyTemplate m_body;
  // The auth header file's lines, each ending in '\0' (as curl_slist_append takes them).
  SecretBytes m_auth_lines;
  std::string m_ca_file;
};

} // namespace studio2fa
