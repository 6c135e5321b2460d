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

} // namespace studio2fa
