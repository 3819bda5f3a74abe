// netres ssh: the flags of run, backup, push and copy; the verbs themselves are in ssh_verbs.cc.
// Verbs: run (exec or --shell), backup, push, copy.
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/ssh_verbs.h"
#include "common/error.h"

namespace netres::cli {
namespace {

void add_common_flags(CLI::App* sub, SshFlags& f) {
  ssh::FleetFlags& c = f.connect;
  sub->add_option("-H,--hosts", f.hosts, "Host specs: host,user@host:2222,[::1]:22");
  sub->add_option("-i,--inventory", f.inventory,
                  "Inventory: a file of host specs (one per line) or Ansible-style YAML");
  sub->add_option("--limit", f.limit,
                  "Only these hosts/groups/globs (comma separated; !x excludes)");
  sub->add_option("-F,--ssh-config", c.config_file,
                  "ssh config file (default ~/.ssh/config, then /etc/ssh/ssh_config)");
  sub->add_option("--known-hosts", c.known_hosts,
                  "known_hosts file, replacing UserKnownHostsFile (default ~/.ssh/known_hosts)");
  sub->add_flag("--accept-new", c.accept_new,
                "Add unknown host keys to known_hosts (changed keys are always refused)");
  sub->add_option("--strict-host-keys", c.strict_host_keys,
                  "yes, accept-new or no (overrides StrictHostKeyChecking; the config's 'no' is "
                  "honoured only with this flag)")
      ->check(CLI::IsMember({"yes", "accept-new", "no"}));
  sub->add_option("-J,--jump", c.jump,
                  "Jump host(s) [user@]host[:port][,...] (overrides ProxyJump; 'none' disables)");
  sub->add_flag("-v,--verbose", f.verbose, "libssh's log on stderr (-vv, -vvv: more)");
  sub->add_option("-u,--user", c.user, "Login user (overrides the inventory and the ssh config)");
  sub->add_option("--key", c.key, "Private key file to try first");
  sub->add_flag("--ask-pass", c.ask_pass, "Prompt for a password (else NETRES_SSH_PASSWORD)");
  sub->add_flag("--ask-passphrase", c.ask_passphrase,
                "Prompt for the key passphrase (else NETRES_SSH_PASSPHRASE)");
  f.connect_timeout_opt = sub->add_option("--connect-timeout", c.connect_timeout,
                                          "Connect timeout (e.g. 5s; overrides ConnectTimeout)")
                              ->capture_default_str();
  sub->add_option("--timeout", f.timeout, "Command timeout per host (0: none)")
      ->capture_default_str();
  f.keepalive_opt = sub->add_option("--keepalive", c.keepalive,
                                    "Keepalive interval while waiting (0: off; overrides "
                                    "ServerAliveInterval)")
                        ->capture_default_str();
  sub->add_option("-f,--forks", c.forks, "Parallel sessions")->capture_default_str();
  sub->add_flag("--json", f.json, "NDJSON results, one object per host");
  sub->add_option("--platform", f.platform,
                  "Device platform when the inventory has no netres_platform (cisco_ios, "
                  "juniper_junos, linux)");
  sub->add_option("--prompt", f.prompt, "Prompt regex for --shell, overriding the platform's");
}

// allow_extras lets "--" reach us in nested subcommands; a stray flag must still be an error.
void reject_extras(const CLI::App* sub, const std::vector<std::string>& command_words) {
  for (const auto& extra : sub->remaining()) {
    if (extra == "--") continue;
    if (std::find(command_words.begin(), command_words.end(), extra) != command_words.end())
      continue;
    throw UsageError(fmt::format("unexpected argument '{}'", extra));
  }
}

}  // namespace

void add_ssh_command(CLI::App& app, Action& action) {
  auto* ssh = app.add_subcommand(
      "ssh", "Run commands, back up and push device configs, copy files over SSH, in parallel");
  ssh->require_subcommand(1, 1);
  ssh->footer(
      "Statuses: ok, failed, unreachable, auth-failed, timeout, hostkey. Exit 1 if any host is "
      "not ok. See docs/ssh.md.");

  // Each subcommand's flags live in one struct owned by its callback, as in the other verbs.
  struct RunFlags {
    SshFlags ssh;
    bool group = false, shell = false;
    std::string out_dir;
  };
  auto rf = std::make_shared<RunFlags>();
  auto* run = ssh->add_subcommand(
      "run", "Run a command on every host: netres ssh run [targets] -- COMMAND");
  add_common_flags(run, rf->ssh);
  run->add_flag("--group", rf->group, "Print each host's output as one block when it finishes");
  run->add_option("--out-dir", rf->out_dir, "Write HOST.stdout, HOST.stderr, HOST.exit here");
  run->add_flag("--shell", rf->shell,
                "Use a PTY shell (network devices) instead of an exec channel");
  run->add_option("words", rf->ssh.words, "[targets] -- COMMAND");
  // CLI11 hands "--" in a nested subcommand up to the parents unless they allow extras.
  run->allow_extras();
  ssh->allow_extras();
  run->final_callback([&action, run, ssh, rf] {
    reject_extras(run, words_after_double_dash());
    reject_extras(ssh, words_after_double_dash());
    action = [rf] { return run_ssh_run(rf->ssh, rf->group, rf->out_dir, rf->shell); };
  });

  struct BackupFlags {
    SshFlags ssh;
    std::string dir = "backups", command;
    unsigned keep = 10;
  };
  auto bf = std::make_shared<BackupFlags>();
  auto* backup = ssh->add_subcommand(
      "backup", "Fetch each host's configuration into DIR/HOST/TIMESTAMP.cfg and diff it");
  add_common_flags(backup, bf->ssh);
  backup->add_option("--dir", bf->dir, "Backup directory")->capture_default_str();
  backup->add_option("--keep", bf->keep, "Backups kept per host (0: all)")->capture_default_str();
  backup->add_option("--command", bf->command,
                     "Command that prints the configuration (default: the platform's)");
  backup->add_option("targets", bf->ssh.words, "Host specs, or patterns with -i");
  backup->final_callback([&action, ssh, backup, bf] {
    reject_extras(backup, {});
    reject_extras(ssh, {});
    action = [bf] { return run_ssh_backup(bf->ssh, bf->dir, bf->keep, bf->command); };
  });

  struct PushFlags {
    SshFlags ssh;
    std::string file, dir = "backups";
    bool dry_run = false, rollback = false;
    unsigned keep = 10;
  };
  auto pf = std::make_shared<PushFlags>();
  auto* push = ssh->add_subcommand(
      "push", "Send configuration lines (backup first, stop at the first device error)");
  add_common_flags(push, pf->ssh);
  push->add_option("--file", pf->file, "Configuration lines to send, one per line");
  push->add_flag("--dry-run", pf->dry_run,
                 "Show what would be sent and the diff against the latest backup");
  push->add_flag("--rollback", pf->rollback, "Re-apply the latest backup");
  push->add_option("--dir", pf->dir, "Backup directory")->capture_default_str();
  push->add_option("--keep", pf->keep, "Backups kept per host (0: all)")->capture_default_str();
  push->add_option("targets", pf->ssh.words, "Host specs, or patterns with -i");

  struct CopyFlags {
    SshFlags ssh;
    std::string put, get, to;
    bool no_checksum = false;
  };
  auto cf = std::make_shared<CopyFlags>();
  auto* copy = ssh->add_subcommand("copy", "Upload or download a file over SFTP, verified");
  add_common_flags(copy, cf->ssh);
  copy->add_option("--put", cf->put, "Local file to upload to every host");
  copy->add_option("--get", cf->get, "Remote file to download from every host");
  copy->add_option("--to", cf->to,
                   "--put: remote path (ending '/' keeps the name); --get: local dir (files "
                   "land in DIR/HOST/)");
  copy->add_flag("--no-checksum", cf->no_checksum, "Verify sizes only (skip sha256sum)");
  copy->add_option("targets", cf->ssh.words, "Host specs, or patterns with -i");
  copy->final_callback([&action, ssh, copy, cf] {
    reject_extras(copy, {});
    reject_extras(ssh, {});
    action = [cf] { return run_ssh_copy(cf->ssh, cf->put, cf->get, cf->to, cf->no_checksum); };
  });

  push->final_callback([&action, ssh, push, pf] {
    reject_extras(push, {});
    reject_extras(ssh, {});
    action = [pf] {
      return run_ssh_push(pf->ssh, pf->file, pf->dry_run, pf->rollback, pf->dir, pf->keep);
    };
  });
}

}  // namespace netres::cli
