// Dropping root after the capture device is open (tcpdump -Z): the rest of the run, which parses
// untrusted packets, then runs as an unprivileged user.
#pragma once

#include <string>

namespace netres::capture {

// Switches to `user`'s uid, gid and supplementary groups (initgroups, setgid, setuid, in that
// order, so no group of root's is kept). Throws RuntimeError for an unknown user or a refusal.
void drop_privileges(const std::string& user);

}  // namespace netres::capture
