// DeviceShell and the platform presets; the read loop answers pagers and stops at a prompt.
#include "ssh/device_shell.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/text.h"
#include "ssh/line_diff.h"

namespace netres::ssh {
namespace {

using Clock = std::chrono::steady_clock;

std::regex compile(const std::string& pattern, const std::string& what) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw UsageError(fmt::format("bad {} regex '{}': {}", what, pattern, e.what()));
  }
}

}  // namespace

std::vector<std::string> known_platforms() {
  return {"cisco_ios", "cisco_xe", "arista_eos", "juniper_junos", "linux"};
}

ShellProfile shell_profile_for(const std::string& platform, const std::string& prompt_override) {
  ShellProfile p;
  p.platform = platform;
  if (platform == "cisco_ios" || platform == "cisco_xe" || platform == "arista_eos") {
    p.prompt = R"(^[\w.\-@/:]+(\([\w.\-]+\))?[>#]\s*$)";
    p.disable_paging = {"terminal length 0"};
    p.show_config = "show running-config";
    p.config_enter = "configure terminal";
    p.config_exit = "end";
    p.error_patterns = {R"(^% ?Invalid input)", R"(^% ?Incomplete command)",
                        R"(^% ?Ambiguous command)", R"(^% ?Unknown command)", R"(^% ?Error)"};
    p.negate_prefix = "no ";
  } else if (platform == "juniper_junos") {
    p.prompt = R"(^([\w.\-]+@)?[\w.\-]+[>#%]\s*$)";
    p.disable_paging = {"set cli screen-length 0"};
    p.more = R"(---\(more[^)]*\)---)";
    p.show_config = "show configuration | display set";
    p.config_enter = "configure";
    p.config_exit = "commit and-quit";
    p.error_patterns = {R"(^\s*syntax error)", R"(^\s*unknown command)", R"(^error:)"};
    p.negate_prefix = "delete ";
  } else if (platform == "linux") {
    p.prompt = R"([$#]\s*$)";
    p.disable_paging = {"export PAGER=cat SYSTEMD_PAGER=cat"};
    p.show_config = "";
  } else if (platform.empty() && !prompt_override.empty()) {
    p.platform = "generic";
  } else {
    std::string list;
    for (const auto& k : known_platforms()) list += (list.empty() ? "" : ", ") + k;
    throw UsageError(platform.empty()
                         ? fmt::format("--shell needs a platform (--platform or netres_platform: "
                                       "{}) or --prompt REGEX",
                                       list)
                         : fmt::format("unknown platform '{}' (known: {})", platform, list));
  }
  if (!prompt_override.empty()) p.prompt = prompt_override;
  return p;
}

std::string render_terminal_text(std::string_view raw, const std::regex& more) {
  std::string out, line;
  size_t cursor = 0;
  auto commit = [&] {
    std::string l = std::regex_replace(line, more, "");
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.pop_back();
    out += l;
    out += '\n';
    line.clear();
    cursor = 0;
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\x1b') {
      // CSI: ESC [ params final-byte; other escapes: ESC + one char.
      if (i + 1 < raw.size() && raw[i + 1] == '[') {
        i += 2;
        while (i < raw.size() && !(raw[i] >= '@' && raw[i] <= '~')) ++i;
      } else {
        ++i;
      }
      continue;
    }
    if (c == '\n') {
      commit();
    } else if (c == '\r') {
      cursor = 0;
    } else if (c == '\b') {
      if (cursor > 0) --cursor;
    } else if (c == '\0' || c == '\a') {
      continue;
    } else {
      if (cursor < line.size())
        line[cursor] = c;
      else
        line.push_back(c);
      ++cursor;
    }
  }
  if (!line.empty()) {
    std::string l = std::regex_replace(line, more, "");
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.pop_back();
    out += l;
  }
  return out;
}

std::string strip_echo_and_prompt(const std::string& rendered, std::string_view command,
                                  const std::regex& prompt) {
  std::vector<std::string> lines = split_lines(rendered);
  size_t first = 0, last = lines.size();
  std::string cmd(trim(command));
  // The echo may carry the previous prompt in front of it ("router1#show version").
  if (first < last && !cmd.empty() && trim(lines[first]).ends_with(cmd)) ++first;
  while (last > first && trim(lines[last - 1]).empty()) --last;
  if (last > first && std::regex_search(std::string(trim(lines[last - 1])), prompt)) --last;
  while (last > first && trim(lines[last - 1]).empty()) --last;
  std::string out;
  for (size_t i = first; i < last; ++i) out += lines[i] + "\n";
  return out;
}

std::string last_line(std::string_view raw) {
  size_t cut = raw.find_last_of("\r\n");
  std::string_view tail = cut == std::string_view::npos ? raw : raw.substr(cut + 1);
  std::string out;
  for (char c : tail)
    if (c != '\a' && c != '\0') out.push_back(c);
  return out;
}

DeviceShell::DeviceShell(SshSession& session, ShellProfile profile, Nanos timeout)
    : session_(session),
      profile_(std::move(profile)),
      timeout_(timeout > Nanos(0) ? timeout : std::chrono::seconds(30)),
      prompt_re_(compile(profile_.prompt, "prompt")),
      more_re_(compile(profile_.more, "pager")) {
  for (const auto& e : profile_.error_patterns) error_res_.push_back(compile(e, "error"));
}

void DeviceShell::write(std::string_view text) {
  size_t off = 0;
  while (off < text.size()) {
    int n = ssh_channel_write(channel_.get(), text.data() + off, text.size() - off);
    if (n <= 0) throw HostFailure(HostStatus::kFailed, "shell closed while sending");
    off += n;
  }
}

std::string DeviceShell::read_until_prompt() {
  std::string raw;
  size_t more_scan = 0;
  auto deadline = Clock::now() + timeout_;
  char buf[8192];
  for (int loops = 0;; ++loops) {
    int n = ssh_channel_read_timeout(channel_.get(), buf, sizeof buf, 0, 100);
    if (n == SSH_ERROR) throw HostFailure(HostStatus::kFailed, "connection lost in the shell");
    if (n > 0) {
      raw.append(buf, n);
      std::smatch m;
      std::string window = raw.substr(more_scan);
      if (std::regex_search(window, m, more_re_)) {
        more_scan += m.position(0) + m.length(0);
        write(" ");  // the pager's "next page" key
        deadline = Clock::now() + timeout_;
        continue;
      }
      if (std::regex_search(last_line(raw), prompt_re_)) return raw;
    } else if (ssh_channel_is_eof(channel_.get()) || !ssh_channel_is_open(channel_.get())) {
      throw HostFailure(HostStatus::kFailed, "the device closed the shell");
    }
    if (Clock::now() >= deadline)
      throw HostFailure(HostStatus::kTimeout,
                        fmt::format("no prompt matching '{}' within {}; last line: '{}'",
                                    profile_.prompt, format_duration(timeout_), last_line(raw)));
    session_.keepalive_tick();
  }
}

void DeviceShell::open() {
  channel_ = session_.open_shell(511, 24);
  read_until_prompt();
  for (const auto& cmd : profile_.disable_paging) send_command(cmd);
}

std::string DeviceShell::send_command(const std::string& command) {
  write(command + "\n");
  std::string raw = read_until_prompt();
  return strip_echo_and_prompt(render_terminal_text(raw, more_re_), command, prompt_re_);
}

size_t DeviceShell::send_config(const std::vector<std::string>& lines, std::string* failed_output) {
  if (profile_.config_enter.empty())
    throw HostFailure(HostStatus::kFailed,
                      fmt::format("platform '{}' has no configuration mode", profile_.platform));
  send_command(profile_.config_enter);
  size_t applied = 0;
  for (const auto& line : lines) {
    std::string out = send_command(line);
    if (auto err = error_in(out); !err.empty()) {
      if (failed_output) *failed_output = out;
      break;
    }
    ++applied;
  }
  send_command(profile_.config_exit);
  return applied;
}

void DeviceShell::close() {
  if (!channel_.get()) return;
  ssh_channel_write(channel_.get(), "exit\n", 5);
  channel_ = Channel();
}

std::string DeviceShell::error_in(const std::string& output) const {
  size_t start = 0;
  while (start < output.size()) {
    size_t nl = output.find('\n', start);
    if (nl == std::string::npos) nl = output.size();
    std::string line = output.substr(start, nl - start);
    for (const auto& re : error_res_)
      if (std::regex_search(line, re)) return std::string(trim(line));
    start = nl + 1;
  }
  return "";
}

}  // namespace netres::ssh
