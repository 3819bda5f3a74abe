#include "ssh/ssh_endpoint.h"

#include <fmt/format.h>

#include <cstdlib>
#include <sstream>

#include "common/error.h"
#include "ssh/inventory.h"
#include "ssh/known_hosts.h"

namespace netres::ssh {
namespace {

std::vector<std::string> split_hops(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  std::string part;
  while (std::getline(in, part, ','))
    if (!part.empty()) out.push_back(part);
  return out;
}

Host parse_jump(std::string spec) {
  if (spec.starts_with("ssh://")) spec.erase(0, 6);
  try {
    return parse_host_spec(spec, "ProxyJump");
  } catch (const UsageError& e) {
    throw HostFailure(HostStatus::kFailed, e.what());
  }
}

}  // namespace

std::string home_dir() {
  const char* h = std::getenv("HOME");
  return h && *h ? h : ".";
}

Endpoint resolve_endpoint(const SshConfig& cfg, const ConnectOptions& o, const std::string& name,
                          int port, const std::string& spec_user, const std::string& key_file,
                          bool is_jump, const std::string& inventory_jump) {
  std::string local = local_user_name();
  std::string home = home_dir();
  // -u is the fleet's login user; jump hosts follow OpenSSH's -J (spec, then config).
  std::string given_user = !is_jump && !o.user.empty() ? o.user : spec_user;
  HostConfig hc = cfg.resolve(name, given_user, local);
  Endpoint ep;
  ep.label = name;
  ep.hostname = hc.hostname.value_or(name);
  ep.port = port ? port : hc.port.value_or(22);
  ep.user = !given_user.empty() ? given_user : hc.user.value_or(local);
  TokenContext ctx{home, ep.hostname, name, ep.user, local, hc.host_key_alias.value_or("")};
  ctx.port = ep.port;
  auto add_key = [&ep](const std::string& path, bool defaults) {
    for (const auto& k : ep.keys)
      if (k.path == path) return;
    ep.keys.push_back({path, defaults});
  };
  if (!o.identity_file.empty()) add_key(o.identity_file, false);
  if (!key_file.empty() && !is_jump) add_key(expand_config_tokens(key_file, ctx), false);
  for (const auto& f : hc.identity_files) add_key(expand_config_tokens(f, ctx), false);
  if (ep.keys.empty())  // OpenSSH's defaults apply only when nothing names a key
    for (const char* f : {"id_rsa", "id_ecdsa", "id_ed25519"}) add_key(home + "/.ssh/" + f, true);
  // A hop also gets the target's inventory key, after its own: one fleet key usually opens the
  // bastion too, and a key netres was given must not be forgotten at the first hop.
  if (!key_file.empty() && is_jump) add_key(expand_config_tokens(key_file, ctx), false);
  ep.identities_only = hc.identities_only.value_or(false);
  auto expand_all = [&](const std::vector<std::string>& v) {
    std::vector<std::string> out;
    for (const auto& f : v) out.push_back(expand_config_tokens(f, ctx));
    return out;
  };
  if (!o.known_hosts.empty())
    ep.user_known_hosts = {o.known_hosts};
  else if (hc.user_known_hosts)
    ep.user_known_hosts = expand_all(*hc.user_known_hosts);
  else
    ep.user_known_hosts = {home + "/.ssh/known_hosts", home + "/.ssh/known_hosts2"};
  ep.global_known_hosts =
      hc.global_known_hosts
          ? expand_all(*hc.global_known_hosts)
          : std::vector<std::string>{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"};
  ep.known_hosts_name =
      hc.host_key_alias ? *hc.host_key_alias : known_hosts_name(ep.hostname, ep.port);
  std::string flag = !o.strict_host_keys.empty() ? o.strict_host_keys
                     : o.accept_new              ? "accept-new"
                                                 : "";
  if (!flag.empty()) {
    ep.strict = flag;
  } else if (hc.strict_host_key_checking) {
    ep.strict = *hc.strict_host_key_checking;
    if (ep.strict == "no") {
      // Skipping host key checks on the config's word alone would turn a fleet run into a
      // man-in-the-middle opportunity: it needs the explicit flag too.
      ep.strict = "yes";
      ep.strict_note = fmt::format(
          " (StrictHostKeyChecking no at {} is honoured only with --strict-host-keys no)",
          hc.strict_where);
    }
  }
  ep.hash_known_hosts = hc.hash_known_hosts.value_or(false);
  ep.connect_timeout = o.connect_timeout_set || !hc.connect_timeout_s
                           ? o.connect_timeout
                           : Nanos(std::chrono::seconds(*hc.connect_timeout_s));
  if (ep.connect_timeout <= Nanos(0)) ep.connect_timeout = o.connect_timeout;
  ep.keepalive = o.keepalive_set || !hc.server_alive_interval_s
                     ? o.keepalive
                     : Nanos(std::chrono::seconds(*hc.server_alive_interval_s));
  ep.pubkey = hc.pubkey_authentication.value_or(true);
  ep.kbdint = hc.kbd_interactive_authentication.value_or(true);
  ep.password = hc.password_authentication.value_or(true);
  if (!is_jump && !o.jump.empty())
    ep.proxy_jump = o.jump;
  else if (!inventory_jump.empty())
    ep.proxy_jump = inventory_jump;
  else if (hc.proxy_jump)
    ep.proxy_jump = *hc.proxy_jump;
  if (ep.proxy_jump == "none") ep.proxy_jump.clear();
  if (ep.proxy_jump.empty() && hc.proxy_command && *hc.proxy_command != "none" &&
      (is_jump || o.jump.empty()))
    ep.proxy_command = *hc.proxy_command;
  ep.host_key_algorithms = hc.host_key_algorithms.value_or("");
  ep.ciphers = hc.ciphers.value_or("");
  ep.kex = hc.kex_algorithms.value_or("");
  ep.macs = hc.macs.value_or("");
  return ep;
}

// The hops for `target`, first connected first. Only the first hop's own ProxyJump is
// followed, as `ssh -J a,b` does (b is reached through a whatever b's config says).
void collect_hops(const SshConfig& cfg, const ConnectOptions& o, const std::string& list,
                  const std::string& target_key, std::vector<Endpoint>& out, size_t depth) {
  auto specs = split_hops(list);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (out.size() >= kMaxHops || depth > kMaxHops)
      throw HostFailure(HostStatus::kFailed,
                        fmt::format("ProxyJump: more than {} hops (a loop?)", kMaxHops));
    Host h = parse_jump(specs[i]);
    Endpoint ep = resolve_endpoint(cfg, o, h.address, h.port, h.user, target_key, true);
    // `Host * / ProxyJump bastion` also matches the bastion: a hop does not jump via itself.
    bool via_itself = !ep.proxy_jump.empty() && split_hops(ep.proxy_jump).front() == specs[i];
    if (i == 0 && !ep.proxy_jump.empty() && !via_itself)
      collect_hops(cfg, o, ep.proxy_jump, target_key, out, depth + 1);
    ep.proxy_jump.clear();
    out.push_back(std::move(ep));
  }
}

}  // namespace netres::ssh
