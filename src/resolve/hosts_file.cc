// hosts(5) parsing: "ADDRESS NAME [ALIAS...]" per line, # starts a comment.
#include "resolve/hosts_file.h"

#include <arpa/inet.h>

#include <algorithm>
#include <fstream>

#include "resolve/dns_name.h"

namespace netres::resolve {

namespace {

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::vector<std::string> hosts_file_addresses(std::string_view text, std::string_view name) {
  std::vector<std::string> v4, v6;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    auto w = words(line);
    if (w.size() < 2) continue;
    bool match = false;
    for (size_t i = 1; i < w.size() && !match; ++i) match = same_name(w[i], name);
    if (!match) continue;
    std::string address(w[0]);
    unsigned char buf[16];
    char canon[INET6_ADDRSTRLEN];
    std::vector<std::string>* list = nullptr;
    if (inet_pton(AF_INET, address.c_str(), buf) == 1) {
      inet_ntop(AF_INET, buf, canon, sizeof canon);
      list = &v4;
    } else if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
      inet_ntop(AF_INET6, buf, canon, sizeof canon);
      list = &v6;
    } else {
      continue;  // "fe80::1%eth0" and junk: not something to connect to from here
    }
    if (std::find(list->begin(), list->end(), canon) == list->end()) list->push_back(canon);
  }
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

std::string read_hosts_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string text(1 << 20, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

}  // namespace netres::resolve
