// The sender of each channel, as studio2fad.conf configures it: one place that turns the
// sender keys into a CodeSender and the SenderPool that bounds it. A new kind of sender is a
// branch here and its keys in config.cpp; PhoneDispatch and main() do not change.
#pragma once

#include "code_sender.hpp"
#include "config.hpp"
#include "expected.hpp"
#include "phone_message.hpp"
#include "sender_pool.hpp"

#include <memory>

namespace studio2fa {

// A channel's sender and its pool; both null when the channel is not configured.
struct ChannelSender {
  std::unique_ptr<CodeSender> sender;
  std::unique_ptr<SenderPool> pool; // refers to *sender

  bool configured() const { return pool != nullptr; }
};

// The sender of `channel` (sms_command / voice_command run as sender_user, with send_timeout
// and sender_concurrency), or an unconfigured one when no sender key of that channel is set.
// Errc::invalid, naming the key, when a configured sender cannot be made (sender_user unknown).
Expected<ChannelSender> make_sender_pool(const Config& config, PhoneChannel channel);

} // namespace studio2fa
