// The PAM conversation, as the module uses it: hidden prompts and messages to the user.
#pragma once

#include <security/pam_modules.h>

#include <cstddef>

namespace studio2fa {

// An answer typed at a prompt; wiped and freed when it goes away.
class Answer {
public:
  Answer() = default;
  Answer(const Answer&) = delete;
  Answer& operator=(const Answer&) = delete;
  ~Answer();

  const char* get() const { return m_text != nullptr ? m_text : ""; }
  char** out() { return &m_text; }
  void swap(Answer& other)
  {
    char* mine = m_text;
    m_text = other.m_text;
    other.m_text = mine;
  }

private:
  char* m_text = nullptr;
};

// Asks with echo off. Returns a PAM status (PAM_CONV_ERR when the application has no answer).
int prompt_hidden(pam_handle_t* pamh, const char* prompt, Answer& answer);

// A message shown as PAM_TEXT_INFO / PAM_ERROR_MSG; nothing is shown when `flags` has
// PAM_SILENT.
void tell(pam_handle_t* pamh, int flags, const char* text);
void tell_error(pam_handle_t* pamh, int flags, const char* text);

// Shows `count` lines as PAM_TEXT_INFO messages, in as few conversation calls as Linux-PAM
// allows (PAM_MAX_NUM_MSG each). Returns a PAM status.
int show_lines(pam_handle_t* pamh, const char* const* lines, std::size_t count);

} // namespace studio2fa
