// A minimal expected<T, E> (std::expected is C++23): a value or an error, never both.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace studio2fa {

// What kind of failure an Error is: what callers branch on. The message is for people.
enum class Errc {
  internal,         // the store, the crypto, the system failed: logged, never detailed to clients
  invalid,          // the input was refused (a bad argument, a malformed file or value)
  not_found,        // no such user, record or file
  already_enrolled, // an enrollment asked of a user who has an active secret
  locked,           // the account or its second factor is locked
  conflict,         // a conditional commit lost: the record changed since it was read
  unavailable,      // a source the answer needs (the directory, a gateway) cannot be reached
  busy,             // too much to do now (a full queue); the client may try again in a moment
  unknown_key,      // sealed or hashed under a studio key this host does not hold (key_path,
                    // previous_key_paths)
};

// The error type used throughout the daemon and the CLIs: a kind, and a message for people and
// logs. Never put a secret, a password or a code in it.
struct Error {
  Errc code = Errc::internal;
  std::string message;
};

template <typename E> struct Unexpected {
  E error;
};

inline Unexpected<Error> make_error(Errc code, std::string message)
{
  return Unexpected<Error>{Error{code, std::move(message)}};
}
// An Errc::internal error.
inline Unexpected<Error> make_error(std::string message)
{
  return make_error(Errc::internal, std::move(message));
}

template <typename T, typename E = Error> class Expected {
public:
  Expected(T value) : m_state(std::in_place_index<0>, std::move(value)) {}
  Expected(Unexpected<E> error) : m_state(std::in_place_index<1>, std::move(error.error)) {}

  bool has_value() const { return m_state.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() &
  {
    assert(has_value());
    return std::get<0>(m_state);
  }
  const T& value() const&
  {
    assert(has_value());
    return std::get<0>(m_state);
  }
  T&& value() &&
  {
    assert(has_value());
    return std::get<0>(std::move(m_state));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const
  {
    assert(!has_value());
    return std::get<1>(m_state);
  }

private:
  std::variant<T, E> m_state;
};

template <typename E> class Expected<void, E> {
public:
  Expected() = default;
  Expected(Unexpected<E> error) : m_error(std::move(error.error)), m_has_value(false) {}

  bool has_value() const { return m_has_value; }
  explicit operator bool() const { return m_has_value; }
  const E& error() const
  {
    assert(!m_has_value);
    return m_error;
  }

private:
  E m_error{};
  bool m_has_value = true;
};

} // namespace studio2fa
