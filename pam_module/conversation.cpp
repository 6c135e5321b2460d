#include "conversation.hpp"

#include "secure_memory.hpp"

#include <security/pam_ext.h>

#include <cstdlib>
#include <cstring>

namespace studio2fa {

Answer::~Answer()
{
  if (m_text != nullptr) {
    secure_wipe(m_text, strlen(m_text));
    free(m_text);
  }
}

int prompt_hidden(pam_handle_t* pamh, const char* prompt, Answer& answer)
{
  int rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, answer.out(), "%s", prompt);
  if (rc == PAM_SUCCESS && *answer.out() == nullptr) {
    return PAM_CONV_ERR;
  }
  return rc;
}

void tell(pam_handle_t* pamh, int flags, const char* text)
{
  if ((flags & PAM_SILENT) == 0) {
    pam_info(pamh, "%s", text);
  }
}

void tell_error(pam_handle_t* pamh, int flags, const char* text)
{
  if ((flags & PAM_SILENT) == 0) {
    pam_error(pamh, "%s", text);
  }
}

int show_lines(pam_handle_t* pamh, const char* const* lines, std::size_t count)
{
  const void* item = nullptr;
  if (pam_get_item(pamh, PAM_CONV, &item) != PAM_SUCCESS || item == nullptr) {
    return PAM_CONV_ERR;
  }
  const auto* conv = static_cast<const pam_conv*>(item);
  if (conv->conv == nullptr) {
    return PAM_CONV_ERR;
  }
  while (count > 0) {
    const std::size_t batch = count < PAM_MAX_NUM_MSG ? count : PAM_MAX_NUM_MSG;
    pam_message messages[PAM_MAX_NUM_MSG];
    const pam_message* pointers[PAM_MAX_NUM_MSG];
    for (std::size_t i = 0; i < batch; ++i) {
      messages[i].msg_style = PAM_TEXT_INFO;
      messages[i].msg = lines[i];
      pointers[i] = &messages[i];
    }
    pam_response* responses = nullptr;
    const int rc = conv->conv(static_cast<int>(batch), pointers, &responses, conv->appdata_ptr);
    if (responses != nullptr) {
      for (std::size_t i = 0; i < batch; ++i) {
        if (responses[i].resp != nullptr) {
          secure_wipe(responses[i].resp, strlen(responses[i].resp));
          free(responses[i].resp);
        }
      }
      free(responses);
    }
    if (rc != PAM_SUCCESS) {
      return rc;
    }
    lines += batch;
    count -= batch;
  }
  return PAM_SUCCESS;
}

} // namespace studio2fa
