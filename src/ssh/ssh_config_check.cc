// check_ssh_config_*: the strict pre-read, now the same parser that evaluates the config.
#include "ssh/ssh_config_check.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "ssh/ssh_config.h"

namespace netres::ssh {

void check_ssh_config_text(std::string_view text, std::string_view file) {
  SshConfig::from_text(text, file);
}

void check_ssh_config_file(const std::string& path, bool required) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (required) throw UsageError("cannot read ssh config '" + path + "'");
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  check_ssh_config_text(ss.str(), path);
}

}  // namespace netres::ssh
