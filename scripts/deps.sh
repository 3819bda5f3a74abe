#!/usr/bin/env bash
# The one list of Debian 12 packages netres needs to build, test and benchmark.
# Idempotent: installs only what is missing, and runs `apt-get update` only then.
#   scripts/deps.sh          build + test packages (what scripts/test.sh and CI need)
#   scripts/deps.sh --bench  also the peers the benchmarks compare against (bench/*.sh)
#   scripts/deps.sh --build-only  only what building netres needs (deploy/Dockerfile's build stage)
set -euo pipefail

build=(
  cmake ninja-build g++ pkg-config
  libpcap-dev libssh-dev libasio-dev libssl-dev libnl-route-3-dev
  libyaml-cpp-dev nlohmann-json3-dev libfmt-dev libcli11-dev
  libcpp-httplib-dev  # monitor's HTTP endpoint; brings the runtime library libcpp-httplib0.11
  libnghttp2-dev  # monitor's http check speaks HTTP/2 (runtime: libnghttp2-14)
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev
)
test=(
  libgtest-dev libgmock-dev libbenchmark-dev python3
  iproute2 iptables netbase nmap dnsmasq-base unbound bind9-dnsutils tcpdump tshark python3-scapy openssh-server openssh-client dropbear-bin nginx-light procps
  openssl python3-yaml
  prometheus  # test_monitor.py: a real Prometheus scrapes netres monitor; promtool checks metrics
  prometheus-blackbox-exporter  # test_monitor.py: the peer, same targets, same metric values
  python3-locust python3-msgpack python3-zmq
  # test_monitor_starttls.py runs its own instances (own config, loopback, ports 18860-18879);
  # the system services these packages bring are stopped and disabled below
  exim4-daemon-light dovecot-imapd dovecot-pop3d vsftpd postgresql slapd prosody
)
bench=(
  dnsperf hyperfine python3-dnspython wrk hey nghttp2-client python3-locust
  pssh ansible-core python3-paramiko iperf3
  clang libclang-rt-14-dev chromium
)

case "${1:-}" in
  --build-only) want=("${build[@]}") ;;
  --bench) want=("${build[@]}" "${test[@]}" "${bench[@]}") ;;
  "") want=("${build[@]}" "${test[@]}") ;;
  *) echo "usage: scripts/deps.sh [--bench | --build-only]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#want[@]} packages present"
  exit 0
fi

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "deps: installing ${missing[*]}"
$sudo apt-get update -qq
# No system service of a package installed here starts (the tests run their own instances, on
# loopback, on their own ports): a policy-rc.d that refuses every start, for the length of the
# install, unless the machine has its own (a container image usually does).
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Servers the tests run themselves: Debian enables their system services on install (policy-rc.d
# above kept them from starting), and dovecot, vsftpd, slapd and prosody listen on every address by
# default: disabled so that a reboot does not start them either. Only the ones just installed are
# touched (a machine's own mail or database service is left alone).
services=()
for p in "${missing[@]}"; do
  case "$p" in
    exim4-daemon-light) services+=(exim4) ;;
    dovecot-imapd | dovecot-pop3d) services+=(dovecot) ;;
    vsftpd) services+=(vsftpd) ;;
    postgresql) services+=(postgresql) ;;
    slapd) services+=(slapd) ;;
    prosody) services+=(prosody) ;;
  esac
done
if ((${#services[@]} > 0)) && [[ -d /run/systemd/system ]]; then
  $sudo systemctl disable --now "${services[@]}" || true
fi
