// The per-host outcome every ssh verb reports: one word in tables and JSON.
#pragma once

#include <string_view>

namespace netres::ssh {

enum class HostStatus { kOk, kFailed, kUnreachable, kAuthFailed, kTimeout, kHostKey };

constexpr std::string_view to_string(HostStatus s) {
  switch (s) {
    case HostStatus::kOk:
      return "ok";
    case HostStatus::kFailed:
      return "failed";
    case HostStatus::kUnreachable:
      return "unreachable";
    case HostStatus::kAuthFailed:
      return "auth-failed";
    case HostStatus::kTimeout:
      return "timeout";
    case HostStatus::kHostKey:
      return "hostkey";
  }
  return "?";
}

}  // namespace netres::ssh
