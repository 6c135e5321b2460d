// Framing (lib/wire) and message codec (lib/protocol) against PROTOCOL.md.
#include "protocol.hpp"
#include "wire.hpp"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

#include <cstring>
#include <string>

using namespace studio2fa;
using namespace studio2fa::protocol;
using wire::FrameBuffer;
using wire::HeaderStatus;

namespace {

int header_status(const FrameBuffer& frame)
{
  return static_cast<int>(wire::decode_header(frame));
}

void copy_frame(const FrameBuffer& from, std::size_t size, FrameBuffer& to)
{
  std::memcpy(to.data(), from.data(), size);
  to.set_size(size);
}

void set_length_field(FrameBuffer& frame, std::uint32_t length)
{
  frame.data()[0] = static_cast<std::uint8_t>(length >> 24);
  frame.data()[1] = static_cast<std::uint8_t>(length >> 16);
  frame.data()[2] = static_cast<std::uint8_t>(length >> 8);
  frame.data()[3] = static_cast<std::uint8_t>(length);
}

// Encodes `msg`, checks the frame's header and type, and decodes it into `decoded` (whose
// strings then point into `frame`). Every shorter prefix of the frame must fail the header
// check, and every shorter prefix of the payload must fail to decode.
template <typename Message>
void round_trip(const Message& msg, std::uint8_t type, FrameBuffer& frame, Message& decoded)
{
  assert_true(encode(msg, frame));
  assert_int_equal(header_status(frame), static_cast<int>(HeaderStatus::ok));
  assert_int_equal(frame.type(), type);
  assert_true(decode(frame.payload(), decoded));

  FrameBuffer truncated;
  for (std::size_t size = 0; size < frame.size(); ++size) {
    copy_frame(frame, size, truncated);
    assert_int_not_equal(header_status(truncated), static_cast<int>(HeaderStatus::ok));
  }
  const auto payload = frame.payload();
  for (std::size_t size = 0; size < payload.size(); ++size) {
    Message scratch;
    assert_false(decode(payload.first(size), scratch));
  }

  // One byte of trailing data, with the length field updated so that the framing is fine.
  FrameBuffer longer;
  copy_frame(frame, frame.size(), longer);
  longer.data()[longer.size()] = 0x41;
  longer.set_size(frame.size() + 1);
  set_length_field(longer, static_cast<std::uint32_t>(longer.size() - wire::k_length_size));
  assert_int_equal(header_status(longer), static_cast<int>(HeaderStatus::ok));
  Message scratch;
  assert_false(decode(longer.payload(), scratch));
}

// Builds a frame by hand, for payloads encode() would refuse to write.
template <typename Build> void raw_frame(FrameBuffer& frame, std::uint8_t type, Build build)
{
  wire::Writer writer(frame, type);
  build(writer);
  assert_true(writer.finish());
  assert_int_equal(header_status(frame), static_cast<int>(HeaderStatus::ok));
}

void test_ping_pong(void**)
{
  FrameBuffer frame;
  PingRequest ping;
  round_trip(ping, 0x01, frame, ping);
  const std::uint8_t expected[] = {0, 0, 0, 2, 1, 0x01};
  assert_int_equal(frame.size(), sizeof(expected));
  assert_memory_equal(frame.data(), expected, sizeof(expected));

  PongReply pong;
  pong.highest_version = 1;
  PongReply decoded;
  decoded.highest_version = 0;
  round_trip(pong, 0x81, frame, decoded);
  assert_int_equal(decoded.highest_version, 1);
}

void test_status(void**)
{
  FrameBuffer frame;
  StatusRequest request{"alice"};
  StatusRequest decoded_request;
  round_trip(request, 0x02, frame, decoded_request);
  assert_true(decoded_request.user == "alice");
  const std::uint8_t expected_request[] = {0, 0, 0, 9, 1, 0x02, 0, 5, 'a', 'l', 'i', 'c', 'e'};
  assert_int_equal(frame.size(), sizeof(expected_request));
  assert_memory_equal(frame.data(), expected_request, sizeof(expected_request));

  StatusReply reply;
  reply.state = EnrollmentState::active;
  reply.enrolled_at = 0x0102030405060708ULL;
  reply.failures = 0x0A0B0C0D;
  reply.retry_after = 0xFFFFFFFE;
  reply.lock = LockState::second_factor;
  reply.backup_codes = 7;
  reply.pass_until = 0x1112131415161718ULL;
  reply.last_login = 0x2122232425262728ULL;
  reply.replacing = true;
  reply.required = true;
  reply.grace_until = 0x3132333435363738ULL;
  reply.reason = "why";
  StatusReply decoded;
  round_trip(reply, 0x82, frame, decoded);
  assert_int_equal(static_cast<int>(decoded.state), static_cast<int>(EnrollmentState::active));
  assert_true(decoded.enrolled_at == 0x0102030405060708ULL);
  assert_int_equal(decoded.failures, 0x0A0B0C0D);
  assert_int_equal(decoded.retry_after, 0xFFFFFFFE);
  assert_int_equal(static_cast<int>(decoded.lock), static_cast<int>(LockState::second_factor));
  assert_int_equal(decoded.backup_codes, 7);
  assert_true(decoded.pass_until == 0x1112131415161718ULL);
  assert_true(decoded.last_login == 0x2122232425262728ULL);
  assert_true(decoded.replacing);
  assert_true(decoded.required);
  assert_true(decoded.grace_until == 0x3132333435363738ULL);
  assert_true(decoded.reason == "why");
  // Field order as in PROTOCOL.md.
  const std::uint8_t expected_reply[] = {
      0,    0,    0,    52,                                      // length
      1,    0x82,                                              // version, type
      2,                                                       // state
      1,    2,    3,    4,    5,    6,    7,    8,               // enrolled_at
      0x0A, 0x0B, 0x0C, 0x0D,                                  // failures
      0xFF, 0xFF, 0xFF, 0xFE,                                  // retry_after
      1,                                                       // lock
      7,                                                       // backup_codes
      0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,          // pass_until
      0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,          // last_login
      1,                                                       // replacing
      1,                                                       // required
      0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,          // grace_until
      0,    3,    'w',  'h',  'y'};                            // reason
  assert_int_equal(frame.size(), sizeof(expected_reply));
  assert_memory_equal(frame.data(), expected_reply, sizeof(expected_reply));
}

void test_authenticate(void**)
{
  FrameBuffer frame;
  AuthenticateRequest request;
  request.user = "bob";
  request.service = "sshd";
  request.rhost = "192.0.2.7";
  request.tty = "";
  request.mode = AuthMode::password_and_code;
  request.password = "correct horse";
  request.code = "123456";
  AuthenticateRequest decoded;
  round_trip(request, 0x03, frame, decoded);
  assert_true(decoded.user == "bob");
  assert_true(decoded.service == "sshd");
  assert_true(decoded.rhost == "192.0.2.7");
  assert_true(decoded.tty.empty());
  assert_int_equal(static_cast<int>(decoded.mode), 2);
  assert_true(decoded.password == "correct horse");
  assert_true(decoded.code == "123456");

  // Field order as in PROTOCOL.md: user, service, rhost, tty, mode, password, code.
  const std::uint8_t expected_payload[] = {0, 1,   'u', 0, 1, 's', 0, 1, 'r', 0,
                                           1, 't', 3,   0, 1, 'p', 0, 1, 'c'};
  AuthenticateRequest small{"u", "s", "r", "t", AuthMode::code_only, "p", "c"};
  assert_true(encode(small, frame));
  assert_int_equal(frame.payload().size(), sizeof(expected_payload));
  assert_memory_equal(frame.payload().data(), expected_payload, sizeof(expected_payload));

  for (const AuthResult result :
       {AuthResult::success, AuthResult::denied, AuthResult::not_enrolled, AuthResult::throttled,
        AuthResult::unavailable, AuthResult::locked, AuthResult::enroll_required}) {
    AuthenticateReply reply;
    reply.result = result;
    reply.retry_after = result == AuthResult::throttled ? 120U : 0U;
    AuthenticateReply decoded_reply;
    round_trip(reply, 0x83, frame, decoded_reply);
    assert_int_equal(static_cast<int>(decoded_reply.result), static_cast<int>(result));
    assert_int_equal(decoded_reply.retry_after, reply.retry_after);
  }
  AuthenticateReply backup;
  backup.result = AuthResult::success;
  backup.factor = SecondFactor::backup_code;
  backup.backup_codes = 9;
  AuthenticateReply decoded_backup;
  round_trip(backup, 0x83, frame, decoded_backup);
  assert_int_equal(static_cast<int>(decoded_backup.factor),
                   static_cast<int>(SecondFactor::backup_code));
  assert_int_equal(decoded_backup.backup_codes, 9);
  const std::uint8_t expected_payload_reply[] = {0, 0, 0, 0, 0, 2, 9, 0, 0, 0, 0, 0, 0, 0, 0};
  assert_int_equal(frame.payload().size(), sizeof(expected_payload_reply));
  assert_memory_equal(frame.payload().data(), expected_payload_reply,
                      sizeof(expected_payload_reply));

  // In grace: mode 1 succeeds, or mode 3 is not_enrolled, with the end of the grace period.
  for (const AuthResult result : {AuthResult::success, AuthResult::not_enrolled}) {
    AuthenticateReply grace;
    grace.result = result;
    grace.grace_until = 0x0102030405060708ULL;
    AuthenticateReply decoded_grace;
    round_trip(grace, 0x83, frame, decoded_grace);
    assert_int_equal(static_cast<int>(decoded_grace.result), static_cast<int>(result));
    assert_true(decoded_grace.grace_until == 0x0102030405060708ULL);
  }
  // Field order as in PROTOCOL.md: result, retry_after, factor, backup_codes, grace_until.
  const std::uint8_t expected_grace_payload[] = {2, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  assert_int_equal(frame.payload().size(), sizeof(expected_grace_payload));
  assert_memory_equal(frame.payload().data(), expected_grace_payload,
                      sizeof(expected_grace_payload));
}

void test_enroll_begin(void**)
{
  FrameBuffer frame;
  EnrollBeginRequest request{"carol"};
  EnrollBeginRequest decoded_request;
  round_trip(request, 0x04, frame, decoded_request);
  assert_true(decoded_request.user == "carol");

  EnrollBeginReply reply;
  reply.secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
  reply.issuer = "Studio Example";
  reply.account = "carol";
  reply.algorithm = "SHA256";
  reply.digits = 8;
  reply.period = 60;
  reply.expires_at = 1700000600;
  EnrollBeginReply decoded;
  round_trip(reply, 0x84, frame, decoded);
  assert_true(decoded.secret == reply.secret);
  assert_true(decoded.issuer == reply.issuer);
  assert_true(decoded.account == reply.account);
  assert_true(decoded.algorithm == "SHA256");
  assert_int_equal(decoded.digits, 8);
  assert_int_equal(decoded.period, 60);
  assert_true(decoded.expires_at == 1700000600ULL);
}

void test_enroll_confirm(void**)
{
  FrameBuffer frame;
  EnrollConfirmRequest request{"dave", "654321"};
  EnrollConfirmRequest decoded_request;
  round_trip(request, 0x05, frame, decoded_request);
  assert_true(decoded_request.user == "dave");
  assert_true(decoded_request.code == "654321");

  for (const EnrollResult result :
       {EnrollResult::confirmed, EnrollResult::bad_code, EnrollResult::expired,
        EnrollResult::no_pending, EnrollResult::throttled, EnrollResult::locked}) {
    EnrollConfirmReply reply{result};
    EnrollConfirmReply decoded;
    decoded.result =
        result == EnrollResult::bad_code ? EnrollResult::expired : EnrollResult::bad_code;
    round_trip(reply, 0x85, frame, decoded);
    assert_int_equal(static_cast<int>(decoded.result), static_cast<int>(result));
  }
}

void test_enroll_prompt(void**)
{
  FrameBuffer frame;
  EnrollPromptRequest request{"gina"};
  EnrollPromptRequest decoded_request;
  round_trip(request, 0x09, frame, decoded_request);
  assert_true(decoded_request.user == "gina");
  assert_false(encode(EnrollPromptRequest{std::string(limits::user + 1, 'u')}, frame));

  static EnrollPromptReply reply;
  reply.expires_at = 0x0102030405060708ULL;
  reply.count = 3;
  reply.lines[0] = "Scan this QR code with your authenticator app:";
  reply.lines[1] = "";
  reply.lines[2] = "Or type the key by hand: JBSW Y3DP EHPK 3PXP";
  static EnrollPromptReply decoded;
  round_trip(reply, 0x89, frame, decoded);
  assert_true(decoded.expires_at == 0x0102030405060708ULL);
  assert_int_equal(decoded.count, 3);
  assert_true(decoded.lines[0] == reply.lines[0]);
  assert_true(decoded.lines[1].empty());
  assert_true(decoded.lines[2] == reply.lines[2]);
  // Field order as in PROTOCOL.md: expires_at, count, lines.
  const std::uint8_t expected_start[] = {1, 2, 3, 4, 5, 6, 7, 8, 3, 0, 46, 'S'};
  assert_memory_equal(frame.payload().data(), expected_start, sizeof(expected_start));

  static EnrollPromptReply empty;
  round_trip(empty, 0x89, frame, decoded);
  assert_int_equal(decoded.count, 0);

  // The most lines, and a line at its limit.
  static EnrollPromptReply most;
  most.count = k_max_display_lines;
  for (std::size_t i = 0; i < k_max_display_lines; ++i) {
    most.lines[i] = "\u2588\u2588  \u2588\u2588";
  }
  const std::string at_line(limits::display_line, 'l');
  const std::string over_line(limits::display_line + 1, 'l');
  most.lines[0] = at_line;
  assert_true(encode(most, frame));
  assert_true(decode(frame.payload(), decoded));
  assert_int_equal(decoded.count, k_max_display_lines);
  assert_int_equal(decoded.lines[0].size(), limits::display_line);

  // Too many lines, an over-long line, a line with a NUL: refused both ways.
  most.count = k_max_display_lines + 1;
  assert_false(encode(most, frame));
  most.count = k_max_display_lines;
  most.lines[0] = over_line;
  assert_false(encode(most, frame));
  most.lines[0] = std::string_view("a\0b", 3);
  assert_false(encode(most, frame));

  auto prompt_frame = [&](int count, std::string_view line) {
    raw_frame(frame, 0x89, [&](wire::Writer& writer) {
      writer.u64(1);
      writer.u8(static_cast<std::uint8_t>(count));
      for (int i = 0; i < count; ++i) {
        writer.str(line, 1000);
      }
    });
  };
  prompt_frame(2, "ok");
  assert_true(decode(frame.payload(), decoded));
  assert_int_equal(decoded.count, 2);
  prompt_frame(static_cast<int>(k_max_display_lines) + 1, "x");
  assert_false(decode(frame.payload(), decoded));
  assert_int_equal(decoded.count, 0);
  prompt_frame(1, over_line);
  assert_false(decode(frame.payload(), decoded));
  prompt_frame(0xFF, "");
  assert_false(decode(frame.payload(), decoded));
  // A count that promises more lines than follow.
  raw_frame(frame, 0x89, [&](wire::Writer& writer) {
    writer.u64(1);
    writer.u8(2);
    writer.str("only one", 100);
  });
  assert_false(decode(frame.payload(), decoded));
}

void test_error(void**)
{
  FrameBuffer frame;
  ErrorReply reply{ErrorCode::permission_denied, "not your account"};
  ErrorReply decoded;
  round_trip(reply, 0xFF, frame, decoded);
  assert_int_equal(static_cast<int>(decoded.code), 4);
  assert_true(decoded.message == "not your account");
  const std::uint8_t expected_start[] = {1, 0xFF, 0, 4, 0, 16};
  assert_memory_equal(frame.data() + wire::k_length_size, expected_start, sizeof(expected_start));
}

void test_reply_type(void**)
{
  assert_int_equal(reply_type(MessageType::ping), 0x81);
  assert_int_equal(reply_type(MessageType::enroll_confirm), 0x85);
}

void test_decode_length(void**)
{
  const std::uint8_t too_short[] = {0, 0, 0, 1};
  const std::uint8_t zero[] = {0, 0, 0, 0};
  const std::uint8_t smallest[] = {0, 0, 0, 2};
  const std::uint8_t largest[] = {0, 0, 0x20, 0x00};
  const std::uint8_t too_long[] = {0, 0, 0x20, 0x01};
  const std::uint8_t huge[] = {0xFF, 0xFF, 0xFF, 0xFF};
  const std::uint8_t high_byte[] = {0x01, 0, 0, 0x02};
  assert_int_equal(wire::decode_length(too_short), 0);
  assert_int_equal(wire::decode_length(zero), 0);
  assert_int_equal(wire::decode_length(smallest), 2);
  assert_int_equal(wire::decode_length(largest), 8192);
  assert_int_equal(wire::decode_length(too_long), 0);
  assert_int_equal(wire::decode_length(huge), 0);
  assert_int_equal(wire::decode_length(high_byte), 0);
}

void test_bad_length_field(void**)
{
  FrameBuffer frame;
  assert_true(encode(StatusRequest{"alice"}, frame));

  set_length_field(frame, static_cast<std::uint32_t>(wire::k_max_body + 1));
  assert_int_equal(header_status(frame), static_cast<int>(HeaderStatus::bad_length));
  set_length_field(frame, 1);
  assert_int_equal(header_status(frame), static_cast<int>(HeaderStatus::bad_length));
  set_length_field(frame, 0);
  assert_int_equal(header_status(frame), static_cast<int>(HeaderStatus::bad_length));
  // In range, but not what the buffer holds.
  set_length_field(frame, static_cast<std::uint32_t>(frame.size() - wire::k_length_size - 1));
  assert_int_equal(header_status(frame), static_cast<int>(HeaderStatus::bad_length));
  set_length_field(frame, static_cast<std::uint32_t>(frame.size() - wire::k_length_size + 1));
  assert_int_equal(header_status(frame), static_cast<int>(HeaderStatus::bad_length));
  set_length_field(frame, static_cast<std::uint32_t>(frame.size() - wire::k_length_size));
  assert_int_equal(header_status(frame), static_cast<int>(HeaderStatus::ok));

  // A frame bigger than k_max_body, whatever its length field says.
  FrameBuffer big;
  set_length_field(big, static_cast<std::uint32_t>(wire::k_max_body));
  big.data()[wire::k_length_size] = wire::k_version;
  big.set_size(wire::k_max_frame);
  assert_int_equal(header_status(big), static_cast<int>(HeaderStatus::ok));
  big.set_size(wire::k_max_frame + 1);
  assert_int_equal(header_status(big), static_cast<int>(HeaderStatus::bad_length));
}

void test_wrong_version(void**)
{
  FrameBuffer frame;
  assert_true(encode(PingRequest{}, frame));
  for (const std::uint8_t version : {0, 2, 0x81, 0xFF}) {
    frame.data()[wire::k_length_size] = version;
    assert_int_equal(header_status(frame), static_cast<int>(HeaderStatus::bad_version));
  }
  frame.data()[wire::k_length_size] = wire::k_version;
  assert_int_equal(header_status(frame), static_cast<int>(HeaderStatus::ok));
}

void test_writer_big_endian(void**)
{
  FrameBuffer frame;
  wire::Writer writer(frame, 0x42);
  writer.u8(0xAB);
  writer.u16(0x0102);
  writer.u32(0x03040506);
  writer.u64(0x0708090A0B0C0D0EULL);
  writer.str("hi", 2);
  assert_true(writer.ok());
  assert_true(writer.finish());
  const std::uint8_t expected[] = {0, 0, 0, 21,   1,    0x42, 0xAB, 1,    2, 3, 4,   5,  6,
                                   7, 8, 9, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0, 2, 'h', 'i'};
  assert_int_equal(frame.size(), sizeof(expected));
  assert_memory_equal(frame.data(), expected, sizeof(expected));

  wire::Reader reader(frame.payload());
  std::uint8_t a = 0;
  std::uint16_t b = 0;
  std::uint32_t c = 0;
  std::uint64_t d = 0;
  std::string_view s;
  assert_true(reader.u8(a) && reader.u16(b) && reader.u32(c) && reader.u64(d));
  assert_false(reader.at_end());
  assert_true(reader.str(s, 2));
  assert_true(reader.at_end());
  assert_int_equal(a, 0xAB);
  assert_int_equal(b, 0x0102);
  assert_int_equal(c, 0x03040506);
  assert_true(d == 0x0708090A0B0C0D0EULL);
  assert_true(s == "hi");
  // Reading past the end fails and stays failed.
  assert_false(reader.u8(a));
  assert_false(reader.at_end());
  assert_false(reader.ok());
}

void test_writer_refuses_bad_strings(void**)
{
  FrameBuffer frame;
  {
    wire::Writer writer(frame, 0x02);
    writer.str(std::string_view("ab\0cd", 5), 10);
    assert_false(writer.ok());
    assert_false(writer.finish());
    assert_int_equal(frame.size(), 0);
  }
  {
    wire::Writer writer(frame, 0x02);
    writer.str("abcde", 4);
    assert_false(writer.ok());
    // Sticky: a later good field does not revive the writer.
    writer.str("ok", 10);
    writer.u8(1);
    assert_false(writer.finish());
  }
  {
    wire::Writer writer(frame, 0x02);
    writer.str("abcd", 4);
    assert_true(writer.finish());
  }
  {
    // A string longer than its u16 length prefix can say.
    const std::string big(70000, 'x');
    wire::Writer writer(frame, 0x02);
    writer.str(big, big.size());
    assert_false(writer.finish());
  }
}

void test_writer_overflow(void**)
{
  FrameBuffer frame;
  wire::Writer writer(frame, 0x02);
  // 2 header bytes + 1023 * 8 = 8186: one more u64 no longer fits in k_max_body.
  for (int i = 0; i < 1023; ++i) {
    writer.u64(0x1111111111111111ULL);
  }
  assert_true(writer.ok());
  writer.u32(0x22222222);
  writer.u16(0x3333);
  assert_true(writer.ok()); // exactly 8192
  writer.u8(0x44);
  assert_false(writer.ok());
  assert_false(writer.finish());

  wire::Writer exact(frame, 0x02);
  for (int i = 0; i < 1023; ++i) {
    exact.u64(0);
  }
  exact.u32(0);
  exact.u16(0);
  assert_true(exact.finish());
  assert_int_equal(frame.size(), wire::k_max_frame);
  assert_int_equal(header_status(frame), static_cast<int>(HeaderStatus::ok));
}

void test_reader_refuses_bad_strings(void**)
{
  {
    const std::uint8_t payload[] = {0, 5, 'a', 'b', 0, 'c', 'd'};
    wire::Reader reader(payload);
    std::string_view s;
    assert_false(reader.str(s, 10));
    assert_false(reader.ok());
  }
  {
    const std::uint8_t payload[] = {0, 5, 'a', 'b', 'x', 'c', 'd'};
    wire::Reader reader(payload);
    std::string_view s;
    assert_false(reader.str(s, 4));
    wire::Reader fine(payload);
    assert_true(fine.str(s, 5));
    assert_true(s == "abxcd");
    assert_true(fine.at_end());
  }
  {
    // Length says more than there is.
    const std::uint8_t payload[] = {0, 6, 'a', 'b', 'x', 'c', 'd'};
    wire::Reader reader(payload);
    std::string_view s;
    assert_false(reader.str(s, 100));
  }
}

// Every string field at its limit decodes; one byte more is refused by encode() and decode().
void test_string_limits(void**)
{
  const std::string at_user(limits::user, 'u');
  const std::string over_user(limits::user + 1, 'u');
  const std::string at_service(limits::service, 's');
  const std::string over_service(limits::service + 1, 's');
  const std::string at_rhost(limits::rhost, 'r');
  const std::string over_rhost(limits::rhost + 1, 'r');
  const std::string at_tty(limits::tty, 't');
  const std::string over_tty(limits::tty + 1, 't');
  const std::string at_password(limits::password, 'p');
  const std::string over_password(limits::password + 1, 'p');
  const std::string at_code(limits::code, '1');
  const std::string over_code(limits::code + 1, '1');
  const std::string at_text(limits::text, 'm');
  const std::string over_text(limits::text + 1, 'm');

  FrameBuffer frame;
  AuthenticateRequest at{at_user,     at_service, at_rhost, at_tty, AuthMode::password_and_code,
                         at_password, at_code};
  AuthenticateRequest decoded;
  assert_true(encode(at, frame));
  assert_true(decode(frame.payload(), decoded));
  assert_int_equal(decoded.password.size(), limits::password);

  const std::string* const at_fields[] = {&at_user, &at_service,  &at_rhost,
                                          &at_tty,  &at_password, &at_code};
  const std::string* const over_fields[] = {&over_user, &over_service,  &over_rhost,
                                            &over_tty,  &over_password, &over_code};
  const std::size_t field_limits[] = {limits::user, limits::service,  limits::rhost,
                                      limits::tty,  limits::password, limits::code};
  for (std::size_t over = 0; over < 6; ++over) {
    std::string_view fields[6];
    for (std::size_t i = 0; i < 6; ++i) {
      fields[i] = i == over ? *over_fields[i] : *at_fields[i];
    }
    AuthenticateRequest request{
        fields[0], fields[1], fields[2], fields[3], AuthMode::password_and_code,
        fields[4], fields[5]};
    assert_false(encode(request, frame));

    raw_frame(frame, 0x03, [&](wire::Writer& writer) {
      for (std::size_t i = 0; i < 4; ++i) {
        writer.str(fields[i], field_limits[i] + 1);
      }
      writer.u8(2);
      writer.str(fields[4], field_limits[4] + 1);
      writer.str(fields[5], field_limits[5] + 1);
    });
    assert_false(decode(frame.payload(), decoded));
  }

  assert_false(encode(StatusRequest{over_user}, frame));
  assert_false(encode(EnrollBeginRequest{over_user}, frame));
  assert_false(encode(EnrollConfirmRequest{"u", over_code}, frame));
  assert_false(encode(ErrorReply{ErrorCode::internal, over_text}, frame));
  assert_true(encode(ErrorReply{ErrorCode::internal, at_text}, frame));

  raw_frame(frame, 0x02, [&](wire::Writer& writer) { writer.str(over_user, 1000); });
  StatusRequest status;
  assert_false(decode(frame.payload(), status));
  raw_frame(frame, 0xFF, [&](wire::Writer& writer) {
    writer.u16(6);
    writer.str(over_text, 1000);
  });
  ErrorReply error;
  assert_false(decode(frame.payload(), error));

  EnrollBeginReply reply{at_text, at_text, at_text, "SHA1", 6, 30, 0};
  EnrollBeginReply decoded_reply;
  assert_true(encode(reply, frame));
  assert_true(decode(frame.payload(), decoded_reply));
  reply.account = over_text;
  assert_false(encode(reply, frame));
  raw_frame(frame, 0x84, [&](wire::Writer& writer) {
    writer.str(at_text, 1000);
    writer.str(over_text, 1000);
    writer.str(at_text, 1000);
    writer.str("SHA1", 1000);
    writer.u8(6);
    writer.u32(30);
    writer.u64(0);
  });
  assert_false(decode(frame.payload(), decoded_reply));
}

void test_embedded_nul(void**)
{
  FrameBuffer frame;
  const std::string_view with_nul("root\0alice", 10);
  assert_false(encode(StatusRequest{with_nul}, frame));
  AuthenticateRequest request{
      "alice", "sshd", "", "", AuthMode::password_and_code, std::string_view("pass\0word", 9),
      "123456"};
  assert_false(encode(request, frame));

  // Written by hand, as a hostile client would.
  FrameBuffer hostile;
  const std::uint8_t bytes[] = {0,   0,   0,   14, 1,   0x02, 0,   10,  'r',
                                'o', 'o', 't', 0,  'a', 'l',  'i', 'c', 'e'};
  std::memcpy(hostile.data(), bytes, sizeof(bytes));
  hostile.set_size(sizeof(bytes));
  assert_int_equal(header_status(hostile), static_cast<int>(HeaderStatus::ok));
  StatusRequest status;
  status.user = "unchanged";
  assert_false(decode(hostile.payload(), status));
  assert_true(status.user == "unchanged");
}

void test_bad_enums(void**)
{
  FrameBuffer frame;

  for (const int mode : {0, 4, 0xFF}) {
    raw_frame(frame, 0x03, [&](wire::Writer& writer) {
      writer.str("u", 10);
      writer.str("s", 10);
      writer.str("", 10);
      writer.str("", 10);
      writer.u8(static_cast<std::uint8_t>(mode));
      writer.str("p", 10);
      writer.str("1", 10);
    });
    AuthenticateRequest request;
    assert_false(decode(frame.payload(), request));
    AuthenticateRequest bad{"u", "s", "", "", static_cast<AuthMode>(mode), "p", "1"};
    assert_false(encode(bad, frame));
  }
  for (const int mode : {1, 2, 3}) {
    AuthenticateRequest good{"u", "s", "", "", static_cast<AuthMode>(mode), "p", "1"};
    AuthenticateRequest decoded;
    assert_true(encode(good, frame));
    assert_true(decode(frame.payload(), decoded));
  }

  // The account state: one raw frame per bad value, everything else valid.
  struct StateBytes {
    int state = 2, lock = 0, codes = 10, replacing = 0, required = 1;
  };
  auto state_frame = [&](const StateBytes& b) {
    raw_frame(frame, 0x82, [&](wire::Writer& writer) {
      writer.u8(static_cast<std::uint8_t>(b.state));
      writer.u64(0);
      writer.u32(0);
      writer.u32(0);
      writer.u8(static_cast<std::uint8_t>(b.lock));
      writer.u8(static_cast<std::uint8_t>(b.codes));
      writer.u64(0);
      writer.u64(0);
      writer.u8(static_cast<std::uint8_t>(b.replacing));
      writer.u8(static_cast<std::uint8_t>(b.required));
      writer.u64(0);
      writer.str("", 10);
    });
  };
  StatusReply status_reply;
  state_frame(StateBytes{});
  assert_true(decode(frame.payload(), status_reply));
  for (const int state : {3, 0x80, 0xFF}) {
    StateBytes bad;
    bad.state = state;
    state_frame(bad);
    assert_false(decode(frame.payload(), status_reply));
    StatusReply to_send;
    to_send.state = static_cast<EnrollmentState>(state);
    assert_false(encode(to_send, frame));
  }
  for (const int lock : {3, 0xFF}) {
    StateBytes bad;
    bad.lock = lock;
    state_frame(bad);
    assert_false(decode(frame.payload(), status_reply));
    StatusReply to_send;
    to_send.lock = static_cast<LockState>(lock);
    assert_false(encode(to_send, frame));
  }
  {
    StateBytes bad;
    bad.codes = 11;
    state_frame(bad);
    assert_false(decode(frame.payload(), status_reply));
    StatusReply to_send;
    to_send.backup_codes = 11;
    assert_false(encode(to_send, frame));
  }
  for (const int flag : {2, 0xFF}) {
    StateBytes bad;
    bad.replacing = flag;
    state_frame(bad);
    assert_false(decode(frame.payload(), status_reply));
    bad = StateBytes{};
    bad.required = flag;
    state_frame(bad);
    assert_false(decode(frame.payload(), status_reply));
  }

  auto auth_frame = [&](int result, int factor, int codes) {
    raw_frame(frame, 0x83, [&](wire::Writer& writer) {
      writer.u8(static_cast<std::uint8_t>(result));
      writer.u32(0);
      writer.u8(static_cast<std::uint8_t>(factor));
      writer.u8(static_cast<std::uint8_t>(codes));
      writer.u64(0);
    });
  };
  AuthenticateReply auth_reply;
  auth_frame(5, 2, 10);
  assert_true(decode(frame.payload(), auth_reply));
  auth_frame(6, 0, 0);
  assert_true(decode(frame.payload(), auth_reply));
  assert_int_equal(static_cast<int>(auth_reply.result),
                   static_cast<int>(AuthResult::enroll_required));
  auth_frame(0, 3, 0); // a code sent by text or voice
  assert_true(decode(frame.payload(), auth_reply));
  assert_int_equal(static_cast<int>(auth_reply.factor), static_cast<int>(SecondFactor::phone_code));
  auth_frame(0, 4, 0);
  assert_false(decode(frame.payload(), auth_reply));
  auth_frame(0, 2, 11);
  assert_false(decode(frame.payload(), auth_reply));
  {
    AuthenticateReply to_send;
    to_send.factor = static_cast<SecondFactor>(4);
    assert_false(encode(to_send, frame));
    to_send.factor = SecondFactor::backup_code;
    to_send.backup_codes = 11;
    assert_false(encode(to_send, frame));
  }

  for (const int result : {7, 0xFF}) {
    auth_frame(result, 0, 0);
    AuthenticateReply auth;
    assert_false(decode(frame.payload(), auth));
    AuthenticateReply to_send;
    to_send.result = static_cast<AuthResult>(result);
    assert_false(encode(to_send, frame));
  }
  for (const int result : {6, 0xFF}) {
    raw_frame(frame, 0x85,
              [&](wire::Writer& writer) { writer.u8(static_cast<std::uint8_t>(result)); });
    EnrollConfirmReply enroll;
    assert_false(decode(frame.payload(), enroll));
    assert_false(encode(EnrollConfirmReply{static_cast<EnrollResult>(result)}, frame));
  }

  for (const int code : {0, 8, 0xFFFF}) {
    raw_frame(frame, 0xFF, [&](wire::Writer& writer) {
      writer.u16(static_cast<std::uint16_t>(code));
      writer.str("x", 10);
    });
    ErrorReply error;
    assert_false(decode(frame.payload(), error));
    assert_false(encode(ErrorReply{static_cast<ErrorCode>(code), "x"}, frame));
  }

  raw_frame(frame, 0x81, [&](wire::Writer& writer) { writer.u8(0); });
  PongReply pong;
  assert_false(decode(frame.payload(), pong));

  struct BadParameters {
    const char* algorithm;
    int digits;
    std::uint32_t period;
  };
  for (const BadParameters& bad :
       {BadParameters{"SHA1", 5, 30}, BadParameters{"SHA1", 9, 30}, BadParameters{"SHA1", 0, 30},
        BadParameters{"SHA1", 6, 0}, BadParameters{"MD5", 6, 30}, BadParameters{"sha1", 6, 30},
        BadParameters{"", 6, 30}}) {
    raw_frame(frame, 0x84, [&](wire::Writer& writer) {
      writer.str("JBSWY3DP", 100);
      writer.str("issuer", 100);
      writer.str("account", 100);
      writer.str(bad.algorithm, 100);
      writer.u8(static_cast<std::uint8_t>(bad.digits));
      writer.u32(bad.period);
      writer.u64(1);
    });
    EnrollBeginReply reply;
    assert_false(decode(frame.payload(), reply));
    EnrollBeginReply to_send{
        "JBSWY3DP", "issuer", "account", bad.algorithm, static_cast<std::uint8_t>(bad.digits),
        bad.period, 1};
    assert_false(encode(to_send, frame));
  }
  for (const int digits : {6, 7, 8}) {
    EnrollBeginReply good{"JBSWY3DP", "i", "a", "SHA512", static_cast<std::uint8_t>(digits), 30, 1};
    EnrollBeginReply decoded;
    assert_true(encode(good, frame));
    assert_true(decode(frame.payload(), decoded));
    assert_int_equal(decoded.digits, digits);
  }
}

// --- code-proven self-service ----------------------------------------------------------------

void test_backup_codes(void**)
{
  FrameBuffer frame;
  BackupCodesRequest request{"alice", "123456"};
  BackupCodesRequest decoded_request;
  round_trip(request, 0x06, frame, decoded_request);
  assert_true(decoded_request.user == "alice");
  assert_true(decoded_request.code == "123456");

  BackupCodesReply reply;
  reply.result = CodeResult::ok;
  reply.count = 10;
  const char* const codes[] = {"0123-4567-89AB", "CDEF-GHJK-MNPQ", "RSTV-WXYZ-0123",
                               "4567-89AB-CDEF", "GHJK-MNPQ-RSTV", "WXYZ-0123-4567",
                               "89AB-CDEF-GHJK", "MNPQ-RSTV-WXYZ", "0000-0000-0000",
                               "ZZZZ-ZZZZ-ZZZZ"};
  for (std::size_t i = 0; i < 10; ++i) {
    reply.codes[i] = codes[i];
  }
  BackupCodesReply decoded;
  round_trip(reply, 0x86, frame, decoded);
  assert_int_equal(static_cast<int>(decoded.result), 0);
  assert_int_equal(decoded.count, 10);
  for (std::size_t i = 0; i < 10; ++i) {
    assert_true(decoded.codes[i] == codes[i]);
  }

  for (const CodeResult result : {CodeResult::bad_code, CodeResult::throttled, CodeResult::locked,
                                  CodeResult::not_enrolled}) {
    BackupCodesReply failed;
    failed.result = result;
    failed.retry_after = result == CodeResult::throttled ? 30 : 0;
    BackupCodesReply decoded_failed;
    round_trip(failed, 0x86, frame, decoded_failed);
    assert_int_equal(static_cast<int>(decoded_failed.result), static_cast<int>(result));
    assert_int_equal(decoded_failed.retry_after, failed.retry_after);
    assert_int_equal(decoded_failed.count, 0);
    // A failure carries no codes, and ok carries 1 to 10.
    failed.count = 1;
    failed.codes[0] = "AAAA-AAAA-AAAA";
    assert_false(encode(failed, frame));
  }
  BackupCodesReply none;
  none.result = CodeResult::ok;
  assert_false(encode(none, frame));
  none.count = 11;
  assert_false(encode(none, frame));
  none.count = 1; // an empty code
  assert_false(encode(none, frame));

  auto codes_frame = [&](int result, int count, std::size_t code_length) {
    raw_frame(frame, 0x86, [&](wire::Writer& writer) {
      writer.u8(static_cast<std::uint8_t>(result));
      writer.u32(0);
      writer.u8(static_cast<std::uint8_t>(count));
      for (int i = 0; i < count; ++i) {
        writer.str(std::string(code_length, 'A'), 1000);
      }
    });
  };
  BackupCodesReply scratch;
  codes_frame(0, 10, limits::backup_code);
  assert_true(decode(frame.payload(), scratch));
  codes_frame(0, 11, 14);
  assert_false(decode(frame.payload(), scratch));
  codes_frame(0, 0, 14);
  assert_false(decode(frame.payload(), scratch));
  codes_frame(1, 1, 14);
  assert_false(decode(frame.payload(), scratch));
  codes_frame(0, 1, 0);
  assert_false(decode(frame.payload(), scratch));
  codes_frame(0, 1, limits::backup_code + 1);
  assert_false(decode(frame.payload(), scratch));
  codes_frame(5, 0, 0);
  assert_false(decode(frame.payload(), scratch));
}

void test_disable(void**)
{
  FrameBuffer frame;
  DisableRequest request{"bob", "ABCD-EFGH-JKMN"};
  DisableRequest decoded_request;
  round_trip(request, 0x07, frame, decoded_request);
  assert_true(decoded_request.user == "bob");
  assert_true(decoded_request.code == "ABCD-EFGH-JKMN");
  for (const CodeResult result : {CodeResult::ok, CodeResult::bad_code, CodeResult::throttled,
                                  CodeResult::locked, CodeResult::not_enrolled}) {
    DisableReply reply{result, 7};
    DisableReply decoded;
    round_trip(reply, 0x87, frame, decoded);
    assert_int_equal(static_cast<int>(decoded.result), static_cast<int>(result));
    assert_int_equal(decoded.retry_after, 7);
  }
  assert_false(encode(DisableReply{static_cast<CodeResult>(5), 0}, frame));
  raw_frame(frame, 0x87, [&](wire::Writer& writer) {
    writer.u8(5);
    writer.u32(0);
  });
  DisableReply scratch;
  assert_false(decode(frame.payload(), scratch));
  assert_false(encode(DisableRequest{"bob", std::string(limits::code + 1, '1')}, frame));
}

void test_enroll_replace(void**)
{
  FrameBuffer frame;
  EnrollReplaceRequest request{"carol", "654321"};
  EnrollReplaceRequest decoded_request;
  round_trip(request, 0x08, frame, decoded_request);
  assert_true(decoded_request.user == "carol");
  assert_true(decoded_request.code == "654321");

  EnrollReplaceReply reply;
  reply.result = CodeResult::ok;
  reply.offer = EnrollBeginReply{"JBSWY3DPEHPK3PXP", "Studio", "carol", "SHA1", 6, 30, 1700000600};
  EnrollReplaceReply decoded;
  round_trip(reply, 0x88, frame, decoded);
  assert_int_equal(static_cast<int>(decoded.result), 0);
  assert_true(decoded.offer.secret == "JBSWY3DPEHPK3PXP");
  assert_true(decoded.offer.account == "carol");
  assert_int_equal(decoded.offer.digits, 6);
  assert_true(decoded.offer.expires_at == 1700000600ULL);

  EnrollReplaceReply refused;
  refused.result = CodeResult::throttled;
  refused.retry_after = 16;
  EnrollReplaceReply decoded_refused;
  round_trip(refused, 0x88, frame, decoded_refused);
  assert_int_equal(static_cast<int>(decoded_refused.result), 2);
  assert_int_equal(decoded_refused.retry_after, 16);
  assert_true(decoded_refused.offer.secret.empty());

  // A refusal carries no secret; ok carries valid parameters.
  refused.offer.secret = "JBSWY3DP";
  assert_false(encode(refused, frame));
  refused.offer = EnrollBeginReply{{}, {}, {}, {}, 6, 0, 0};
  assert_false(encode(refused, frame));
  EnrollReplaceReply bad_ok;
  bad_ok.result = CodeResult::ok;
  assert_false(encode(bad_ok, frame));

  auto replace_frame = [&](int result, const char* secret, const char* algorithm, int digits) {
    raw_frame(frame, 0x88, [&](wire::Writer& writer) {
      writer.u8(static_cast<std::uint8_t>(result));
      writer.u32(0);
      writer.str(secret, 100);
      writer.str("", 100);
      writer.str("", 100);
      writer.str(algorithm, 100);
      writer.u8(static_cast<std::uint8_t>(digits));
      writer.u32(digits == 0 ? 0 : 30);
      writer.u64(0);
    });
  };
  EnrollReplaceReply scratch;
  replace_frame(1, "", "", 0);
  assert_true(decode(frame.payload(), scratch));
  replace_frame(1, "JBSWY3DP", "", 0);
  assert_false(decode(frame.payload(), scratch));
  replace_frame(0, "JBSWY3DP", "", 0);
  assert_false(decode(frame.payload(), scratch));
  replace_frame(0, "JBSWY3DP", "SHA1", 6);
  assert_true(decode(frame.payload(), scratch));
  replace_frame(5, "", "", 0);
  assert_false(decode(frame.payload(), scratch));
}

// --- administration -------------------------------------------------------------------------

void test_admin_list(void**)
{
  FrameBuffer frame;
  AdminListRequest request{"alice"};
  AdminListRequest decoded_request;
  round_trip(request, 0x10, frame, decoded_request);
  assert_true(decoded_request.after == "alice");
  AdminListRequest first{""};
  round_trip(first, 0x10, frame, decoded_request);
  assert_true(decoded_request.after.empty());

  static AdminListReply reply;
  reply.count = 2;
  reply.entries[0].user = "alice";
  reply.entries[0].state.state = EnrollmentState::active;
  reply.entries[0].state.backup_codes = 3;
  reply.entries[0].state.lock = LockState::account;
  reply.entries[0].state.reason = "no policy";
  reply.entries[1].user = "bob";
  reply.entries[1].state.last_login = 42;
  reply.more = true;
  static AdminListReply decoded;
  round_trip(reply, 0x90, frame, decoded);
  assert_int_equal(decoded.count, 2);
  assert_true(decoded.more);
  assert_true(decoded.entries[0].user == "alice");
  assert_int_equal(decoded.entries[0].state.backup_codes, 3);
  assert_int_equal(static_cast<int>(decoded.entries[0].state.lock), 2);
  assert_true(decoded.entries[0].state.reason == "no policy");
  assert_true(decoded.entries[1].user == "bob");
  assert_true(decoded.entries[1].state.last_login == 42);
  assert_int_equal(frame.payload().size(),
                   2 + encoded_size(reply.entries[0]) + encoded_size(reply.entries[1]));

  static AdminListReply empty;
  round_trip(empty, 0x90, frame, decoded);
  assert_int_equal(decoded.count, 0);
  assert_false(decoded.more);

  // Bounds: 65 entries, an empty user, a bad state, a "more" that is not 0 or 1.
  static AdminListReply bad;
  bad.count = 65;
  assert_false(encode(bad, frame));
  bad.count = 1;
  assert_false(encode(bad, frame)); // empty user
  bad.entries[0].user = "x";
  bad.entries[0].state.lock = static_cast<LockState>(3);
  assert_false(encode(bad, frame));

  raw_frame(frame, 0x90, [&](wire::Writer& writer) {
    writer.u8(0);
    writer.u8(2);
  });
  assert_false(decode(frame.payload(), decoded));
  assert_int_equal(decoded.count, 0);
  raw_frame(frame, 0x90, [&](wire::Writer& writer) {
    writer.u8(65);
    writer.u8(0);
  });
  assert_false(decode(frame.payload(), decoded));
  raw_frame(frame, 0x90, [&](wire::Writer& writer) {
    writer.u8(1);
    writer.str("", 10);
    StatusReply state;
    writer.u8(0);
    writer.u64(0);
    writer.u32(0);
    writer.u32(0);
    writer.u8(0);
    writer.u8(0);
    writer.u64(0);
    writer.u64(0);
    writer.u8(0);
    writer.u8(0);
    writer.u64(0);
    writer.str(state.reason, 10);
    writer.u8(0);
  });
  assert_false(decode(frame.payload(), decoded)); // empty user

  // A page filled to the budget encodes; the helper's sizes are exact.
  static AdminListReply full;
  const std::string name(200, 'n');
  std::size_t used = 0;
  while (full.count < k_max_list_entries) {
    AccountEntry entry;
    entry.user = name;
    entry.state.reason = "no policy";
    if (used + encoded_size(entry) > k_entries_budget) {
      break;
    }
    used += encoded_size(entry);
    full.entries[full.count++] = entry;
  }
  assert_true(full.count > 1 && full.count < k_max_list_entries);
  assert_true(encode(full, frame));
  full.entries[full.count++] = full.entries[0];
  assert_false(encode(full, frame));
}

void test_admin_disable_unlock(void**)
{
  FrameBuffer frame;
  AdminDisableRequest disable{"dave"};
  AdminDisableRequest decoded_disable;
  round_trip(disable, 0x11, frame, decoded_disable);
  assert_true(decoded_disable.user == "dave");
  for (const AdminDisableResult result :
       {AdminDisableResult::disabled, AdminDisableResult::not_enrolled}) {
    AdminDisableReply reply{result};
    AdminDisableReply decoded;
    round_trip(reply, 0x91, frame, decoded);
    assert_int_equal(static_cast<int>(decoded.result), static_cast<int>(result));
  }
  assert_false(encode(AdminDisableReply{static_cast<AdminDisableResult>(2)}, frame));

  AdminUnlockRequest unlock{"erin"};
  AdminUnlockRequest decoded_unlock;
  round_trip(unlock, 0x12, frame, decoded_unlock);
  assert_true(decoded_unlock.user == "erin");
  for (const UnlockResult result : {UnlockResult::unlocked, UnlockResult::not_locked}) {
    AdminUnlockReply reply{result};
    AdminUnlockReply decoded;
    round_trip(reply, 0x92, frame, decoded);
    assert_int_equal(static_cast<int>(decoded.result), static_cast<int>(result));
  }
  assert_false(encode(AdminUnlockReply{static_cast<UnlockResult>(2)}, frame));
  raw_frame(frame, 0x92, [&](wire::Writer& writer) { writer.u8(2); });
  AdminUnlockReply scratch;
  assert_false(decode(frame.payload(), scratch));
}

void test_admin_pass(void**)
{
  FrameBuffer frame;
  AdminPassRequest request{"frank", 24 * 3600};
  AdminPassRequest decoded_request;
  round_trip(request, 0x13, frame, decoded_request);
  assert_true(decoded_request.user == "frank");
  assert_int_equal(decoded_request.duration, 86400);
  AdminPassRequest revoke{"frank", 0};
  round_trip(revoke, 0x13, frame, decoded_request);
  assert_int_equal(decoded_request.duration, 0);
  AdminPassRequest longest{"frank", k_max_pass_duration};
  round_trip(longest, 0x13, frame, decoded_request);
  assert_false(encode(AdminPassRequest{"frank", k_max_pass_duration + 1}, frame));
  raw_frame(frame, 0x13, [&](wire::Writer& writer) {
    writer.str("frank", 10);
    writer.u32(k_max_pass_duration + 1);
  });
  assert_false(decode(frame.payload(), decoded_request));

  for (const PassResult result : {PassResult::granted, PassResult::revoked, PassResult::no_pass}) {
    AdminPassReply reply{result, result == PassResult::granted ? 1700086400ULL : 0ULL};
    AdminPassReply decoded;
    round_trip(reply, 0x93, frame, decoded);
    assert_int_equal(static_cast<int>(decoded.result), static_cast<int>(result));
    assert_true(decoded.pass_until == reply.pass_until);
  }
  assert_false(encode(AdminPassReply{static_cast<PassResult>(3), 0}, frame));
}

void test_admin_log(void**)
{
  FrameBuffer frame;
  AdminLogRequest request{"alice", 1700000000, 99};
  AdminLogRequest decoded_request;
  round_trip(request, 0x14, frame, decoded_request);
  assert_true(decoded_request.user == "alice");
  assert_true(decoded_request.since == 1700000000ULL);
  assert_true(decoded_request.after_id == 99ULL);

  static AdminLogReply reply;
  reply.count = 1;
  reply.entries[0] = AuditEntry{7,           1700000001, 0,         "root", "login", "alice",
                                "sshd",      "192.0.2.1", "pts/0",   "success",
                                "backup code, 9 left"};
  reply.more = true;
  static AdminLogReply decoded;
  round_trip(reply, 0x94, frame, decoded);
  assert_int_equal(decoded.count, 1);
  assert_true(decoded.more);
  const AuditEntry& entry = decoded.entries[0];
  assert_true(entry.id == 7);
  assert_true(entry.at == 1700000001ULL);
  assert_int_equal(entry.actor_uid, 0);
  assert_true(entry.actor == "root");
  assert_true(entry.action == "login");
  assert_true(entry.subject == "alice");
  assert_true(entry.service == "sshd");
  assert_true(entry.rhost == "192.0.2.1");
  assert_true(entry.tty == "pts/0");
  assert_true(entry.outcome == "success");
  assert_true(entry.detail == "backup code, 9 left");
  assert_int_equal(frame.payload().size(), 2 + encoded_size(reply.entries[0]));

  const std::string long_action(limits::action + 1, 'a');
  reply.entries[0].action = long_action;
  assert_false(encode(reply, frame));
  reply.entries[0].action = "login";
  reply.count = 65;
  assert_false(encode(reply, frame));
  raw_frame(frame, 0x94, [&](wire::Writer& writer) {
    writer.u8(65);
    writer.u8(0);
  });
  assert_false(decode(frame.payload(), decoded));
}

void test_admin_import(void**)
{
  FrameBuffer frame;
  static AdminImportRequest request;
  request.replace = true;
  request.count = 2;
  request.entries[0] = ImportEntry{"alice", "JBSWY3DPEHPK3PXP", "SHA1", 6, 30, 2, {}};
  request.entries[0].codes[0] = "12345678";
  request.entries[0].codes[1] = "87654321";
  request.entries[1] = ImportEntry{"bob", "GEZDGNBVGY3TQOJQ", "SHA256", 8, 60, 0, {}};
  static AdminImportRequest decoded;
  round_trip(request, 0x15, frame, decoded);
  assert_true(decoded.replace);
  assert_int_equal(decoded.count, 2);
  assert_true(decoded.entries[0].user == "alice");
  assert_true(decoded.entries[0].secret == "JBSWY3DPEHPK3PXP");
  assert_int_equal(decoded.entries[0].code_count, 2);
  assert_true(decoded.entries[0].codes[1] == "87654321");
  assert_true(decoded.entries[1].algorithm == "SHA256");
  assert_int_equal(decoded.entries[1].digits, 8);
  assert_int_equal(decoded.entries[1].period, 60);
  assert_int_equal(frame.payload().size(),
                   2 + encoded_size(request.entries[0]) + encoded_size(request.entries[1]));

  // Bounds: no entries, too many, bad parameters, too many codes, an over-long secret.
  static AdminImportRequest bad;
  assert_false(encode(bad, frame));
  bad.count = 65;
  assert_false(encode(bad, frame));
  bad.count = 1;
  bad.entries[0] = ImportEntry{"x", "JBSWY3DP", "MD5", 6, 30, 0, {}};
  assert_false(encode(bad, frame));
  bad.entries[0] = ImportEntry{"x", "JBSWY3DP", "SHA1", 6, 30, 11, {}};
  assert_false(encode(bad, frame));
  const std::string long_secret(limits::import_secret + 1, 'A');
  bad.entries[0] = ImportEntry{"x", long_secret, "SHA1", 6, 30, 0, {}};
  assert_false(encode(bad, frame));

  auto import_frame = [&](int replace, int count, int codes) {
    raw_frame(frame, 0x15, [&](wire::Writer& writer) {
      writer.u8(static_cast<std::uint8_t>(replace));
      writer.u8(static_cast<std::uint8_t>(count));
      for (int i = 0; i < count; ++i) {
        writer.str("u", 10);
        writer.str("JBSWY3DP", 10);
        writer.str("SHA1", 10);
        writer.u8(6);
        writer.u32(30);
        writer.u8(static_cast<std::uint8_t>(codes));
        for (int c = 0; c < codes; ++c) {
          writer.str("12345678", 10);
        }
      }
    });
  };
  import_frame(0, 1, 10);
  assert_true(decode(frame.payload(), decoded));
  import_frame(2, 1, 0);
  assert_false(decode(frame.payload(), decoded));
  import_frame(0, 0, 0);
  assert_false(decode(frame.payload(), decoded));
  import_frame(0, 1, 11);
  assert_false(decode(frame.payload(), decoded));
  assert_int_equal(decoded.count, 0);

  for (const ImportResult result :
       {ImportResult::imported, ImportResult::already_enrolled, ImportResult::bad_entry}) {
    AdminImportReply reply{result, static_cast<std::uint8_t>(result == ImportResult::imported ? 0 : 63)};
    AdminImportReply decoded_reply;
    round_trip(reply, 0x95, frame, decoded_reply);
    assert_int_equal(static_cast<int>(decoded_reply.result), static_cast<int>(result));
    assert_int_equal(decoded_reply.index, reply.index);
  }
  assert_false(encode(AdminImportReply{ImportResult::imported, 1}, frame));
  assert_false(encode(AdminImportReply{ImportResult::bad_entry, 64}, frame));
  assert_false(encode(AdminImportReply{static_cast<ImportResult>(3), 0}, frame));
}

void test_admin_policy(void**)
{
  FrameBuffer frame;
  AdminPolicyRequest request{"vfx2"};
  AdminPolicyRequest decoded_request;
  round_trip(request, 0x16, frame, decoded_request);
  assert_true(decoded_request.user == "vfx2");
  assert_false(encode(AdminPolicyRequest{std::string(limits::user + 1, 'u')}, frame));

  AdminPolicyReply reply;
  reply.decision = PolicyDecision::required;
  reply.source = PolicySource::stale_cache;
  reply.reason = "container ou=vfx,ou=people,dc=studio,dc=example";
  reply.dn = "uid=vfx2,ou=vfx,ou=people,dc=studio,dc=example";
  reply.fetched_at = 0x0102030405060708ULL;
  reply.grace_until = 0x1112131415161718ULL;
  AdminPolicyReply decoded;
  round_trip(reply, 0x96, frame, decoded);
  assert_int_equal(static_cast<int>(decoded.decision), static_cast<int>(PolicyDecision::required));
  assert_int_equal(static_cast<int>(decoded.source), static_cast<int>(PolicySource::stale_cache));
  assert_true(decoded.reason == reply.reason);
  assert_true(decoded.dn == reply.dn);
  assert_true(decoded.fetched_at == 0x0102030405060708ULL);
  assert_true(decoded.grace_until == 0x1112131415161718ULL);

  // Field order as in PROTOCOL.md: decision, source, reason, dn, fetched_at, grace_until.
  AdminPolicyReply small{PolicyDecision::exempt, PolicySource::cache, "r", "d", 1, 2};
  assert_true(encode(small, frame));
  const std::uint8_t expected_payload[] = {2, 2, 0, 1, 'r', 0, 1, 'd', 0, 0, 0, 0,
                                           0, 0, 0, 1, 0,   0, 0, 0, 0, 0, 0, 2};
  assert_int_equal(frame.payload().size(), sizeof(expected_payload));
  assert_memory_equal(frame.payload().data(), expected_payload, sizeof(expected_payload));

  for (const PolicyDecision decision : {PolicyDecision::optional, PolicyDecision::required,
                                        PolicyDecision::exempt, PolicyDecision::unknown}) {
    for (const PolicySource source :
         {PolicySource::local, PolicySource::directory, PolicySource::cache,
          PolicySource::stale_cache, PolicySource::none}) {
      AdminPolicyReply each{decision, source, "", "", 0, 0};
      round_trip(each, 0x96, frame, decoded);
      assert_int_equal(static_cast<int>(decoded.decision), static_cast<int>(decision));
      assert_int_equal(static_cast<int>(decoded.source), static_cast<int>(source));
      assert_true(decoded.reason.empty());
      assert_true(decoded.dn.empty());
    }
  }

  // Reason and dn at their limits, and one byte over.
  const std::string at_reason(limits::text, 'r');
  const std::string over_reason(limits::text + 1, 'r');
  const std::string at_dn(limits::dn, 'd');
  const std::string over_dn(limits::dn + 1, 'd');
  AdminPolicyReply longest{PolicyDecision::required, PolicySource::directory, at_reason, at_dn,
                           1, 2};
  assert_true(encode(longest, frame));
  assert_true(decode(frame.payload(), decoded));
  assert_int_equal(decoded.reason.size(), limits::text);
  assert_int_equal(decoded.dn.size(), limits::dn);
  assert_false(encode(AdminPolicyReply{PolicyDecision::required, PolicySource::directory,
                                       over_reason, at_dn, 1, 2},
                      frame));
  assert_false(encode(AdminPolicyReply{PolicyDecision::required, PolicySource::directory,
                                       at_reason, over_dn, 1, 2},
                      frame));

  auto policy_frame = [&](int decision, int source, std::string_view why, std::string_view dn) {
    raw_frame(frame, 0x96, [&](wire::Writer& writer) {
      writer.u8(static_cast<std::uint8_t>(decision));
      writer.u8(static_cast<std::uint8_t>(source));
      writer.str(why, 1000);
      writer.str(dn, 1000);
      writer.u64(3);
      writer.u64(4);
    });
  };
  policy_frame(3, 4, "", "");
  assert_true(decode(frame.payload(), decoded));
  // A failed decode leaves the message as it was.
  decoded = AdminPolicyReply{PolicyDecision::optional, PolicySource::local, "kept", "", 0, 0};
  policy_frame(1, 1, over_reason, "");
  assert_false(decode(frame.payload(), decoded));
  assert_true(decoded.reason == "kept");
  policy_frame(1, 1, "", over_dn);
  assert_false(decode(frame.payload(), decoded));
  for (const int decision : {4, 0x80, 0xFF}) {
    policy_frame(decision, 1, "", "");
    assert_false(decode(frame.payload(), decoded));
    assert_false(encode(AdminPolicyReply{static_cast<PolicyDecision>(decision),
                                         PolicySource::directory, "", "", 0, 0},
                        frame));
  }
  for (const int source : {5, 0x80, 0xFF}) {
    policy_frame(1, source, "", "");
    assert_false(decode(frame.payload(), decoded));
    assert_false(encode(AdminPolicyReply{PolicyDecision::required,
                                         static_cast<PolicySource>(source), "", "", 0, 0},
                        frame));
  }
  assert_true(std::string_view(name(PolicyDecision::exempt)) == "exempt");
  assert_true(std::string_view(name(static_cast<PolicyDecision>(9))) == "?");
}

void test_admin_rekey(void**)
{
  FrameBuffer frame;
  AdminRekeyRequest request{"bob"};
  AdminRekeyRequest decoded_request;
  round_trip(request, 0x18, frame, decoded_request);
  assert_true(decoded_request.after == "bob");

  AdminRekeyReply reply{3, 60, 1, 2, "zoe", true, "0123456789abcdef"};
  AdminRekeyReply decoded;
  round_trip(reply, 0x98, frame, decoded);
  assert_int_equal(decoded.resealed, 3);
  assert_int_equal(decoded.current, 60);
  assert_int_equal(decoded.failed, 1);
  assert_int_equal(decoded.old_backup_codes, 2);
  assert_true(decoded.last == "zoe");
  assert_true(decoded.more);
  assert_true(decoded.key_id == "0123456789abcdef");
  // Field order as in PROTOCOL.md: four counts, last, more, key id.
  const std::uint8_t expected[] = {0,   0,   0,   3,   0,   0,   0,   60,  0,   0,   0,
                                   1,   0,   0,   0,   2,   0,   3,   'z', 'o', 'e', 1,
                                   0,   16,  '0', '1', '2', '3', '4', '5', '6', '7', '8',
                                   '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  assert_int_equal(frame.payload().size(), sizeof(expected));
  assert_memory_equal(frame.payload().data(), expected, sizeof(expected));

  // A key id longer than 16 characters, a user over the limit, a bad flag: refused.
  assert_false(encode(AdminRekeyReply{0, 0, 0, 0, "", false, "0123456789abcdef0"}, frame));
  const std::string over_user(limits::user + 1, 'u');
  assert_false(encode(AdminRekeyRequest{over_user}, frame));
  raw_frame(frame, 0x98, [&](wire::Writer& writer) {
    for (int n = 0; n < 4; ++n) {
      writer.u32(0);
    }
    writer.str("", 1000);
    writer.u8(2);
    writer.str("", 1000);
  });
  assert_false(decode(frame.payload(), decoded));
}

void test_admin_migrate(void**)
{
  FrameBuffer frame;
  for (const MigrateDirection direction :
       {MigrateDirection::to_directory, MigrateDirection::to_local}) {
    AdminMigrateRequest request{direction, "carol"};
    AdminMigrateRequest decoded;
    round_trip(request, 0x19, frame, decoded);
    assert_int_equal(static_cast<int>(decoded.direction), static_cast<int>(direction));
    assert_true(decoded.after == "carol");
  }
  assert_false(encode(AdminMigrateRequest{static_cast<MigrateDirection>(2), ""}, frame));
  raw_frame(frame, 0x19, [&](wire::Writer& writer) {
    writer.u8(2);
    writer.str("", 1000);
  });
  AdminMigrateRequest kept{MigrateDirection::to_local, "kept"};
  assert_false(decode(frame.payload(), kept));
  assert_true(kept.after == "kept");

  AdminMigrateReply reply{9999, 1, 0, "zoe", true};
  AdminMigrateReply decoded;
  round_trip(reply, 0x99, frame, decoded);
  assert_int_equal(decoded.copied, 9999);
  assert_int_equal(decoded.already_there, 1);
  assert_int_equal(decoded.failed, 0);
  assert_true(decoded.last == "zoe");
  assert_true(decoded.more);
  // Field order as in PROTOCOL.md: copied, already there, failed, last, more.
  const std::uint8_t expected[] = {0, 0, 0x27, 0x0F, 0, 0,   0,   1,   0, 0, 0,
                                   0, 0, 3,    'z',  'o', 'e', 1};
  assert_int_equal(frame.payload().size(), sizeof(expected));
  assert_memory_equal(frame.payload().data(), expected, sizeof(expected));
}

void test_admin_enforce(void**)
{
  FrameBuffer frame;
  for (const EnforceAction action : {EnforceAction::query, EnforceAction::on, EnforceAction::off}) {
    AdminEnforceRequest request{action, 0, false, ""};
    AdminEnforceRequest decoded;
    round_trip(request, 0x17, frame, decoded);
    assert_int_equal(static_cast<int>(decoded.action), static_cast<int>(action));
    assert_int_equal(decoded.grace, 0);
    assert_false(decoded.force);
    assert_true(decoded.invoker.empty());
  }
  AdminEnforceRequest on{EnforceAction::on, 7 * 86400, true, "alice"};
  AdminEnforceRequest decoded_request;
  round_trip(on, 0x17, frame, decoded_request);
  assert_int_equal(decoded_request.grace, 7 * 86400);
  assert_true(decoded_request.force);
  assert_true(decoded_request.invoker == "alice");
  // Field order as in PROTOCOL.md: action, grace, force, invoker.
  const std::uint8_t expected_request[] = {1,   0,   0x09, 0x3A, 0x80, 1, 0,
                                           5,   'a', 'l',  'i',  'c',  'e'};
  assert_int_equal(frame.payload().size(), sizeof(expected_request));
  assert_memory_equal(frame.payload().data(), expected_request, sizeof(expected_request));

  // Bounds: the longest grace, one second more, a bad action, the longest invoker.
  const std::string at_user(limits::user, 'i');
  AdminEnforceRequest longest{EnforceAction::on, k_max_grace_period, false, at_user};
  round_trip(longest, 0x17, frame, decoded_request);
  assert_int_equal(decoded_request.grace, k_max_grace_period);
  assert_false(encode(AdminEnforceRequest{EnforceAction::on, k_max_grace_period + 1, false, ""},
                      frame));
  assert_false(encode(AdminEnforceRequest{static_cast<EnforceAction>(3), 0, false, ""}, frame));
  const std::string over_user(limits::user + 1, 'i');
  assert_false(encode(AdminEnforceRequest{EnforceAction::on, 0, false, over_user}, frame));

  auto request_frame = [&](int action, std::uint32_t grace, int force, std::string_view invoker) {
    raw_frame(frame, 0x17, [&](wire::Writer& writer) {
      writer.u8(static_cast<std::uint8_t>(action));
      writer.u32(grace);
      writer.u8(static_cast<std::uint8_t>(force));
      writer.str(invoker, 1000);
    });
  };
  request_frame(2, 0, 0, "");
  assert_true(decode(frame.payload(), decoded_request));
  assert_int_equal(static_cast<int>(decoded_request.action), 2);
  decoded_request = AdminEnforceRequest{EnforceAction::query, 0, false, "kept"};
  for (const int action : {3, 0xFF}) {
    request_frame(action, 0, 0, "");
    assert_false(decode(frame.payload(), decoded_request));
  }
  request_frame(1, k_max_grace_period + 1, 0, "");
  assert_false(decode(frame.payload(), decoded_request));
  request_frame(1, 0xFFFFFFFF, 0, "");
  assert_false(decode(frame.payload(), decoded_request));
  request_frame(1, 0, 2, "");
  assert_false(decode(frame.payload(), decoded_request));
  request_frame(1, 0, 0, over_user);
  assert_false(decode(frame.payload(), decoded_request));
  assert_true(decoded_request.invoker == "kept");

  for (const EnforceResult result : {EnforceResult::done, EnforceResult::refused_not_enrolled}) {
    AdminEnforceReply reply{result, result == EnforceResult::done, 86400, 1700000000, "alice"};
    AdminEnforceReply decoded;
    round_trip(reply, 0x97, frame, decoded);
    assert_int_equal(static_cast<int>(decoded.result), static_cast<int>(result));
    assert_true(decoded.enforced == reply.enforced);
    assert_int_equal(decoded.grace, 86400);
    assert_true(decoded.since == 1700000000ULL);
    assert_true(decoded.by == "alice");
  }
  // Field order as in PROTOCOL.md: result, enforced, grace, since, by.
  assert_true(encode(AdminEnforceReply{EnforceResult::done, true, 60, 2, "b"}, frame));
  const std::uint8_t expected_reply[] = {0, 1, 0, 0, 0, 60, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 'b'};
  assert_int_equal(frame.payload().size(), sizeof(expected_reply));
  assert_memory_equal(frame.payload().data(), expected_reply, sizeof(expected_reply));

  AdminEnforceReply never;
  AdminEnforceReply decoded_reply;
  round_trip(never, 0x97, frame, decoded_reply);
  assert_false(decoded_reply.enforced);
  assert_true(decoded_reply.since == 0);
  assert_true(decoded_reply.by.empty());

  assert_false(encode(AdminEnforceReply{static_cast<EnforceResult>(2), false, 0, 0, ""}, frame));
  assert_false(encode(AdminEnforceReply{EnforceResult::done, true, k_max_grace_period + 1, 0, ""},
                      frame));
  assert_false(encode(AdminEnforceReply{EnforceResult::done, true, 0, 0, over_user}, frame));

  auto reply_frame = [&](int result, int enforced, std::uint32_t grace, std::string_view by) {
    raw_frame(frame, 0x97, [&](wire::Writer& writer) {
      writer.u8(static_cast<std::uint8_t>(result));
      writer.u8(static_cast<std::uint8_t>(enforced));
      writer.u32(grace);
      writer.u64(5);
      writer.str(by, 1000);
    });
  };
  reply_frame(1, 0, k_max_grace_period, "root");
  assert_true(decode(frame.payload(), decoded_reply));
  assert_true(decoded_reply.by == "root");
  // A failed decode leaves the message as it was.
  decoded_reply = AdminEnforceReply{EnforceResult::done, true, 1, 1, "kept"};
  for (const int result : {2, 0xFF}) {
    reply_frame(result, 0, 0, "");
    assert_false(decode(frame.payload(), decoded_reply));
  }
  reply_frame(0, 2, 0, "");
  assert_false(decode(frame.payload(), decoded_reply));
  reply_frame(0, 1, k_max_grace_period + 1, "");
  assert_false(decode(frame.payload(), decoded_reply));
  reply_frame(0, 1, 0, over_user);
  assert_false(decode(frame.payload(), decoded_reply));
  assert_true(decoded_reply.by == "kept");
}

void test_new_message_types(void**)
{
  assert_int_equal(reply_type(MessageType::backup_codes), 0x86);
  assert_int_equal(reply_type(MessageType::disable), 0x87);
  assert_int_equal(reply_type(MessageType::enroll_replace), 0x88);
  assert_int_equal(reply_type(MessageType::admin_list), 0x90);
  assert_int_equal(reply_type(MessageType::admin_import), 0x95);
  assert_int_equal(reply_type(MessageType::enroll_prompt), 0x89);
  assert_int_equal(reply_type(MessageType::admin_policy), 0x96);
  assert_int_equal(reply_type(MessageType::admin_enforce), 0x97);
}

void test_trailing_data_in_empty_messages(void**)
{
  const std::uint8_t one_byte[] = {0};
  PingRequest ping;
  assert_true(decode(std::span<const std::uint8_t>(), ping));
  assert_false(decode(one_byte, ping));
  const std::uint8_t pong_bytes[] = {1, 1};
  PongReply pong;
  assert_false(decode(pong_bytes, pong));
  assert_true(decode(std::span<const std::uint8_t>(pong_bytes, 1), pong));
}

void test_frame_buffer_wipe(void**)
{
  FrameBuffer frame;
  assert_true(encode(
      AuthenticateRequest{"u", "s", "", "", AuthMode::password_and_code, "hunter2", "123456"},
      frame));
  const std::size_t size = frame.size();
  frame.wipe();
  assert_int_equal(frame.size(), 0);
  for (std::size_t i = 0; i < size; ++i) {
    assert_int_equal(frame.data()[i], 0);
  }
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ping_pong),
      cmocka_unit_test(test_status),
      cmocka_unit_test(test_authenticate),
      cmocka_unit_test(test_enroll_begin),
      cmocka_unit_test(test_enroll_confirm),
      cmocka_unit_test(test_enroll_prompt),
      cmocka_unit_test(test_error),
      cmocka_unit_test(test_reply_type),
      cmocka_unit_test(test_decode_length),
      cmocka_unit_test(test_bad_length_field),
      cmocka_unit_test(test_wrong_version),
      cmocka_unit_test(test_writer_big_endian),
      cmocka_unit_test(test_writer_refuses_bad_strings),
      cmocka_unit_test(test_writer_overflow),
      cmocka_unit_test(test_reader_refuses_bad_strings),
      cmocka_unit_test(test_string_limits),
      cmocka_unit_test(test_embedded_nul),
      cmocka_unit_test(test_bad_enums),
      cmocka_unit_test(test_backup_codes),
      cmocka_unit_test(test_disable),
      cmocka_unit_test(test_enroll_replace),
      cmocka_unit_test(test_admin_list),
      cmocka_unit_test(test_admin_disable_unlock),
      cmocka_unit_test(test_admin_pass),
      cmocka_unit_test(test_admin_log),
      cmocka_unit_test(test_admin_import),
      cmocka_unit_test(test_admin_policy),
      cmocka_unit_test(test_admin_enforce),
      cmocka_unit_test(test_admin_rekey),
      cmocka_unit_test(test_admin_migrate),
      cmocka_unit_test(test_new_message_types),
      cmocka_unit_test(test_trailing_data_in_empty_messages),
      cmocka_unit_test(test_frame_buffer_wipe),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
