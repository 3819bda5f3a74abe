// The ssh check's decisions that need no server (unit-tested in check_ssh_test.cc).
#pragma once

#include <string_view>

#include "ssh/known_hosts.h"

namespace netres::monitor {

// The failure reason for a known_hosts verdict; empty when the key is the known one. A key of
// another type than the one recorded counts as changed, as `netres ssh` treats it: the monitor
// never learns or accepts keys.
inline std::string_view hostkey_reason(ssh::KnownHostsCheck::Kind k) {
  switch (k) {
    case ssh::KnownHostsCheck::kOk:
      return "";
    case ssh::KnownHostsCheck::kUnknown:
      return "hostkey_unknown";
    case ssh::KnownHostsCheck::kRevoked:
      return "hostkey_revoked";
    case ssh::KnownHostsCheck::kChanged:
    case ssh::KnownHostsCheck::kOtherType:
      return "hostkey_changed";
  }
  return "hostkey_unknown";
}

}  // namespace netres::monitor
