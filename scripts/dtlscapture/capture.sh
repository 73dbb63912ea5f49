#!/usr/bin/env bash
# Records testdata/pcaps/dtls: one DTLS association per capture between
# openssl s_server and s_client on 127.0.0.1, with the client's key log
# beside each (NAME.keys). The server runs with -listen, so it answers the
# first ClientHello with a HelloVerifyRequest (RFC 6347, 4.2.1) and the
# client sends a second ClientHello with the cookie; -mtu 400 makes both
# sides cut their certificate flights into several fragments.
#
#   sudo scripts/dtlscapture/capture.sh      # make dtls-captures
#
# Needs root (tcpdump on lo), tcpdump and openssl. Ports 21910 and up.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$ROOT/testdata/pcaps/dtls}
C=$ROOT/testdata/pcaps/certs
[ "$(id -u)" = 0 ] || { echo "dtls-captures: must run as root (tcpdump on lo)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/dtlscapture.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

# record NAME PORT FLAGS...: one association, its capture and key log;
# FLAGS (the version, a cipher string) go to both sides.
record() {
	local name=$1 port=$2
	shift 2
	local v=("$@")
	tcpdump -i lo -s 0 -U -n --immediate-mode -w "$WORK/$name.pcap" "udp port $port" 2>"$WORK/tcpdump.err" &
	local tcpdump=$!
	PIDS+=("$tcpdump")
	for _ in $(seq 100); do
		grep -q "listening on" "$WORK/tcpdump.err" 2>/dev/null && break
		sleep 0.05
	done
	openssl s_server "${v[@]}" -listen -mtu 400 -accept "127.0.0.1:$port" -cert "$C/leaf.chain.pem" -key "$C/leaf.key" \
		-naccept 1 -quiet >"$WORK/server.log" 2>&1 &
	local server=$!
	PIDS+=("$server")
	sleep 0.5
	echo "hello over DTLS" | timeout 10 openssl s_client "${v[@]}" -mtu 400 -connect "127.0.0.1:$port" -servername localhost \
		-CAfile "$C/root.pem" -keylogfile "$WORK/$name.keys" -quiet >"$WORK/client.log" 2>&1 || true
	sleep 0.3
	kill "$server" 2>/dev/null || true
	kill -INT "$tcpdump"
	wait "$tcpdump" 2>/dev/null || true
	mv "$WORK/$name.pcap" "$WORK/$name.keys" "$OUT/"
	chmod 644 "$OUT/$name.pcap" "$OUT/$name.keys"
	echo "dtls-captures: recorded $name.pcap ($(stat -c %s "$OUT/$name.pcap") bytes)" >&2
}

record dtls12-openssl 21910 -dtls1_2
# DTLS 1.0 signs with MD5+SHA-1: OpenSSL 3 allows it only at security level 0.
record dtls10-openssl 21911 -dtls1 -cipher DEFAULT@SECLEVEL=0
