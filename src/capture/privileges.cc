// drop_privileges(): initgroups + setgid + setuid, checked afterwards so a partial switch
// never goes unnoticed.
#include "capture/privileges.h"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/error.h"

namespace netres::capture {

void drop_privileges(const std::string& user) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0 || found == nullptr) throw RuntimeError(fmt::format("-Z: no such user '{}'", user));
  auto refuse = [&](const char* step) {
    throw RuntimeError(
        fmt::format("-Z: cannot switch to user '{}' ({}): {}", user, step, std::strerror(errno)));
  };
  if (initgroups(pw.pw_name, pw.pw_gid) != 0) refuse("initgroups");
  if (setgid(pw.pw_gid) != 0) refuse("setgid");
  if (setuid(pw.pw_uid) != 0) refuse("setuid");
  // Being able to regain root would mean the switch did not stick.
  if (pw.pw_uid != 0 && setuid(0) == 0) throw RuntimeError("-Z: privileges could not be dropped");
}

}  // namespace netres::capture
