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

void add_common_flags(CLI::App* sub, ssh::SshFlags& f) {
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
  sub->add_option("--connect-timeout", c.connect_timeout,
                  "Connect timeout (e.g. 5s; overrides ConnectTimeout)")
      ->capture_default_str();
  sub->add_option("--timeout", f.timeout, "Command timeout per host (0: none)")
      ->capture_default_str();
  sub->add_option("--keepalive", c.keepalive,
                  "Keepalive interval while waiting (0: off; overrides ServerAliveInterval)")
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

// When `sub` (a subcommand of `ssh`) is chosen: stray arguments are errors (run's command words
// are not stray), the connection flags given on the command line are noted (they beat the ssh
// config, their defaults do not), and `run` becomes the action.
template <class Flags>
void on_chosen(CLI::App* ssh, CLI::App* sub, std::shared_ptr<Flags> flags, Action& action,
               int (*run)(const Flags&), bool takes_command = false) {
  sub->final_callback([=, &action] {
    static const std::vector<std::string> kNone;
    const auto& words = takes_command ? words_after_double_dash() : kNone;
    reject_extras(sub, words);
    reject_extras(ssh, words);
    flags->ssh.connect.connect_timeout_set = sub->get_option("--connect-timeout")->count() > 0;
    flags->ssh.connect.keepalive_set = sub->get_option("--keepalive")->count() > 0;
    action = [flags, run] { return run(*flags); };
  });
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
  auto rf = std::make_shared<ssh::RunFlags>();
  auto* run = ssh->add_subcommand(
      "run", "Run a command on every host: netres ssh run [targets] -- COMMAND");
  add_common_flags(run, rf->ssh);
  run->add_flag("--group", rf->group, "Print each host's output as one block when it finishes");
  run->add_option("--out-dir", rf->out_dir, "Write HOST.stdout, HOST.stderr, HOST.exit here");
  run->add_flag("--shell", rf->shell,
                "Use a PTY shell (network devices) instead of an exec channel");
  run->add_option("--shard", rf->shard,
                  "Run on the K-th of N contiguous shares of the hosts, as K/N (for netres merge)");
  run->add_option("--results", rf->results,
                  "Also write every host's status, exit code and output to FILE for netres merge");
  run->add_option("words", rf->ssh.words, "[targets] -- COMMAND");
  // CLI11 hands "--" in a nested subcommand up to the parents unless they allow extras.
  run->allow_extras();
  ssh->allow_extras();
  on_chosen(ssh, run, rf, action, run_ssh_run, /*takes_command=*/true);

  auto bf = std::make_shared<ssh::BackupFlags>();
  auto* backup = ssh->add_subcommand(
      "backup", "Fetch each host's configuration into DIR/HOST/TIMESTAMP.cfg and diff it");
  add_common_flags(backup, bf->ssh);
  backup->add_option("--dir", bf->dir, "Backup directory")->capture_default_str();
  backup->add_option("--keep", bf->keep, "Backups kept per host (0: all)")->capture_default_str();
  backup->add_option("--command", bf->command,
                     "Command that prints the configuration (default: the platform's)");
  backup->add_option("targets", bf->ssh.words, "Host specs, or patterns with -i");
  on_chosen(ssh, backup, bf, action, run_ssh_backup);

  auto pf = std::make_shared<ssh::PushFlags>();
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
  on_chosen(ssh, push, pf, action, run_ssh_push);

  auto cf = std::make_shared<ssh::CopyFlags>();
  auto* copy = ssh->add_subcommand("copy", "Upload or download a file over SFTP, verified");
  add_common_flags(copy, cf->ssh);
  copy->add_option("--put", cf->put, "Local file to upload to every host");
  copy->add_option("--get", cf->get, "Remote file to download from every host");
  copy->add_option("--to", cf->to,
                   "--put: remote path (ending '/' keeps the name); --get: local dir (files "
                   "land in DIR/HOST/)");
  copy->add_flag("--no-checksum", cf->no_checksum, "Verify sizes only (skip sha256sum)");
  copy->add_option("targets", cf->ssh.words, "Host specs, or patterns with -i");
  on_chosen(ssh, copy, cf, action, run_ssh_copy);
}

}  // namespace netres::cli
