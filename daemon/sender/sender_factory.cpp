#include "sender_factory.hpp"

#include "command_sender.hpp"
#include "https_sender.hpp"

#include <chrono>

namespace studio2fa {

namespace {

ChannelSender pooled(std::unique_ptr<CodeSender> sender, const Config& config)
{
  ChannelSender out;
  out.sender = std::move(sender);
  out.pool = std::make_unique<SenderPool>(*out.sender, config.sender_concurrency,
                                          std::chrono::milliseconds(config.send_timeout));
  return out;
}

} // namespace

Expected<ChannelSender> make_sender_pool(const Config& config, PhoneChannel channel)
{
  const bool voice = channel == PhoneChannel::voice;
  const std::vector<std::string>& command = voice ? config.voice_command : config.sms_command;
  const HttpsGateway& gateway = voice ? config.voice_gateway : config.sms_gateway;
  if (!gateway.url.empty()) {
    if (!command.empty()) {
      return make_error(Errc::invalid, std::string(voice ? "voice" : "sms") + "_command and " +
                                           (voice ? "voice" : "sms") +
                                           "_url are both set: choose one sender");
    }
    auto sender = HttpsSender::create(gateway, channel); // reads the auth header file now
    if (!sender) {
      return make_error(Errc::invalid, sender.error().message); // names the key already
    }
    return pooled(std::make_unique<HttpsSender>(std::move(*sender)), config);
  }
  if (!command.empty()) {
    auto sender = CommandSender::create(command, config.sender_user);
    if (!sender) {
      return make_error(Errc::invalid, std::string(voice ? "voice_command" : "sms_command") + ": " +
                                           sender.error().message);
    }
    return pooled(std::make_unique<CommandSender>(std::move(*sender)), config);
  }
  return ChannelSender{};
}

} // namespace studio2fa
