// studio2fa-admin: administration of studio2fa. See studio2fa-admin(8).
#include <config.h>

#include "daemon_connection.hpp"

#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <string>

namespace {

using namespace studio2fa;

void usage(FILE* out)
{
  fprintf(out, "Usage: studio2fa-admin [--socket PATH] COMMAND\n"
               "\n"
               "Commands:\n"
               "  status USER   whether USER has two-factor authentication on, and the state of\n"
               "                their wrong-code throttle\n"
               "  ping          check that studio2fad answers\n"
               "\n"
               "Options:\n"
               "  --socket PATH the studio2fad socket (default %s)\n"
               "  -h, --help    show this help\n"
               "  -V, --version show the version\n",
               k_default_socket_path);
}

int fail(const std::string& message)
{
  fprintf(stderr, "studio2fa-admin: %s\n", message.c_str());
  return 1;
}

int status(DaemonConnection& daemon, const std::string& user)
{
  wire::FrameBuffer request;
  wire::FrameBuffer reply;
  if (!protocol::encode(protocol::StatusRequest{user}, request)) {
    return fail("user name too long");
  }
  if (auto called = daemon.call(request, reply, protocol::MessageType::status); !called) {
    return fail(called.error().message);
  }
  protocol::StatusReply status;
  if (!protocol::decode(reply.payload(), status)) {
    return fail("the daemon sent a status reply that does not decode");
  }
  const char* state = status.state == protocol::EnrollmentState::active    ? "on"
                      : status.state == protocol::EnrollmentState::pending ? "pending"
                                                                             : "off";
  printf("user: %s\n2fa: %s\n", user.c_str(), state);
  if (status.state == protocol::EnrollmentState::active) {
    time_t t = static_cast<time_t>(status.enrolled_at);
    tm utc{};
    gmtime_r(&t, &utc);
    char text[32];
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
    printf("enrolled: %s\n", text);
  }
  printf("failures: %u\nretry_after: %u\n", status.failures, status.retry_after);
  return 0;
}

int ping(DaemonConnection& daemon)
{
  wire::FrameBuffer request;
  wire::FrameBuffer reply;
  protocol::encode(protocol::PingRequest{}, request);
  if (auto called = daemon.call(request, reply, protocol::MessageType::ping); !called) {
    return fail(called.error().message);
  }
  printf("studio2fad is answering\n");
  return 0;
}

} // namespace

int main(int argc, char** argv)
{
  static const option k_options[] = {
    {"socket", required_argument, nullptr, 's'},
    {"help", no_argument, nullptr, 'h'},
    {"version", no_argument, nullptr, 'V'},
    {nullptr, 0, nullptr, 0},
  };
  const char* socket_path = k_default_socket_path;
  int opt;
  while ((opt = getopt_long(argc, argv, "+hV", k_options, nullptr)) != -1) {
    switch (opt) {
    case 's':
      socket_path = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      printf("studio2fa-admin %s\n", PACKAGE_VERSION);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  std::string command = argv[optind++];
  int operands = argc - optind;
  if ((command == "status" && operands != 1) || (command == "ping" && operands != 0)) {
    fprintf(stderr, "studio2fa-admin: wrong number of arguments for '%s'\n", command.c_str());
    usage(stderr);
    return 2;
  }
  if (command != "status" && command != "ping") {
    fprintf(stderr, "studio2fa-admin: unknown command '%s'\n", command.c_str());
    usage(stderr);
    return 2;
  }
  if (getuid() != 0) {
    return fail("this command is for root (run it with sudo)");
  }
  DaemonConnection daemon;
  if (auto connected = daemon.connect(socket_path); !connected) {
    return fail(connected.error().message);
  }
  return command == "status" ? status(daemon, argv[optind]) : ping(daemon);
}
