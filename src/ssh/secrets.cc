// Secret input: env variables and a termios no-echo prompt on /dev/tty.
#include "ssh/secrets.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

#include "common/error.h"

namespace netres::ssh {

std::string secret_from_env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string prompt_secret(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) throw UsageError("no terminal to prompt on; use the environment variable instead");
  (void)!::write(fd, prompt.data(), prompt.size());
  termios old{};
  bool have_termios = ::tcgetattr(fd, &old) == 0;
  if (have_termios) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string out;
  char c;
  while (out.size() < 4096 && ::read(fd, &c, 1) == 1 && c != '\n' && c != '\r') out.push_back(c);
  if (have_termios) ::tcsetattr(fd, TCSAFLUSH, &old);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  return out;
}

}  // namespace netres::ssh
