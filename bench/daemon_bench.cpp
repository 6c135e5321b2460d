// daemon_bench: studio2fad alone, over its socket: code verifications (AUTHENTICATE, code only)
// for distinct enrolled users from C connections, each sending its next request as soon as the
// last one is answered.
//
//   daemon_bench --socket PATH --users FILE --first K --count L --clients C [--warm 1|only]
//
// --warm 1: before the timed logins, one STATUS per user (untimed), so that the daemon has read
// each record once, as on a host the user logged in to before (a directory store's warm copy);
// --warm only: those STATUS requests and nothing else.
#include "bench_users.hpp"
#include "client.hpp"
#include "latency.hpp"
#include "protocol.hpp"

#include <atomic>
#include <thread>

using namespace studio2fa;
using namespace studio2fa::bench;

int main(int argc, char** argv)
{
  std::string socket_path, users_file;
  std::size_t first = 0, count = 0;
  unsigned clients = 1;
  std::string warm;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string option = argv[i], value = argv[i + 1];
    if (option == "--socket")
      socket_path = value;
    else if (option == "--users")
      users_file = value;
    else if (option == "--first")
      first = std::stoul(value);
    else if (option == "--count")
      count = std::stoul(value);
    else if (option == "--clients")
      clients = static_cast<unsigned>(std::stoul(value));
    else if (option == "--warm")
      warm = value;
    else {
      fprintf(stderr, "daemon_bench: unknown option %s\n", option.c_str());
      return 2;
    }
  }
  std::vector<BenchUser> users;
  try {
    users = read_users(users_file, first, count);
  } catch (const std::exception& e) {
    fprintf(stderr, "daemon_bench: %s\n", e.what());
    return 2;
  }

  if (warm == "1" || warm == "only") {
    Client client;
    if (client.connect(socket_path.c_str(), 10000) != ClientError::none) {
      fprintf(stderr, "daemon_bench: cannot connect\n");
      return 1;
    }
    wire::FrameBuffer request, reply;
    for (const BenchUser& user : users) {
      protocol::StatusRequest msg;
      msg.user = user.name;
      protocol::encode(msg, request);
      if (client.call(request, reply) != ClientError::none ||
          reply.type() != protocol::reply_type(protocol::MessageType::status)) {
        fprintf(stderr, "daemon_bench: STATUS of %s failed\n", user.name.c_str());
        return 1;
      }
    }
    if (warm == "only") {
      return 0;
    }
  }

  std::atomic<std::size_t> next{0}, ok{0}, failed{0};
  Latencies latencies;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (unsigned c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      Client client;
      if (client.connect(socket_path.c_str(), 10000) != ClientError::none) {
        fprintf(stderr, "daemon_bench: cannot connect\n");
        return;
      }
      std::vector<double> samples;
      wire::FrameBuffer request, reply;
      for (std::size_t i = next++; i < users.size(); i = next++) {
        std::string code = current_code(users[i]);
        protocol::AuthenticateRequest msg;
        msg.user = users[i].name;
        msg.service = "bench";
        msg.mode = protocol::AuthMode::code_only;
        msg.code = code;
        protocol::encode(msg, request);
        auto begin = std::chrono::steady_clock::now();
        protocol::AuthenticateReply result;
        bool good = client.call(request, reply) == ClientError::none &&
                    reply.type() == protocol::reply_type(protocol::MessageType::authenticate) &&
                    protocol::decode(reply.payload(), result) &&
                    result.result == protocol::AuthResult::success;
        samples.push_back(ms_since(begin));
        (good ? ok : failed)++;
      }
      latencies.add(samples);
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  print_result("daemon", clients, ok, failed, ms_since(start) / 1000.0, latencies);
  return 0;
}
