// Sends one message through the HTTPS sender a studio2fad.conf describes, without the daemon:
//
//   send_code CONFIG sms|voice NUMBER DEADLINE_MS < MESSAGE
//
// The message is read from standard input (never argv, as in the daemon). Prints what the
// daemon would log of the send and exits 0 when the gateway accepted the message, 1 when it did
// not, 2 when the config or the sender could not be made (tests/integration/https_sender.sh).
#include "config.hpp"
#include "https_sender.hpp"
#include "phone_number.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

using namespace studio2fa;

namespace {

SecretBytes read_message()
{
  SecretBytes buffer(4096);
  std::size_t got = 0;
  while (got < buffer.size()) {
    const ssize_t n = read(STDIN_FILENO, buffer.data() + got, buffer.size() - got);
    if (n <= 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  buffer.truncate(got);
  return buffer;
}

} // namespace

int main(int argc, char** argv)
{
  if (argc != 5) {
    std::fprintf(stderr, "usage: send_code CONFIG sms|voice NUMBER DEADLINE_MS < MESSAGE\n");
    return 2;
  }
  const std::string channel_name = argv[2];
  if (channel_name != "sms" && channel_name != "voice") {
    std::fprintf(stderr, "send_code: the channel is sms or voice\n");
    return 2;
  }
  const PhoneChannel channel = channel_name == "voice" ? PhoneChannel::voice : PhoneChannel::sms;
  if (!init_https_senders()) {
    std::fprintf(stderr, "send_code: cannot initialise libcurl\n");
    return 2;
  }
  auto config = load_config(argv[1]);
  if (!config) {
    std::fprintf(stderr, "send_code: %s\n", config.error().message.c_str());
    return 2;
  }
  const HttpsGateway& gateway =
      channel == PhoneChannel::voice ? config->voice_gateway : config->sms_gateway;
  auto sender = HttpsSender::create(gateway, channel);
  if (!sender) {
    std::fprintf(stderr, "send_code: %s\n", sender.error().message.c_str());
    return 2;
  }
  OutgoingCode code;
  code.channel = channel;
  code.number = argv[3];
  code.message = read_message();
  const SendOutcome outcome =
      sender->send(code, std::chrono::milliseconds(std::strtol(argv[4], nullptr, 10)));
  if (outcome.accepted) {
    std::printf("%s\n", sent_detail(channel, code.number, outcome.elapsed_ms).c_str());
    return 0;
  }
  std::printf("could not send a code (%s, %s) after %lld ms: %s\n", name(channel),
              phone::mask(code.number).c_str(), static_cast<long long>(outcome.elapsed_ms),
              outcome.problem.c_str());
  return 1;
}
