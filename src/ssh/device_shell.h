// DeviceShell: drives an interactive CLI (Cisco IOS-like, Juniper-like, a Linux shell) over a
// PTY channel the way Netmiko does: find the prompt, turn paging off, answer --More--, send
// one command at a time, and strip echoes, pager prompts and prompts from what comes back.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "ssh/ssh_session.h"

namespace netres::ssh {

struct ShellProfile {
  std::string platform;
  std::string prompt;                                        // regex matched against the last line
  std::vector<std::string> disable_paging;                   // sent once after login
  std::string more = R"(-+ ?\(?[Mm]ore[^-\n]*-+|--More--)";  // pager prompt anywhere in a line
  std::string show_config;                                   // backup command
  std::string config_enter;                                  // e.g. "configure terminal"
  std::string config_exit;                                   // e.g. "end"
  std::vector<std::string> error_patterns;  // regexes of lines the device prints on errors
  std::string negate_prefix;                // how a config line is removed ("no ", "delete ")
};

// Presets: cisco_ios (also cisco_xe, arista_eos), juniper_junos, linux. An unknown platform
// is a UsageError. `prompt_override` (--prompt) replaces the preset's prompt regex; with an
// empty platform and an override, a generic profile that only answers pagers is used.
ShellProfile shell_profile_for(const std::string& platform, const std::string& prompt_override);
std::vector<std::string> known_platforms();

// Pure text processing, unit tested.
// Renders what a terminal would show: \r returns to column 0, \b moves left, ANSI escapes are
// dropped, trailing blanks trimmed; pager prompts removed.
std::string render_terminal_text(std::string_view raw, const std::regex& more);
// Removes the echoed command (first line) and the trailing prompt line from rendered output.
std::string strip_echo_and_prompt(const std::string& rendered, std::string_view command,
                                  const std::regex& prompt);
// The last line of raw terminal text as the eye would see it (after the last \r or \n).
std::string last_line(std::string_view raw);

class DeviceShell {
 public:
  DeviceShell(SshSession& session, ShellProfile profile, Nanos timeout);
  // Opens the PTY shell, waits for the prompt, disables paging.
  void open();
  // Sends one command, returns its output without echo and prompt. Throws HostFailure on
  // timeout or a closed shell.
  std::string send_command(const std::string& command);
  // Enters configuration mode, sends `lines` one by one and stops at the first line the device
  // rejects. Returns how many lines were accepted; `error` gets the device's error line.
  size_t send_config(const std::vector<std::string>& lines, std::string* failed_output);
  void close();

  // The first line of `output` matching the profile's error patterns, or empty.
  std::string error_in(const std::string& output) const;
  const ShellProfile& profile() const { return profile_; }

 private:
  std::string read_until_prompt();
  void write(std::string_view text);

  SshSession& session_;
  ShellProfile profile_;
  Nanos timeout_;
  Channel channel_;
  std::regex prompt_re_;
  std::regex more_re_;
  std::vector<std::regex> error_res_;
};

}  // namespace netres::ssh
