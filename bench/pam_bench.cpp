// pam_bench: whole logins through the real libpam (pam_start_confdir → pam_authenticate →
// pam_end), each for a distinct user with the code that user's app shows now, from C parallel
// clients. Any PAM stack can be measured the same way: studio2fa, pam_permit, Google
// Authenticator, pam_oath.
//
//   pam_bench --confdir DIR --service NAME --users FILE --first K --count L --clients C
//             [--password PW] [--label TEXT]
// Hidden prompts mentioning "assword" get PW; every other prompt gets the current code.
#include "bench_users.hpp"
#include "latency.hpp"

#include <security/pam_appl.h>

#include <atomic>
#include <cstring>
#include <thread>

using namespace studio2fa;
using namespace studio2fa::bench;

namespace {

struct ConversationData {
  const BenchUser* user;
  const std::string* password;
};

int conversation(int count, const pam_message** messages, pam_response** responses, void* data)
{
  auto* conv = static_cast<ConversationData*>(data);
  auto* replies = static_cast<pam_response*>(calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
  if (replies == nullptr) {
    return PAM_BUF_ERR;
  }
  for (int i = 0; i < count; ++i) {
    int style = messages[i]->msg_style;
    if (style == PAM_PROMPT_ECHO_OFF || style == PAM_PROMPT_ECHO_ON) {
      bool wants_password = strstr(messages[i]->msg, "assword") != nullptr &&
                            strstr(messages[i]->msg, "One-time") == nullptr;
      replies[i].resp = strdup(wants_password ? conv->password->c_str()
                                              : current_code(*conv->user).c_str());
    }
  }
  *responses = replies;
  return PAM_SUCCESS;
}

} // namespace

int main(int argc, char** argv)
{
  std::string confdir, service, users_file, password = "unused", label = "pam";
  std::size_t first = 0, count = 0;
  unsigned clients = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string option = argv[i], value = argv[i + 1];
    if (option == "--confdir") confdir = value;
    else if (option == "--service") service = value;
    else if (option == "--users") users_file = value;
    else if (option == "--first") first = std::stoul(value);
    else if (option == "--count") count = std::stoul(value);
    else if (option == "--clients") clients = static_cast<unsigned>(std::stoul(value));
    else if (option == "--password") password = value;
    else if (option == "--label") label = value;
    else {
      fprintf(stderr, "pam_bench: unknown option %s\n", option.c_str());
      return 2;
    }
  }
  std::vector<BenchUser> users;
  try {
    users = read_users(users_file, first, count);
  } catch (const std::exception& e) {
    fprintf(stderr, "pam_bench: %s\n", e.what());
    return 2;
  }

  std::atomic<std::size_t> next{0}, ok{0}, failed{0};
  Latencies latencies;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (unsigned c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      std::vector<double> samples;
      for (std::size_t i = next++; i < users.size(); i = next++) {
        ConversationData data{&users[i], &password};
        pam_conv conv{conversation, &data};
        auto begin = std::chrono::steady_clock::now();
        pam_handle_t* pamh = nullptr;
        int rc = pam_start_confdir(service.c_str(), users[i].name.c_str(), &conv,
                                   confdir.c_str(), &pamh);
        if (rc == PAM_SUCCESS) {
          rc = pam_authenticate(pamh, PAM_SILENT);
        }
        pam_end(pamh, rc);
        samples.push_back(ms_since(begin));
        (rc == PAM_SUCCESS ? ok : failed)++;
      }
      latencies.add(samples);
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  double seconds = ms_since(start) / 1000.0;
  print_result(label.c_str(), clients, ok, failed, seconds, latencies);
  return 0;
}
