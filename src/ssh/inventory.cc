// Inventory parsing: host specs, line files and Ansible-style YAML, plus --limit selection.
#include "ssh/inventory.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/error.h"
#include "common/text.h"

namespace netres::ssh {
namespace {

int parse_port(std::string_view text, std::string_view where, std::string_view spec) {
  std::optional<uint16_t> port = parse_port_number(text);
  if (!port)
    throw UsageError(
        fmt::format("{}: bad port '{}' in '{}': ports are 1-65535", where, text, spec));
  return *port;
}

bool valid_host_chars(std::string_view h) {
  if (h.empty()) return false;
  for (char c : h)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'))
      return false;
  return true;
}

}  // namespace

Host parse_host_spec(std::string_view spec_in, std::string_view where) {
  std::string_view spec = trim(spec_in);
  if (spec.empty()) throw UsageError(fmt::format("{}: empty host spec", where));
  Host h;
  std::string_view rest = spec;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    h.user = std::string(rest.substr(0, at));
    if (h.user.empty()) throw UsageError(fmt::format("{}: empty user in '{}'", where, spec));
    rest.remove_prefix(at + 1);
  }
  Endpoint e = split_endpoint(rest);
  if (e.error == Endpoint::Error::kUnclosedBracket)
    throw UsageError(fmt::format("{}: missing ']' in '{}'", where, spec));
  if (e.error == Endpoint::Error::kJunkAfterBracket)
    throw UsageError(fmt::format("{}: expected ':port' after ']' in '{}'", where, spec));
  // "host:" and "[v6]:" reach parse_port with an empty port, which words the error.
  if (!e.port.empty() || e.error == Endpoint::Error::kEmptyPort)
    h.port = parse_port(e.port, where, spec);
  std::string_view host = e.host;
  if (e.bracketed) {
    if (host.find(':') == std::string_view::npos)
      throw UsageError(fmt::format("{}: '[...]' is for IPv6 addresses in '{}'", where, spec));
    h.address = std::string(host);
    h.name = h.port ? fmt::format("[{}]:{}", host, h.port) : std::string(host);
    return h;
  }
  if (host.find(':') == std::string_view::npos && !valid_host_chars(host))
    throw UsageError(fmt::format("{}: bad host name '{}' in '{}'", where, host, spec));
  h.address = std::string(host);
  h.name = h.port ? fmt::format("{}:{}", host, h.port) : std::string(host);
  return h;
}

void Inventory::add(Host host) {
  for (auto& existing : hosts_) {
    if (existing.name != host.name) continue;
    for (auto& g : host.groups)
      if (std::find(existing.groups.begin(), existing.groups.end(), g) == existing.groups.end())
        existing.groups.push_back(g);
    host.groups = existing.groups;
    existing = std::move(host);
    return;
  }
  hosts_.push_back(std::move(host));
}

Inventory Inventory::from_specs(std::string_view list) {
  Inventory inv;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view part = list.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!trim(part).empty()) inv.add(parse_host_spec(part, "-H"));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (inv.empty()) throw UsageError("-H: no hosts given");
  return inv;
}

Inventory Inventory::from_lines_text(std::string_view text, std::string_view file) {
  Inventory inv;
  std::istringstream in{std::string(text)};
  for (const auto& [line_no, l] : read_list_lines(in)) {
    if (l.find_first_of(" \t") != std::string::npos)
      throw UsageError(fmt::format("{}:{}: one host spec per line, got '{}'", file, line_no, l));
    inv.add(parse_host_spec(l, fmt::format("{}:{}", file, line_no)));
  }
  if (inv.empty()) throw UsageError(fmt::format("{}: no hosts in file", file));
  return inv;
}

namespace {

struct YamlWalker {
  std::string_view file;
  // host name -> var -> (priority, value); host vars beat deeper groups beat shallower ones.
  std::map<std::string, std::map<std::string, std::pair<int, std::string>>> vars;
  std::map<std::string, std::vector<std::string>> groups;
  std::vector<std::string> order;
  std::map<std::string, int> host_line;

  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    throw UsageError(fmt::format("{}:{}: {}", file, node.Mark().line + 1, message));
  }

  std::map<std::string, std::string> scalar_vars(const YAML::Node& node, const std::string& owner) {
    std::map<std::string, std::string> out;
    if (!node || node.IsNull()) return out;
    if (!node.IsMap()) fail(node, fmt::format("vars of '{}' must be a mapping", owner));
    for (const auto& kv : node) {
      // Lists and maps are legal Ansible vars but mean nothing to netres; skip them.
      if (kv.second.IsScalar()) out[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
    return out;
  }

  void walk_group(const std::string& name, const YAML::Node& node, int depth,
                  std::vector<std::pair<int, std::map<std::string, std::string>>> inherited,
                  std::vector<std::string> chain) {
    if (depth > 32) fail(node, "groups nested too deeply");
    chain.push_back(name);
    if (!node || node.IsNull()) return;
    if (!node.IsMap())
      fail(node, fmt::format("group '{}' must be a mapping with hosts, children or vars", name));
    for (const auto& kv : node) {
      auto key = kv.first.as<std::string>();
      if (key != "hosts" && key != "children" && key != "vars")
        fail(kv.first,
             fmt::format("unknown key '{}' in group '{}' (expected hosts, children, vars)", key,
                         name));
    }
    inherited.emplace_back(depth, scalar_vars(node["vars"], name));
    if (auto hosts = node["hosts"]; hosts && !hosts.IsNull()) {
      if (!hosts.IsMap()) fail(hosts, fmt::format("hosts of group '{}' must be a mapping", name));
      for (const auto& kv : hosts) {
        auto host = kv.first.as<std::string>();
        if (host.empty()) fail(kv.first, "empty host name");
        if (!vars.count(host)) {
          order.push_back(host);
          host_line[host] = kv.first.Mark().line + 1;
        }
        auto& hv = vars[host];
        for (const auto& [prio, gv] : inherited)
          for (const auto& [k, v] : gv)
            if (!hv.count(k) || hv[k].first <= prio) hv[k] = {prio, v};
        if (!kv.second.IsNull() && !kv.second.IsMap())
          fail(kv.second, fmt::format("host '{}' must map to its vars (or nothing)", host));
        for (const auto& [k, v] : scalar_vars(kv.second, host)) hv[k] = {1000, v};
        auto& g = groups[host];
        for (const auto& c : chain)
          if (std::find(g.begin(), g.end(), c) == g.end()) g.push_back(c);
      }
    }
    if (auto children = node["children"]; children && !children.IsNull()) {
      if (!children.IsMap())
        fail(children, fmt::format("children of group '{}' must be a mapping", name));
      for (const auto& kv : children)
        walk_group(kv.first.as<std::string>(), kv.second, depth + 1, inherited, chain);
    }
  }
};

}  // namespace

Inventory Inventory::from_yaml_text(std::string_view text, std::string_view file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    throw UsageError(fmt::format("{}:{}: {}", file, e.mark.line + 1, e.msg));
  }
  YamlWalker w;
  w.file = file;
  if (!root.IsMap())
    throw UsageError(fmt::format("{}:1: inventory must be a mapping of groups", file));
  try {
    for (const auto& kv : root) w.walk_group(kv.first.as<std::string>(), kv.second, 0, {}, {});
  } catch (const YAML::Exception& e) {
    throw UsageError(fmt::format("{}:{}: {}", file, e.mark.line + 1, e.msg));
  }
  Inventory inv;
  for (const auto& name : w.order) {
    std::string where = fmt::format("{}:{}", file, w.host_line[name]);
    Host h;
    h.name = name;
    for (const auto& [k, pv] : w.vars[name]) h.vars[k] = pv.second;
    // A host may be written as a spec ("admin@10.0.0.1:2222") when it has no ansible_host.
    Host spec = parse_host_spec(name, where);
    h.address = spec.address;
    h.port = spec.port;
    h.user = spec.user;
    if (auto it = h.vars.find("ansible_host"); it != h.vars.end()) h.address = it->second;
    if (auto it = h.vars.find("ansible_port"); it != h.vars.end())
      h.port = parse_port(it->second, where, "ansible_port: " + it->second);
    if (auto it = h.vars.find("ansible_user"); it != h.vars.end()) h.user = it->second;
    if (auto it = h.vars.find("ansible_ssh_private_key_file"); it != h.vars.end())
      h.key_file = it->second;
    if (auto it = h.vars.find("netres_platform"); it != h.vars.end()) h.platform = it->second;
    h.groups = w.groups[name];
    inv.add(std::move(h));
  }
  if (inv.empty()) throw UsageError(fmt::format("{}: no hosts in inventory", file));
  return inv;
}

Inventory Inventory::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("cannot read inventory '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  bool yaml = path.ends_with(".yml") || path.ends_with(".yaml");
  if (!yaml) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      auto l = trim(line);
      if (l.empty() || l.front() == '#') continue;
      yaml = l.ends_with(":") || l == "---";
      break;
    }
  }
  return yaml ? from_yaml_text(text, path) : from_lines_text(text, path);
}

std::string proxy_jump_from_ansible_args(const Host& host) {
  // Ansible passes common args before extra args, and ssh keeps the first value of an option.
  for (const char* var : {"ansible_ssh_common_args", "ansible_ssh_extra_args"}) {
    auto it = host.vars.find(var);
    if (it == host.vars.end()) continue;
    // Shell-like words: quotes group, as ssh would receive them from Ansible.
    std::vector<std::string> words;
    std::string w;
    bool in_word = false;
    char quote = 0;
    for (char c : it->second) {
      if (quote) {
        if (c == quote)
          quote = 0;
        else
          w.push_back(c);
      } else if (c == '\'' || c == '"') {
        quote = c;
        in_word = true;
      } else if (c == ' ' || c == '\t') {
        if (in_word) words.push_back(std::move(w));
        w.clear();
        in_word = false;
      } else {
        w.push_back(c);
        in_word = true;
      }
    }
    if (in_word) words.push_back(std::move(w));
    auto option_value = [](std::string_view opt) -> std::optional<std::string> {
      // "ProxyJump=x", "ProxyJump x", any case.
      std::string_view key = "proxyjump";
      if (opt.size() <= key.size()) return std::nullopt;
      for (size_t i = 0; i < key.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(opt[i])) != key[i]) return std::nullopt;
      std::string_view rest = opt.substr(key.size());
      if (rest.front() != '=' && rest.front() != ' ') return std::nullopt;
      return std::string(trim(rest.substr(1)));
    };
    for (size_t i = 0; i < words.size(); ++i) {
      const std::string& a = words[i];
      if (a == "-J" && i + 1 < words.size()) return words[i + 1];
      if (a.starts_with("-J") && a.size() > 2) return a.substr(2);
      std::string opt;
      if (a == "-o" && i + 1 < words.size())
        opt = words[i + 1];
      else if (a.starts_with("-o") && a.size() > 2)
        opt = a.substr(2);
      if (auto v = option_value(opt)) return *v;
    }
  }
  return "";
}

bool glob_match(std::string_view pattern, std::string_view text) {
  return fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

Inventory Inventory::limited(std::string_view patterns) const {
  std::vector<std::string> include, exclude;
  size_t start = 0;
  while (start <= patterns.size()) {
    size_t comma = patterns.find(',', start);
    auto part = trim(patterns.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (!part.empty()) {
      if (part.front() == '!')
        exclude.emplace_back(part.substr(1));
      else
        include.emplace_back(part);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  auto matches = [](const Host& h, const std::string& p) {
    if (glob_match(p, h.name)) return true;
    for (const auto& g : h.groups)
      if (glob_match(p, g)) return true;
    return false;
  };
  Inventory out;
  for (const auto& h : hosts_) {
    bool in = include.empty();
    for (const auto& p : include) in = in || matches(h, p);
    for (const auto& p : exclude) in = in && !matches(h, p);
    if (in) out.hosts_.push_back(h);
  }
  if (out.empty())
    throw UsageError(fmt::format("--limit '{}' matches no host in the inventory", patterns));
  return out;
}

Inventory select_hosts(const HostSelection& selection) {
  Inventory inv = selection.inventory.value_or(Inventory{});
  auto merge = [&inv](const Inventory& more) {
    for (const auto& h : more.hosts()) inv.add(h);
  };
  if (!selection.host_specs.empty()) merge(Inventory::from_specs(selection.host_specs));
  if (selection.inventory && !selection.targets.empty()) {
    std::string patterns;  // several targets select the union, as "a,b" would
    for (const auto& t : selection.targets) patterns += (patterns.empty() ? "" : ",") + t;
    inv = inv.limited(patterns);
  } else {
    for (const auto& t : selection.targets) merge(Inventory::from_specs(t));
  }
  if (inv.empty()) throw UsageError("no hosts: give targets, -H host,... or -i INVENTORY");
  if (!selection.limit.empty()) inv = inv.limited(selection.limit);
  return inv;
}

}  // namespace netres::ssh
