// Terminal rendering, pager removal, echo and prompt stripping.
#include "ssh/device_shell.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace netres::ssh {
namespace {

TEST(DeviceShellText, RenderHandlesPagerAndErase) {
  auto p = shell_profile_for("cisco_ios", "");
  std::regex more(p.more);
  std::string raw =
      "show run\r\nline1\r\n --More-- \b\b\b\b\b\b\b\b\b\b          \b\b\b\b\b\b\b\b\b\bline2\r\n"
      "\x1b[7m--More--\x1b[m\r          \rline3\r\nrouter1#";
  EXPECT_EQ(render_terminal_text(raw, more), "show run\nline1\nline2\nline3\nrouter1#");
}

TEST(DeviceShellText, StripEchoAndPrompt) {
  auto p = shell_profile_for("cisco_ios", "");
  std::regex prompt(p.prompt), more(p.more);
  std::string rendered =
      render_terminal_text("show version\r\nIOS 15.1\r\nuptime 3 days\r\n\r\nrouter1#", more);
  EXPECT_EQ(strip_echo_and_prompt(rendered, "show version", prompt), "IOS 15.1\nuptime 3 days\n");
  // A config-mode prompt is a prompt too; the echo may follow the previous prompt.
  rendered = render_terminal_text("router1(config)#hostname r9\r\nrouter1(config)#", more);
  EXPECT_EQ(strip_echo_and_prompt(rendered, "hostname r9", prompt), "");
}

TEST(DeviceShellText, LastLine) {
  EXPECT_EQ(last_line("a\r\nrouter1#"), "router1#");
  EXPECT_EQ(last_line("a\r\n"), "");
}

TEST(DeviceShellProfile, Presets) {
  EXPECT_EQ(shell_profile_for("juniper_junos", "").config_exit, "commit and-quit");
  EXPECT_THROW(shell_profile_for("nokia_zz", ""), UsageError);
  EXPECT_THROW(shell_profile_for("", ""), UsageError);
  EXPECT_EQ(shell_profile_for("", "sw1>").prompt, "sw1>");
  std::regex prompt(shell_profile_for("cisco_ios", "").prompt);
  EXPECT_TRUE(std::regex_search("router1#", prompt));
  EXPECT_TRUE(std::regex_search("router1(config-if)#", prompt));
  EXPECT_TRUE(std::regex_search("sw-2>", prompt));
  EXPECT_FALSE(std::regex_search("Building configuration...", prompt));
}

}  // namespace
}  // namespace netres::ssh
