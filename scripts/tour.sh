#!/usr/bin/env bash
# The main job, end to end on a fresh Debian 12 machine: install what netres needs, build it,
# and take a short tour of every verb that exists against servers this script starts itself:
# a DNS server on loopback and a "remote" host in a network namespace it creates (veth pair,
# listeners, a firewalled port block). Nothing leaves the machine; everything is removed at exit.
# Needs root (namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tour is doing while it prepares: the build alone takes minutes on a fresh machine.
step() { printf '\n== %s\n' "$*"; }

step "checking the Debian packages netres needs (scripts/deps.sh; installs what is missing)"
scripts/deps.sh
step "configuring the build in build/ (cmake, Ninja, RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
step "building netres and its tests with $(nproc) jobs (several minutes the first time)"
# Ninja's own progress: one [done/total] line redrawn in place on a terminal, a line per step
# otherwise (a log, CI); compiler errors and warnings show as they happen.
cmake --build build -j "$(nproc)"
netres=build/src/cli/netres
step "built $netres; starting the tour's servers (dnsmasq on loopback, a namespace host, sshd, nginx)"

ns=nrtour
host4=198.18.99.2
host6=fd00:6e72:99::2
dns_port=15399
tmp=$(mktemp -d)
chmod 755 "$tmp"  # nginx workers run as www-data
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  ip link del nrtour0 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cleanup_leftovers() { ip netns del "$ns" 2>/dev/null || true; ip link del nrtour0 2>/dev/null || true; }
cleanup_leftovers

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

# --- a DNS server on loopback with a small zone -------------------------------------------
/usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
  --listen-address=127.0.0.1 --port=$dns_port --local=/tour.test/ --local-ttl=300 \
  --host-record=web.tour.test,$host4,$host6 --cname=www.tour.test,web.tour.test \
  --mx-host=tour.test,mail.tour.test,10 --txt-record=tour.test,"v=spf1 -all" \
  --ptr-record=2.99.18.198.in-addr.arpa,web.tour.test --log-facility=/dev/null &
pids+=($!)

# --- a "remote" host in a namespace: listeners on a few ports, a firewalled block -----------
ip netns add "$ns"
ip link add nrtour0 type veth peer name nrtour1
ip link set nrtour1 netns "$ns"
ip addr add 198.18.99.1/30 dev nrtour0
ip -6 addr add fd00:6e72:99::1/64 dev nrtour0 nodad
ip link set nrtour0 up
ip netns exec "$ns" ip addr add $host4/30 dev nrtour1
ip netns exec "$ns" ip -6 addr add $host6/64 dev nrtour1 nodad
ip netns exec "$ns" ip link set nrtour1 up
ip netns exec "$ns" ip link set lo up
# Safety: the target must be reached through our veth, never a real interface.
ip route get $host4 | grep -q 'dev nrtour0' || { echo "tour: route to $host4 is not via nrtour0" >&2; exit 3; }
ip netns exec "$ns" iptables -A INPUT -p tcp --dport 9000:9099 -j DROP
ip netns exec "$ns" ip6tables -A INPUT -p tcp --dport 9000:9099 -j DROP
ip netns exec "$ns" /usr/bin/python3 - <<'PY' &
import socket, selectors, time
sel = selectors.DefaultSelector()
for port in (22, 25, 80, 443, 3306, 8080):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port)); s.listen(128); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, port)
banner = {22: b"SSH-2.0-OpenSSH_9.2p1 tour\r\n", 25: b"220 tour ESMTP\r\n"}
deadline = time.time() + 600
while time.time() < deadline:
    for key, _ in sel.select(1):
        try:
            c, _ = key.fileobj.accept()
        except OSError:
            continue
        try:
            if key.data in banner:
                c.sendall(banner[key.data])
            elif key.data in (80, 8080):
                c.settimeout(0.5)
                if c.recv(512):
                    c.sendall(b"HTTP/1.0 200 OK\r\nServer: tour-httpd\r\n\r\n")
        except OSError:
            pass
        c.close()
PY
pids+=($!)

# --- an OpenSSH server on the namespace host (its own host key, a tour key, port 2222) -------
mkdir -p /run/sshd "$tmp/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/ssh/tour_key"
cp "$tmp/ssh/tour_key.pub" "$tmp/ssh/authorized_keys"
cat > "$tmp/ssh/sshd_config" <<CFG
Port 2222
ListenAddress $host4
HostKey $tmp/ssh/host_key
AuthorizedKeysFile $tmp/ssh/authorized_keys
PidFile $tmp/ssh/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
CFG
printf '[%s]:2222 %s\n' "$host4" "$(cut -d' ' -f1,2 "$tmp/ssh/host_key.pub")" > "$tmp/ssh/known_hosts"
ip netns exec "$ns" /usr/sbin/sshd -D -e -f "$tmp/ssh/sshd_config" 2>/dev/null &
pids+=($!)

# --- a web server on loopback for the load test ----------------------------------------------
mkdir -p "$tmp/www" "$tmp/nginx"
echo "hello from the tour" > "$tmp/www/index.html"
cat > "$tmp/nginx/nginx.conf" <<CFG
daemon off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx; proxy_temp_path $tmp/nginx; fastcgi_temp_path $tmp/nginx;
  uwsgi_temp_path $tmp/nginx; scgi_temp_path $tmp/nginx;
  server { listen 127.0.0.1:18099; root $tmp/www; }
}
CFG
/usr/sbin/nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" &
pids+=($!)
sleep 1

# --- the tour -------------------------------------------------------------------------------
say "netres resolve --server 127.0.0.1:$dns_port web.tour.test www.tour.test nope.tour.test $host4"
$netres resolve --server 127.0.0.1:$dns_port web.tour.test www.tour.test nope.tour.test $host4 || true
say "netres resolve --server 127.0.0.1:$dns_port --type MX,TXT tour.test --json"
$netres resolve --server 127.0.0.1:$dns_port --type MX,TXT tour.test --json || true
say "netres scan $host4 -p- --banner"
$netres scan $host4 -p- --banner
say "netres scan $host6 -p 1-1024,8080,9000-9010 --open"
$netres scan $host6 -p 1-1024,8080,9000-9010 --open
say "netres scan web.tour.test --dns-server 127.0.0.1:$dns_port -p 22,80,9000 --json"
$netres scan web.tour.test --dns-server 127.0.0.1:$dns_port -p 22,80,9000 --json || true
say "netres capture -i nrtour0 -w tour.pcap --duration 3s tcp  (while scanning a few ports)"
$netres capture -i nrtour0 -w "$tmp/tour.pcap" --duration 3s tcp &
cap=$!
sleep 0.5
$netres scan $host4 -p 20-30,80,9000 --banner >/dev/null
wait $cap || true
say "netres capture -r tour.pcap -c 8"
$netres capture -r "$tmp/tour.pcap" -c 8
say "netres bandwidth -r tour.pcap --by flow --top 5"
$netres bandwidth -r "$tmp/tour.pcap" --by flow --top 5 || true
say "netres shape nrtour0 --rate 10mbit --burst 32k; netres shape nrtour0 --show; netres shape nrtour0 --clear"
$netres shape nrtour0 --rate 10mbit --burst 32k && $netres shape nrtour0 --show && $netres shape nrtour0 --clear || true
say "netres ssh run -H root@$host4:2222 --known-hosts known_hosts --key tour_key -- uname -sr"
$netres ssh run -H "root@$host4:2222" --known-hosts "$tmp/ssh/known_hosts" --key "$tmp/ssh/tour_key" -- uname -sr || true
say "netres load http://127.0.0.1:18099/ -c 20 -d 3s"
$netres load http://127.0.0.1:18099/ -c 20 -d 3s || true
printf '\nTour done. More: README.md and docs/.\n'
