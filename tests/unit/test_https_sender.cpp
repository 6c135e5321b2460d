// The HTTPS sender's body templates and escaping (daemon/sender/body_template), and what
// HttpsSender::create refuses: a URL that is not https, an auth header file others may read or
// that holds anything but header lines. The sending itself, against a fake gateway over TLS, is
// tests/integration/https_sender.sh.
#include "body_template.hpp"
#include "https_sender.hpp"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <curl/curl.h>
#include <fstream>
#include <setjmp.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
// cmocka.h before 1.1.6 has no extern "C" of its own.
extern "C" {
#include <cmocka.h>
}

using namespace studio2fa;

namespace {

std::string rendered(const BodyTemplate& body, std::string_view number, std::string_view message,
                     std::string_view kind = "sms")
{
  return std::string(body.render(number, message, kind).view());
}

BodyTemplate parse_ok(std::string_view text, BodyFormat format)
{
  auto parsed = BodyTemplate::parse(text, format);
  if (!parsed) {
    fail_msg("'%.*s' refused: %s", static_cast<int>(text.size()), text.data(),
             parsed.error().message.c_str());
  }
  return std::move(*parsed);
}

void assert_refused(std::string_view text, BodyFormat format, const char* says)
{
  auto parsed = BodyTemplate::parse(text, format);
  if (parsed) {
    fail_msg("'%.*s' accepted", static_cast<int>(text.size()), text.data());
  }
  assert_int_equal(static_cast<int>(parsed.error().code), static_cast<int>(Errc::invalid));
  if (parsed.error().message.find(says) == std::string::npos) {
    fail_msg("'%s' does not say '%s'", parsed.error().message.c_str(), says);
  }
}

std::string form_escaped(std::string_view text)
{
  std::string out(text.size() * k_max_escaped_per_byte, '\0');
  auto* begin = reinterpret_cast<std::uint8_t*>(out.data());
  out.resize(static_cast<std::size_t>(put_form_escaped(text, begin) - begin));
  return out;
}

std::string json_escaped(std::string_view text)
{
  std::string out(text.size() * k_max_escaped_per_byte, '\0');
  auto* begin = reinterpret_cast<std::uint8_t*>(out.data());
  out.resize(static_cast<std::size_t>(put_json_escaped(text, begin) - begin));
  return out;
}

// --- escaping -------------------------------------------------------------------------------

// Percent-encoding is curl_easy_escape's, byte for byte, for every byte value and for a
// message as sent.
void test_form_escaping_matches_curl(void**)
{
  CURL* curl = curl_easy_init();
  assert_non_null(curl);
  std::string every_byte;
  for (int b = 0; b < 256; ++b) {
    every_byte.push_back(static_cast<char>(b));
  }
  for (const std::string& text :
       {every_byte, std::string("042917 is your Studio Nord login code. Don't share it!"),
        std::string("+447946004567"), std::string("caf\xc3\xa9 & co=1+2%"), std::string()}) {
    char* theirs = curl_easy_escape(curl, text.data(), static_cast<int>(text.size()));
    assert_non_null(theirs);
    assert_string_equal(form_escaped(text).c_str(), theirs);
    curl_free(theirs);
  }
  curl_easy_cleanup(curl);
}

void test_json_escaping(void**)
{
  assert_string_equal(json_escaped("plain text 123").c_str(), "plain text 123");
  assert_string_equal(json_escaped("say \"hi\" \\ bye").c_str(), "say \\\"hi\\\" \\\\ bye");
  assert_string_equal(json_escaped("a\nb\tc\rd").c_str(), "a\\u000ab\\u0009c\\u000dd");
  assert_string_equal(json_escaped(std::string_view("\x00\x1f\x7f", 3)).c_str(),
                      "\\u0000\\u001f\\u007f");
  // UTF-8 goes as is: valid JSON, and what the gateway shows.
  assert_string_equal(json_escaped("Studio N\xc3\xb8rd \xe2\x80\xa2").c_str(),
                      "Studio N\xc3\xb8rd \xe2\x80\xa2");
  // Nothing a value holds can end the string early or start another key.
  const std::string hostile = json_escaped("\", \"to\": \"+10000000000");
  for (std::size_t at = hostile.find('"'); at != std::string::npos;
       at = hostile.find('"', at + 1)) {
    assert_true(at > 0 && hostile[at - 1] == '\\');
  }
}

// --- templates ------------------------------------------------------------------------------

void test_form_template(void**)
{
  const BodyTemplate body =
      parse_ok("To={number}&From=%2B15005550006&Body={message}", BodyFormat::form);
  assert_int_equal(static_cast<int>(body.format()), static_cast<int>(BodyFormat::form));
  assert_string_equal(rendered(body, "+447946004567", "042917 is your code. A&B=C+D").c_str(),
                      "To=%2B447946004567&From=%2B15005550006&Body=042917%20is%20your%20code."
                      "%20A%26B%3DC%2BD");
  // {kind}, a placeholder used twice, and text around them.
  const BodyTemplate twice =
      parse_ok("n={number}&m={message}&k={kind}&again={number}", BodyFormat::form);
  assert_string_equal(rendered(twice, "+15551234567", "1, 2", "voice").c_str(),
                      "n=%2B15551234567&m=1%2C%202&k=voice&again=%2B15551234567");
  assert_string_equal(content_type(BodyFormat::form), "application/x-www-form-urlencoded");
}

void test_json_template(void**)
{
  const BodyTemplate body =
      parse_ok("{\"to\": \"{number}\", \"text\": \"{message}\", \"channel\": \"{kind}\", \"n\": 1}",
               BodyFormat::json);
  assert_string_equal(
      rendered(body, "+447946004567", "Code \"042917\"\nbye\\", "sms").c_str(),
      "{\"to\": \"+447946004567\", \"text\": \"Code \\\"042917\\\"\\u000abye\\\\\", "
      "\"channel\": \"sms\", \"n\": 1}");
  // Inside a string, with other text: "call {number} now".
  const BodyTemplate inside = parse_ok("[{\"m\": \"to {number}: {message}!\"}]", BodyFormat::json);
  assert_string_equal(rendered(inside, "+15551234567", "x").c_str(),
                      "[{\"m\": \"to +15551234567: x!\"}]");
  // An escaped quote inside a string does not end it, and "\{number}" is text.
  const BodyTemplate escaped =
      parse_ok("{\"a\": \"say \\\"{message}\\\"\", \"to\": \"{number}\", \"b\": \"\\{kind}\"}",
               BodyFormat::json);
  assert_string_equal(rendered(escaped, "+15551234567", "hi").c_str(),
                      "{\"a\": \"say \\\"hi\\\"\", \"to\": \"+15551234567\", \"b\": \"\\{kind}\"}");
  assert_string_equal(content_type(BodyFormat::json), "application/json");
}

void test_template_refusals(void**)
{
  assert_refused("", BodyFormat::form, "must contain {number} and {message}");
  assert_refused("to={number}", BodyFormat::form, "must contain {number} and {message}");
  assert_refused("m={message}", BodyFormat::form, "must contain {number} and {message}");
  assert_refused("to={number}&m={msg}", BodyFormat::form, "unknown placeholder {msg}");
  assert_refused("to={number}&m={message}&x={Number}", BodyFormat::form, "must be percent-encoded");
  assert_refused("to={number}&m={message}\t", BodyFormat::form, "control characters");
  assert_refused("to={number}&from=+15005550006&m={message}", BodyFormat::form, "write %2B");
  assert_refused("to={number}&m=a {message}", BodyFormat::form, "%20");
  assert_refused("to={number}&m={message}%2", BodyFormat::form, "must start an escape");
  assert_refused("to={number}&m={message}%zz", BodyFormat::form, "must start an escape");
  assert_refused("to={number}&m={message}#", BodyFormat::form, "percent-encoded");
  assert_refused("to={number}&m={message}\xc3\xa9", BodyFormat::form, "percent-encoded");
  assert_refused("to=\"{number}\"&m={message}", BodyFormat::form, "percent-encoded");

  assert_refused("to={number}&m={message}", BodyFormat::json, "must be a JSON object");
  assert_refused("{\"to\": {number}, \"m\": \"{message}\"}", BodyFormat::json,
                 "{number} must stand inside a string's quotes");
  assert_refused("{\"to\": \"{number}\", \"m\": \"{message}}", BodyFormat::json,
                 "leaves a string open");
  assert_refused("{\"to\": \"{number}\", \"m\": \"{message}\\\"}", BodyFormat::json,
                 "leaves a string open");
  assert_refused("{\"to\": \"{number}\", \"m\": \"{message}\", \"x\": \"{code}\"}",
                 BodyFormat::json, "unknown placeholder {code}");
}

void test_template_bounds(void**)
{
  std::string longest = "to={number}&m={message}&pad=";
  longest.append(BodyTemplate::k_max_template_size - longest.size(), 'x');
  parse_ok(longest, BodyFormat::form);
  assert_refused(longest + "x", BodyFormat::form, "longer than 2048 bytes");

  std::string many = "to={number}";
  for (std::size_t i = 1; i < BodyTemplate::k_max_placeholders; ++i) {
    many += "&m={message}";
  }
  parse_ok(many, BodyFormat::form);
  assert_refused(many + "&k={kind}", BodyFormat::form, "more than 16 placeholders");

  // The largest body: every byte of a long message escaped six ways in JSON, with no overflow
  // of the buffer render() sized.
  std::string json = "{\"to\": \"{number}\"";
  for (std::size_t i = 1; i < BodyTemplate::k_max_placeholders; ++i) {
    json += ", \"m\": \"{message}\"";
  }
  json += "}";
  const BodyTemplate body = parse_ok(json, BodyFormat::json);
  const std::string controls(400, '\x01');
  const std::string out = rendered(body, "+15551234567", controls);
  assert_int_equal(out.size(), json.size() - 15 * 9 - 8 + 12 + 15 * 400 * 6);
}

// --- HttpsSender::create ----------------------------------------------------------------------

struct TempDir {
  std::string path;
  std::string file(const std::string& name) const { return path + "/" + name; }
};

int make_temp_dir(void** state)
{
  char templ[] = "/tmp/s2fa-https-XXXXXX";
  if (mkdtemp(templ) == nullptr) {
    return -1;
  }
  *state = new TempDir{templ};
  return 0;
}

int remove_temp_dir(void** state)
{
  auto* dir = static_cast<TempDir*>(*state);
  const std::string command = "rm -rf '" + dir->path + "'";
  const int rc = std::system(command.c_str());
  delete dir;
  return rc == 0 ? 0 : -1;
}

void write_file(const std::string& path, const std::string& text, mode_t mode)
{
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  assert_int_equal(chmod(path.c_str(), mode), 0);
}

HttpsGateway gateway_with(const std::string& auth_file)
{
  HttpsGateway gateway;
  gateway.url = "https://127.0.0.1:1/sms";
  gateway.body_template = "to={number}&m={message}";
  gateway.auth_header_file = auth_file;
  return gateway;
}

void assert_create_refused(const HttpsGateway& gateway, const char* says)
{
  auto sender = HttpsSender::create(gateway, PhoneChannel::sms);
  if (sender) {
    fail_msg("the sender was made; expected: %s", says);
  }
  if (sender.error().message.find(says) == std::string::npos) {
    fail_msg("'%s' does not say '%s'", sender.error().message.c_str(), says);
  }
}

void test_create_refuses_bad_gateways(void**)
{
  HttpsGateway plain = gateway_with("");
  plain.url = "http://127.0.0.1:1/sms";
  assert_create_refused(plain, "sms_url must be an https:// URL");
  HttpsGateway no_template = gateway_with("");
  no_template.body_template = "to={number}";
  assert_create_refused(no_template, "sms_body_template: the body template must contain");
  HttpsGateway no_ca = gateway_with("");
  no_ca.ca_file = "/nonexistent/ca.pem";
  assert_create_refused(no_ca, "cannot read sms_ca_file /nonexistent/ca.pem");
  assert_true(HttpsSender::create(gateway_with(""), PhoneChannel::voice).has_value());
}

// The auth header file is root's and closed to others, and holds header lines only; an error
// never quotes the file's text (it is a credential).
void test_auth_header_file(void** state)
{
  if (geteuid() != 0) {
    skip();
  }
  const auto& dir = *static_cast<TempDir*>(*state);
  const std::string path = dir.file("gateway.auth");
  const std::string secret = "Authorization: Bearer s3cr3t-t0ken";

  write_file(path, secret + "\r\nX-Api-Key: k3y\n\n", 0600);
  assert_true(HttpsSender::create(gateway_with(path), PhoneChannel::sms).has_value());
  write_file(path, secret + "\n", 0400);
  assert_true(HttpsSender::create(gateway_with(path), PhoneChannel::sms).has_value());

  for (const mode_t mode : {0644, 0640, 0604, 0660}) {
    write_file(path, secret + "\n", mode);
    assert_create_refused(gateway_with(path), "must be owned by root with mode 0600");
  }
  write_file(path, secret + "\n", 0600);
  assert_int_equal(chown(path.c_str(), 1, 1), 0);
  assert_create_refused(gateway_with(path), "must be owned by root with mode 0600");
  assert_int_equal(chown(path.c_str(), 0, 0), 0);

  const std::string link = dir.file("link.auth");
  assert_int_equal(symlink(path.c_str(), link.c_str()), 0);
  assert_create_refused(gateway_with(link), "cannot open sms_auth_header_file");
  assert_create_refused(gateway_with(dir.file("missing.auth")), "cannot open");
  write_file(path, "", 0600);
  assert_create_refused(gateway_with(path), "is empty");

  for (const std::string& bad :
       {std::string("Bearer s3cr3t-t0ken\n"), std::string("Authorization:\n"),
        std::string(": s3cr3t-t0ken\n"), std::string("Author ization: s3cr3t-t0ken\n"),
        secret + "\rX-Evil: 1\n", secret + "\nGET / HTTP/1.1 s3cr3t-t0ken\n"}) {
    write_file(path, bad, 0600);
    auto sender = HttpsSender::create(gateway_with(path), PhoneChannel::sms);
    assert_false(sender.has_value());
    assert_true(sender.error().message.find("is not a header line") != std::string::npos);
    assert_true(sender.error().message.find("s3cr3t") == std::string::npos);
  }
  std::string nine;
  for (int i = 0; i < 9; ++i) {
    nine += "X-Header-" + std::to_string(i) + ": v\n";
  }
  write_file(path, nine, 0600);
  assert_create_refused(gateway_with(path), "more than 8 header lines");
  write_file(path, "X-Big: " + std::string(HttpsSender::k_max_auth_file_size, 'a') + "\n", 0600);
  assert_create_refused(gateway_with(path), "is larger than 8192 bytes");
}

} // namespace

int main()
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_form_escaping_matches_curl),
      cmocka_unit_test(test_json_escaping),
      cmocka_unit_test(test_form_template),
      cmocka_unit_test(test_json_template),
      cmocka_unit_test(test_template_refusals),
      cmocka_unit_test(test_template_bounds),
      cmocka_unit_test(test_create_refuses_bad_gateways),
      cmocka_unit_test_setup_teardown(test_auth_header_file, make_temp_dir, remove_temp_dir),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
