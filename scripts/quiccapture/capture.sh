#!/usr/bin/env bash
# Records testdata/pcaps/quic: one QUIC connection per capture between a
# quic-go server and client on 127.0.0.1 (scripts/quiccapture, its own Go
# module so that tlsscope does not depend on quic-go), with the client's
# key log beside each (NAME.keys).
#
#   sudo scripts/quiccapture/capture.sh      # make quic-captures
#
# Needs root (tcpdump on lo), tcpdump and Go. Ports 21900 and up.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$ROOT/testdata/pcaps/quic}
GO=${GO:-go}
[ "$(id -u)" = 0 ] || { echo "quic-captures: must run as root (tcpdump on lo)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/quiccapture.XXXXXX)
TCPDUMP_PID=
trap '[ -n "$TCPDUMP_PID" ] && kill "$TCPDUMP_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
(cd "$HERE" && CGO_ENABLED=0 "$GO" build -o "$WORK/quiccapture" .)
mkdir -p "$OUT"

# record NAME PORT ARGS...: one connection, its capture and key log.
record() {
	local name=$1 port=$2
	shift 2
	tcpdump -i lo -s 0 -U -n --immediate-mode -w "$WORK/$name.pcap" "udp port $port" 2>"$WORK/tcpdump.err" &
	TCPDUMP_PID=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$WORK/tcpdump.err" 2>/dev/null && break
		sleep 0.05
	done
	"$WORK/quiccapture" -addr "127.0.0.1:$port" -keylog "$WORK/$name.keys" "$@"
	sleep 0.3
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" 2>/dev/null || true
	TCPDUMP_PID=
	mv "$WORK/$name.pcap" "$WORK/$name.keys" "$OUT/"
	chmod 644 "$OUT/$name.pcap" "$OUT/$name.keys"
	echo "quic-captures: recorded $name.pcap ($(stat -c %s "$OUT/$name.pcap") bytes)" >&2
}

record quic-v1 21900
record quic-v2 21901 -version 2
record quic-v1-retry 21902 -retry
