#include "https_sender.hpp"

#include "fd.hpp"
#include "file_safety.hpp"

#include <algorithm>
#include <cstring>
#include <curl/curl.h>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <openssl/crypto.h>

namespace studio2fa {

namespace {

using Clock = std::chrono::steady_clock;

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

// The header list holds the auth header: wiped before libcurl frees it.
struct HeaderListDeleter {
  void operator()(curl_slist* list) const
  {
    for (curl_slist* item = list; item != nullptr; item = item->next) {
      OPENSSL_cleanse(item->data, std::strlen(item->data));
    }
    curl_slist_free_all(list);
  }
};
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

bool is_token_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// A header line as RFC 9110 has it: a token, ':', and a value without control characters
// (which would let the file smuggle in a second request).
bool is_header_line(std::string_view line)
{
  const std::size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon > 64 ||
      !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                   is_token_char)) {
    return false;
  }
  const std::string_view value = line.substr(colon + 1);
  if (value.find_first_not_of(" \t") == std::string_view::npos) {
    return false;
  }
  return std::none_of(value.begin(), value.end(), [](char c) {
    return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
  });
}

// The auth header file's lines, each followed by '\0'. Blank lines are skipped.
Expected<SecretBytes> read_auth_lines(const std::string& path, const std::string& key)
{
  auto content = read_private_file(path, HttpsSender::k_max_auth_file_size, key.c_str());
  if (!content) {
    return make_error(Errc::invalid, content.error().message);
  }
  SecretBytes lines(content->size() + 1);
  std::uint8_t* out = lines.data();
  std::size_t count = 0;
  std::string_view rest = content->view();
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      continue;
    }
    // The error names the line, never its text: that holds the credential.
    if (!is_header_line(line)) {
      return make_error(Errc::invalid, path + " (" + key + "): line " + std::to_string(count + 1) +
                                           " is not a header line such as "
                                           "'Authorization: Bearer ...'");
    }
    if (++count > HttpsSender::k_max_auth_lines) {
      return make_error(Errc::invalid, path + " (" + key + ") holds more than " +
                                           std::to_string(HttpsSender::k_max_auth_lines) +
                                           " header lines");
    }
    out = std::copy(line.begin(), line.end(), out);
    *out++ = '\0';
  }
  lines.truncate(static_cast<std::size_t>(out - lines.data()));
  return lines;
}

std::int64_t elapsed_ms(Clock::time_point start)
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// The answer's body: counted, never kept (it may echo the message).
std::size_t discard_answer(char*, std::size_t size, std::size_t count, void*)
{
  return size * count;
}

// Why a transfer failed, in words for the log.
std::string transfer_problem(CURLcode code, const char* detail, std::chrono::milliseconds deadline)
{
  const std::string why =
      std::string(*detail != '\0' ? detail : curl_easy_strerror(code)).substr(0, 200);
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return "no answer within " + std::to_string(deadline.count()) + " ms";
  }
  // CURLE_SSL_CACERT (an unknown CA) is CURLE_PEER_FAILED_VERIFICATION from libcurl 7.62 on.
  if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT) {
    return "certificate verify failed: " + why;
  }
  return "cannot reach the gateway: " + why;
}

} // namespace

bool init_https_senders()
{
  static std::once_flag once;
  static bool ready = false;
  std::call_once(once, [] { ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; });
  return ready;
}

Expected<HttpsSender> HttpsSender::create(const HttpsGateway& gateway, PhoneChannel channel)
{
  const std::string prefix = name(channel);
  if (!init_https_senders()) {
    return make_error("cannot initialise libcurl");
  }
  if (!gateway.url.starts_with("https://")) {
    return make_error(Errc::invalid, prefix + "_url must be an https:// URL");
  }
  auto body = BodyTemplate::parse(gateway.body_template, gateway.content_type);
  if (!body) {
    return make_error(Errc::invalid, prefix + "_body_template: " + body.error().message);
  }
  SecretBytes auth_lines;
  if (!gateway.auth_header_file.empty()) {
    auto lines = read_auth_lines(gateway.auth_header_file, prefix + "_auth_header_file");
    if (!lines) {
      return make_error(Errc::invalid, lines.error().message);
    }
    auth_lines = std::move(*lines);
  }
  if (!gateway.ca_file.empty()) {
    Fd ca(::open(gateway.ca_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ca.valid()) {
      return make_error(Errc::invalid, "cannot read " + prefix + "_ca_file " + gateway.ca_file +
                                           ": " + std::strerror(errno));
    }
  }
  return HttpsSender(gateway.url, std::move(*body), std::move(auth_lines), gateway.ca_file);
}

SendOutcome HttpsSender::send(const OutgoingCode& code, std::chrono::milliseconds deadline)
{
  const Clock::time_point start = Clock::now();
  SendOutcome outcome;
  auto failed = [&](std::string problem) {
    outcome.elapsed_ms = elapsed_ms(start);
    outcome.problem = std::move(problem);
    return outcome;
  };
  // libcurl takes 0 as "no timeout".
  const long timeout_ms = std::max<long>(1, static_cast<long>(deadline.count()));

  CurlEasy curl(curl_easy_init());
  if (!curl) {
    return failed("cannot make a libcurl handle");
  }
  const SecretBytes body = m_body.render(code.number, code.message.view(), name(code.channel));

  HeaderList headers;
  auto add_header = [&](const char* line) {
    curl_slist* longer = curl_slist_append(headers.get(), line);
    if (longer == nullptr) {
      return false;
    }
    (void)headers.release();
    headers.reset(longer);
    return true;
  };
  const std::string type_line = std::string("Content-Type: ") + content_type(m_body.format());
  bool listed = add_header(type_line.c_str()) && add_header("Expect:");
  for (std::string_view rest = m_auth_lines.view(); listed && !rest.empty();) {
    listed = add_header(rest.data()); // each line ends in '\0'
    rest.remove_prefix(std::min(rest.size(), std::strlen(rest.data()) + 1));
  }
  if (!listed) {
    return failed("cannot build the request's headers");
  }

  char detail[CURL_ERROR_SIZE] = "";
  CURL* handle = curl.get();
  bool set = curl_easy_setopt(handle, CURLOPT_URL, m_url.c_str()) == CURLE_OK;
  // https and nothing else, even where a redirect would lead (none is followed).
#if LIBCURL_VERSION_NUM >= 0x075500
  set = set && curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "https") == CURLE_OK;
#else
  set = set && curl_easy_setopt(handle, CURLOPT_PROTOCOLS, long{CURLPROTO_HTTPS}) == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS, long{CURLPROTO_HTTPS}) == CURLE_OK;
#endif
  set = set && curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
  set = set &&
        curl_easy_setopt(handle, CURLOPT_SSLVERSION, long{CURL_SSLVERSION_TLSv1_2}) == CURLE_OK;
  if (!m_ca_file.empty()) {
    // Only the private CA: not the system's as well.
    set = set && curl_easy_setopt(handle, CURLOPT_CAINFO, m_ca_file.c_str()) == CURLE_OK;
    set = set && curl_easy_setopt(handle, CURLOPT_CAPATH, nullptr) == CURLE_OK;
  }
  // Threads other than the caller's must never see a signal from libcurl (its timeouts use
  // SIGALRM otherwise), and the deadline covers connecting, TLS and the answer together.
  set = set && curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_USERAGENT, "studio2fad") == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get()) == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_POST, 1L) == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                                static_cast<curl_off_t>(body.size())) == CURLE_OK;
  // Not copied by libcurl (CURLOPT_COPYPOSTFIELDS would be): `body` outlives the transfer.
  set = set && curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data()) == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, discard_answer) == CURLE_OK;
  set = set && curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, detail) == CURLE_OK;
  if (!set) {
    return failed("libcurl refused an option");
  }

  const CURLcode result = curl_easy_perform(handle);
  if (result != CURLE_OK) {
    return failed(transfer_problem(result, detail, deadline));
  }
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    return failed("the gateway answered " + std::to_string(status) +
                  (status >= 300 && status < 400 ? " (redirects are not followed)" : ""));
  }
  outcome.accepted = true;
  outcome.elapsed_ms = elapsed_ms(start);
  return outcome;
}

} // namespace studio2fa
