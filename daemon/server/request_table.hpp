// The requests studio2fad answers: one row a message type, with who may send it and the function
// that carries it out, the same table as PROTOCOL.md's "Message types" (in the manner of
// OpenSSH's monitor request table). A new message is one row and one function.
//
// Every row is served the same way, in this order: a peer that may not send the type at all is
// refused before the payload is read; the payload is decoded (a malformed one is answered ERROR
// and the connection closed); each subject is put under its canonical name (account_names.hpp),
// since every record is keyed by it; a subject the peer may not act on is refused; then the
// row's function is called with the decoded request.
#pragma once

#include "peer_rights.hpp"
#include "protocol.hpp"
#include "request_exchange.hpp"

#include <cstdint>
#include <span>

namespace studio2fa {

struct RequestRow {
  protocol::MessageType type;
  Senders senders;
  const char* action; // what the request does, for the syslog line that refuses it
  // Decodes, authorises and carries out a request of this row's type.
  AfterReply (*serve)(const RequestRow& row, RequestExchange& exchange);
};

// Every request type the daemon answers, each once.
std::span<const RequestRow> request_table();

// The row of a request type byte; nullptr for a type the daemon does not answer.
const RequestRow* find_request(std::uint8_t type);

} // namespace studio2fa
