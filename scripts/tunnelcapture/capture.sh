#!/usr/bin/env bash
# Records testdata/pcaps/tunnel: TLS between openssl s_server and s_client
# inside tunnels the kernel builds between two network namespaces joined by
# a veth pair, recorded by tcpdump on the underlay (the veth), so each
# capture holds the encapsulated frames as they crossed the wire. Each
# tunnel carries three handshakes: TLS 1.3 and TLS 1.2 over its inner IPv4
# addresses, TLS 1.3 over its inner IPv6 ones.
#
# Tunnel types this kernel cannot create (`ip link add` refuses them:
# geneve, gre, ipip, sit, ip6tnl and erspan need modules the test machine
# lacks) are skipped with a note; scripts/tunnelcapture/rewrap then wraps the
# inner frames of the VXLAN capture in those headers and in the ones no
# kernel tunnel produces here (MPLS, PPPoE, Cisco SGT, Teredo, 802.11 under
# radiotap and PPI, NFLOG, nested ones): synthetic wrapping of real traffic,
# each checked with tshark (it must dissect the ClientHellos as TLS).
#
#   sudo scripts/tunnelcapture/capture.sh      # make tunnel-captures
#
# Needs root (network namespaces), ip, tcpdump, openssl, tshark and go.
# Traffic stays inside the two namespaces the script creates.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$ROOT/testdata/pcaps/tunnel}
C=$ROOT/testdata/pcaps/certs
[ "$(id -u)" = 0 ] || { echo "tunnel-captures: must run as root (network namespaces)" >&2; exit 1; }
for t in ip tcpdump openssl tshark go; do
	command -v $t >/dev/null || { echo "tunnel-captures: $t not found" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/tunnelcapture.XXXXXX)
NC=tlsscope-tunc-$$
NS=tlsscope-tuns-$$
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	ip netns del "$NC" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$OUT"

ip netns add "$NC"
ip netns add "$NS"
ip link add veth-c netns "$NC" type veth peer name veth-s netns "$NS"
for n in "$NC:1" "$NS:2"; do
	ns=${n%:*} i=${n#*:}
	dev=veth-c
	[ "$ns" = "$NS" ] && dev=veth-s
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add 10.200.0.$i/24 dev $dev
	ip -n "$ns" addr add fd00:200::$i/64 dev $dev nodad
	ip -n "$ns" link set $dev up
done

# tunnel NAME NET4 NET6 TYPE ARGS...: a tunnel interface NAME in both
# namespaces, its ARGS with LOCAL and REMOTE replaced by each side's
# underlay address (IPv4, or IPv6 when the args say LOCAL6); inner addresses
# NET4.1/24 and NET6::1/64 on the client's side, .2 and ::2 on the server's.
# Returns 1 when the kernel refuses the type.
tunnel() {
	local name=$1 net4=$2 net6=$3
	shift 3
	local i ns l r args
	for i in 1 2; do
		ns=$NC
		[ $i = 2 ] && ns=$NS
		l=10.200.0.$i r=10.200.0.$((3 - i))
		args="$*"
		if [[ $args == *LOCAL6* ]]; then
			args=${args//LOCAL6/fd00:200::$i}
			args=${args//REMOTE6/fd00:200::$((3 - i))}
		fi
		args=${args//LOCAL/$l}
		args=${args//REMOTE/$r}
		# shellcheck disable=SC2086
		if ! ip -n "$ns" link add "$name" type $args 2>"$WORK/ip.err"; then
			echo "tunnel-captures: this kernel cannot make $name ($(cat "$WORK/ip.err")): skipped" >&2
			ip -n "$NC" link del "$name" 2>/dev/null || true
			return 1
		fi
		ip -n "$ns" addr add "$net4.$i/24" dev "$name"
		ip -n "$ns" addr add "$net6::$i/64" dev "$name" nodad
		ip -n "$ns" link set "$name" up
	done
}

# handshakes NAME NET4 NET6: the underlay capture NAME.pcap of three TLS
# connections to the server's inner addresses.
handshakes() {
	local name=$1 net4=$2 net6=$3
	ip netns exec "$NS" tcpdump -i veth-s -s 0 -U -n --immediate-mode -w "$WORK/$name.pcap" "not icmp6 and not arp" 2>"$WORK/tcpdump.err" &
	local tcpdump=$!
	PIDS+=("$tcpdump")
	for _ in $(seq 100); do
		grep -q "listening on" "$WORK/tcpdump.err" 2>/dev/null && break
		sleep 0.05
	done
	local srv=()
	ip netns exec "$NS" openssl s_server -accept "$net4.2:8443" -cert "$C/leaf.chain.pem" -key "$C/leaf.key" -naccept 2 -quiet >"$WORK/s4.log" 2>&1 &
	srv+=($!)
	ip netns exec "$NS" openssl s_server -accept "[$net6::2]:8443" -cert "$C/leaf.chain.pem" -key "$C/leaf.key" -naccept 1 -quiet >"$WORK/s6.log" 2>&1 &
	srv+=($!)
	PIDS+=("${srv[@]}")
	for _ in $(seq 100); do # both servers listening
		[ "$(ip netns exec "$NS" ss -Hltn 'sport = :8443' | wc -l)" -ge 2 ] && break
		sleep 0.05
	done
	sleep 0.2
	echo "hello through $name" | timeout 10 ip netns exec "$NC" openssl s_client -tls1_3 -connect "$net4.2:8443" -servername tls13.$name.test \
		-CAfile "$C/root.pem" -quiet >"$WORK/c.log" 2>&1 || true
	echo "hello through $name" | timeout 10 ip netns exec "$NC" openssl s_client -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -connect "$net4.2:8443" \
		-servername tls12.$name.test -CAfile "$C/root.pem" -quiet >>"$WORK/c.log" 2>&1 || true
	echo "hello through $name" | timeout 10 ip netns exec "$NC" openssl s_client -tls1_3 -connect "[$net6::2]:8443" -servername v6.$name.test \
		-CAfile "$C/root.pem" -quiet >>"$WORK/c.log" 2>&1 || true
	sleep 0.3
	for p in "${srv[@]}"; do kill "$p" 2>/dev/null || true; done
	kill -INT "$tcpdump"
	wait "$tcpdump" 2>/dev/null || true
	mv "$WORK/$name.pcap" "$OUT/"
	chmod 644 "$OUT/$name.pcap"
	echo "tunnel-captures: recorded $name.pcap ($(stat -c %s "$OUT/$name.pcap") bytes, $(tshark -r "$OUT/$name.pcap" -Y tls.handshake.type==1 2>/dev/null | wc -l) ClientHellos by tshark)" >&2
}

# record NAME NET4 NET6 TYPE ARGS...: a tunnel, its capture (recorded
# again, up to three times, until tshark sees the three ClientHellos), and
# the tunnel removed again.
record() {
	local name=$1 net4=$2 net6=$3
	if tunnel "$@"; then
		for try in 1 2 3; do
			handshakes "$name" "$net4" "$net6"
			[ "$(tshark -r "$OUT/$name.pcap" -Y tls.handshake.type==1 2>/dev/null | wc -l)" -ge 3 ] && break
			[ $try = 3 ] && { echo "tunnel-captures: $name: fewer than 3 ClientHellos after 3 tries" >&2; exit 1; }
		done
		ip -n "$NC" link del "$name"
		ip -n "$NS" link del "$name" 2>/dev/null || true
	fi
}

record vxlan 172.16.42 fd42 vxlan id 42 local LOCAL remote REMOTE dstport 4789
record vxlan6 172.16.7 fd07 vxlan id 7 local LOCAL6 remote REMOTE6 dstport 4789
record geneve 172.16.61 fd61 geneve id 61 remote REMOTE
record gre 172.16.47 fd47 gre key 5 local LOCAL remote REMOTE
record gretap 172.16.48 fd48 gretap key 6 local LOCAL remote REMOTE
record ip6gre 172.16.49 fd49 ip6gre local LOCAL6 remote REMOTE6
record ipip 172.16.4 fd04 ipip local LOCAL remote REMOTE
record sit 172.16.41 fd41 sit local LOCAL remote REMOTE
record ip6tnl 172.16.60 fd60 ip6tnl mode any local LOCAL6 remote REMOTE6
record erspan 172.16.88 fd88 erspan seq key 8 erspan_ver 1 erspan 123 local LOCAL remote REMOTE
record erspan3 172.16.89 fd89 erspan seq key 9 erspan_ver 2 erspan_dir ingress erspan_hwid 7 local LOCAL remote REMOTE

# The encapsulations no kernel tunnel made here: the VXLAN capture's inner
# frames rewrapped (see rewrap/main.go), each checked by tshark.
(cd "$ROOT" && go run ./scripts/tunnelcapture/rewrap -in "$OUT/vxlan.pcap" -out "$OUT")
for f in "$OUT"/*.pcap; do
	want=3
	[[ $f == *teredo* ]] && want=1 # IPv6 only
	n=$(tshark -r "$f" -Y tls.handshake.type==1 2>/dev/null | wc -l)
	[ "$n" -ge $want ] || { echo "tunnel-captures: tshark finds $n ClientHellos in $f (want $want)" >&2; exit 1; }
done
echo "tunnel-captures: $(ls "$OUT"/*.pcap | wc -l) captures in $OUT" >&2
