#!/usr/bin/env bash
# Records the captures in testdata/pcaps from real TLS stacks (OpenSSL,
# curl, Go crypto/tls, Python ssl) and real cleartext clients (curl,
# Python's ftplib, smtplib, poplib, imaplib, telnetlib) talking over
# loopback, then writes testdata/pcaps/manifest.json and README and checks
# the manifest against tshark (go test ./scripts/captures).
#
#   sudo scripts/captures/capture.sh                 # everything (make captures)
#   sudo ONLY='^tls13' scripts/captures/capture.sh   # only matching scenarios
#
# Environment: ONLY (regex of scenario names; the PKI is kept), KEEP=1
# (keep the work directory with the servers' and clients' logs), CHECK=0
# (skip the go test), PORT_BASE (first server port), OUT, GO.
#
# Needs root (tcpdump on lo, lo's MTU), tcpdump, tshark, openssl, curl,
# python3, ss and ip. While it records, lo's MTU is 1500 and its TSO/GSO/GRO
# offloads are off, so segments are what a real network would carry and
# certificate chains span several segments; both are restored on exit.
# Only 127.0.0.1 and ::1 are used. See testdata/pcaps/README.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$ROOT/testdata/pcaps}
CERTS=$OUT/certs
ONLY=${ONLY:-}
GO=${GO:-go}
# Server ports sit below the ephemeral range (32768-60999 on Linux), so no
# client port of one scenario is another scenario's server port.
PORT_BASE=${PORT_BASE:-21400}
PORT=

die() { echo "captures: $*" >&2; exit 1; }
log() { echo "captures: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (tcpdump on lo, ip link set lo mtu)"
for t in tcpdump tshark openssl curl python3 ss ip "$GO"; do
	command -v "$t" >/dev/null || die "$t not installed"
done

WORK=$(mktemp -d /tmp/captures.XXXXXX)
PIDS=()
TCPDUMP_PID=
OLD_MTU=$(cat /sys/class/net/lo/mtu)
OLD_OFFLOAD=

restore() {
	local pid
	for pid in "${PIDS[@]}" $TCPDUMP_PID; do
		kill "$pid" 2>/dev/null || true
	done
	ip link set lo mtu "$OLD_MTU" || true
	if [ -n "$OLD_OFFLOAD" ]; then
		if command -v ethtool >/dev/null; then
			read -r tso gso gro <<<"$OLD_OFFLOAD"
			onoff() { [ "$1" = 1 ] && echo on || echo off; }
			ethtool -K lo tso "$(onoff "$tso")" gso "$(onoff "$gso")" gro "$(onoff "$gro")" || true
		else
			# shellcheck disable=SC2086
			python3 "$HERE/offload.py" lo set $OLD_OFFLOAD || true
		fi
	fi
	if [ "${KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap restore EXIT
trap 'exit 130' INT TERM

OLD_OFFLOAD=$(python3 "$HERE/offload.py" lo get)
if command -v ethtool >/dev/null; then
	ethtool -K lo tso off gso off gro off
else
	python3 "$HERE/offload.py" lo set 0 0 0
fi
ip link set lo mtu 1500

log "building the Go peer"
(cd "$ROOT" && CGO_ENABLED=0 "$GO" build -o "$WORK/peer" ./scripts/captures/peer)
PEER=$WORK/peer
PY="python3 $HERE/peers.py"

# ---------------------------------------------------------------------------
# Certificates: a test PKI made fresh on each full run (reused when ONLY is
# set, so new captures match the committed ones). Dates are relative to the
# day of the run. Test-only key material, committed on purpose.

days() { date -u -d "$1 days" +%Y%m%d%H%M%SZ; }

pki() {
	rm -rf "$CERTS"
	mkdir -p "$CERTS"
	cd "$CERTS"
	cat >ca.cnf <<-'EOF'
		[ca]
		default_ca = testca
		[testca]
		dir = .
		database = ./index.txt
		new_certs_dir = ./newcerts
		rand_serial = yes
		default_md = sha256
		policy = any
		unique_subject = no
		copy_extensions = none
		[any]
		commonName = supplied
		organizationName = optional
		[req]
		distinguished_name = dn
		[dn]
		[root]
		basicConstraints = critical, CA:true
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash
		[intermediate]
		basicConstraints = critical, CA:true, pathlen:0
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
		[localhost]
		basicConstraints = critical, CA:false
		keyUsage = critical, digitalSignature, keyEncipherment
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
		[wronghost]
		basicConstraints = critical, CA:false
		keyUsage = critical, digitalSignature, keyEncipherment
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:www.example.com
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
		[client]
		basicConstraints = critical, CA:false
		keyUsage = critical, digitalSignature
		extendedKeyUsage = clientAuth
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
		[selfsigned]
		basicConstraints = critical, CA:false
		keyUsage = critical, digitalSignature, keyEncipherment
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
	EOF
	mkdir -p newcerts
	: >index.txt

	# Every certificate is issued with `openssl ca`, whose -startdate and
	# -enddate set exact validity dates (-selfsign for the roots and the
	# self-signed leaf).
	#     name          issuer        subject                          profile    from  to    key        digest
	issue root          self         "/O=tlsscope test/CN=tlsscope Test Root CA" \
	                                                                   root       -1100 3650  rsa:2048   sha256
	issue rogue-root    self         "/O=Not trusted by tests/CN=Rogue Root CA" \
	                                                                   root       -1100 3650  rsa:2048   sha256
	issue intermediate  root         "/O=tlsscope test/CN=tlsscope Test Intermediate CA" \
	                                                                   intermediate -1000 2650 rsa:2048  sha256
	issue leaf          intermediate "/CN=localhost"                   localhost  -30   335   rsa:2048   sha256
	issue leaf-ecdsa    intermediate "/CN=localhost"                   localhost  -30   335   ec         sha256
	issue expired       intermediate "/CN=localhost"                   localhost  -400  -35   rsa:2048   sha256
	issue not-yet-valid intermediate "/CN=localhost"                   localhost  30    395   rsa:2048   sha256
	issue expiring-soon intermediate "/CN=localhost"                   localhost  -358  7     rsa:2048   sha256
	issue wrong-host    intermediate "/CN=www.example.com"             wronghost  -30   335   rsa:2048   sha256
	issue weak-key      intermediate "/CN=localhost"                   localhost  -30   335   rsa:1024   sha256
	issue sha1          intermediate "/CN=localhost"                   localhost  -30   335   rsa:2048   sha1
	issue long-validity intermediate "/CN=localhost"                   localhost  -1    824   rsa:2048   sha256
	issue untrusted     rogue-root   "/CN=localhost"                   localhost  -30   335   rsa:2048   sha256
	issue client        intermediate "/CN=alice"                       client     -30   335   rsa:2048   sha256
	issue self-signed   self         "/CN=localhost"                   selfsigned -30   335   rsa:2048   sha256

	# Chains as servers send them: leaf first, then the intermediate.
	local n
	for n in leaf leaf-ecdsa expired not-yet-valid expiring-soon wrong-host weak-key sha1 long-validity client; do
		cat "$n.pem" intermediate.pem >"$n.chain.pem"
	done
	cp untrusted.pem untrusted.chain.pem
	cp self-signed.pem self-signed.chain.pem
	# Out of order: leaf, root, intermediate (the intermediate's issuer
	# comes before it).
	cat leaf.pem root.pem intermediate.pem >out-of-order.chain.pem
	cat root.pem intermediate.pem >out-of-order.extra.pem
	cat intermediate.pem >intermediate.only.pem
	rm -rf newcerts index.txt* ./*.csr ./*.old
	cp root.pem "$OUT/ca.pem"
	cd - >/dev/null
}

# issue NAME ISSUER SUBJECT PROFILE FROM_DAYS TO_DAYS KEY DIGEST
issue() {
	local name=$1 issuer=$2 subj=$3 profile=$4 from=$5 to=$6 key=$7 md=$8
	if [ "$key" = ec ]; then
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" \
			-out "$name.csr" -subj "$subj" -config ca.cnf 2>/dev/null
	else
		openssl req -new -newkey "$key" -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" \
			-config ca.cnf 2>/dev/null
	fi
	local signer=(-cert "$issuer.pem" -keyfile "$issuer.key")
	[ "$issuer" = self ] && signer=(-selfsign -keyfile "$name.key")
	openssl ca -batch -notext -config ca.cnf "${signer[@]}" -in "$name.csr" \
		-out "$name.pem" -extensions "$profile" -startdate "$(days "$from")" -enddate "$(days "$to")" \
		-md "$md" 2>"$WORK/ca.err" || { cat "$WORK/ca.err" >&2; die "issuing $name"; }
}

if [ -z "$ONLY" ] || [ ! -f "$CERTS/leaf.pem" ]; then
	log "making the test PKI in $CERTS"
	pki
fi
C=$CERTS
DH1024=$WORK/dh1024.pem
python3 "$HERE/oakley2.py" >"$DH1024"
FFDHE2048=$WORK/ffdhe2048.pem
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$FFDHE2048" 2>/dev/null

# ---------------------------------------------------------------------------
# Recording helpers.

# scenario NAME: gives the next scenario its port, BASE + its position in
# this file (so a scenario keeps its port when others are re-recorded or
# added at the end), and says whether ONLY selects it.
SCENARIO_INDEX=0
scenario() {
	PORT=$((PORT_BASE + SCENARIO_INDEX))
	SCENARIO_INDEX=$((SCENARIO_INDEX + 1))
	SCN=$1
	want "$1" || return 1
	if ss -Hltn "sport = :$PORT" | grep -q .; then
		die "port $PORT (for $1) is in use; set PORT_BASE to another free range"
	fi
}

# start CMD...: runs a server in the background and remembers it.
start() {
	"$@" >>"$WORK/servers.log" 2>&1 &
	PIDS+=($!)
}

wait_listen() {
	local port=$1 i
	for i in $(seq 100); do
		ss -Hltn "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	tail -20 "$WORK/servers.log" >&2
	die "nothing listening on port $port"
}

# begin: starts tcpdump for the current scenario's port.
begin() {
	CUR=$SCN
	rm -f "$WORK/tcpdump.err"
	tcpdump -i lo -s 0 -U -n --immediate-mode -w "$WORK/$CUR.pcap" "tcp port $PORT" 2>"$WORK/tcpdump.err" &
	TCPDUMP_PID=$!
	local i
	for i in $(seq 100); do
		grep -q "listening on" "$WORK/tcpdump.err" 2>/dev/null && return 0
		sleep 0.05
	done
	die "tcpdump did not start: $(cat "$WORK/tcpdump.err")"
}

# finish: waits (up to 3 s) for the scenario's connections to close, then
# stops the capture and the servers and keeps the pcap.
finish() {
	local i
	for i in $(seq 30); do
		ss -Htan "( sport = :$PORT or dport = :$PORT )" | grep -qv -e LISTEN -e TIME-WAIT || break
		sleep 0.1
	done
	sleep 0.2
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" 2>/dev/null || true
	TCPDUMP_PID=
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
	mv "$WORK/$CUR.pcap" "$OUT/$CUR.pcap"
	chmod 644 "$OUT/$CUR.pcap"
	rm -f "$OUT/$CUR.keys"
	if grep -qv '^#' "$WORK/$CUR.keys" 2>/dev/null; then # secrets, not just s_client's header
		mv "$WORK/$CUR.keys" "$OUT/$CUR.keys"
		chmod 644 "$OUT/$CUR.keys"
	fi
	log "recorded $CUR.pcap ($(stat -c %s "$OUT/$CUR.pcap") bytes)"
}

# meta key=value ...: the intent of the current scenario for the manifest.
meta() {
	python3 "$HERE/manifest.py" add "$WORK/entries.jsonl" "$CUR" port="$PORT" "$@"
}

want() { [ -z "$ONLY" ] || [[ $1 =~ $ONLY ]]; }

REQ='GET / HTTP/1.0\r\n\r\n'
# client STDIN CMD...: runs a client with a request on stdin; failures are
# the point of some scenarios, so they are logged, not fatal.
# TLS clients log their secrets (NSS key log format) to $WORK/NAME.keys,
# kept beside the pcap as NAME.keys so tshark can decrypt TLS 1.3: curl,
# Python's ssl and the Go peer read SSLKEYLOGFILE, s_client gets -keylogfile.
client() {
	local input=$1
	shift
	local keys=$WORK/$CUR.keys
	if [ "$1 ${2:-}" = "openssl s_client" ]; then
		set -- "$@" -keylogfile "$keys"
	fi
	printf "$input" | SSLKEYLOGFILE=$keys timeout 20 "$@" >>"$WORK/clients.log" 2>&1 || log "$CUR: client exited $?"
}

# ossl NAME ADDR "SERVER OPTS" "CLIENT OPTS" [CONNECTIONS]: one OpenSSL
# s_server -www and s_client exchange (or several with CONNECTIONS).
ossl() {
	local name=$1 addr=$2 sopts=$3 copts=$4 n=${5:-1} i
	scenario "$name" || return 1
	# shellcheck disable=SC2086
	start openssl s_server -accept "$addr:$PORT" -www -naccept "$n" $sopts
	wait_listen "$PORT"
	begin
	for ((i = 0; i < n; i++)); do
		# shellcheck disable=SC2086
		client "$REQ" openssl s_client -connect "$addr:$PORT" -ign_eof $copts
	done
	finish
}

CA="-CAfile $C/root.pem"
LEAF="-cert $C/leaf.pem -key $C/leaf.key -cert_chain $C/intermediate.only.pem"
SNI="-servername localhost"
S0='-cipher DEFAULT@SECLEVEL=0'

# ---------------------------------------------------------------------------
# OpenSSL s_server / s_client.

if ossl tls13-openssl 127.0.0.1 "$LEAF" "$CA $SNI"; then
	meta scenario="TLS 1.3 with OpenSSL defaults" client="openssl s_client" server="openssl s_server" \
		version="TLS 1.3" cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost cert=good
fi

if ossl tls13-openssl-ipv6 '[::1]' "$LEAF" "$CA $SNI"; then
	meta scenario="TLS 1.3 with OpenSSL defaults over IPv6 (::1)" client="openssl s_client" \
		server="openssl s_server" address=::1 version="TLS 1.3" cipher_suite=TLS_AES_256_GCM_SHA384 \
		cipher_suite_id=0x1302 sni=localhost cert=good
fi

if ossl tls13-hrr-openssl 127.0.0.1 "$LEAF -groups P-256" "$CA $SNI -groups X25519:P-256"; then
	meta scenario="TLS 1.3 HelloRetryRequest: the client's key share is X25519, the server only takes P-256" \
		client="openssl s_client -groups X25519:P-256" server="openssl s_server -groups P-256" \
		version="TLS 1.3" cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost cert=good \
		hrr=true group=secp256r1
fi

if scenario tls13-resumption-openssl; then
	start openssl s_server -accept "127.0.0.1:$PORT" -www -naccept 2 $LEAF
	wait_listen "$PORT"
	begin
	client "$REQ" openssl s_client -connect "127.0.0.1:$PORT" -ign_eof $CA $SNI -sess_out "$WORK/sess13"
	client "$REQ" openssl s_client -connect "127.0.0.1:$PORT" -ign_eof $CA $SNI -sess_in "$WORK/sess13"
	finish
	meta scenario="TLS 1.3 full handshake, then PSK resumption with the ticket it gave (sess_out, sess_in)" \
		client="openssl s_client" server="openssl s_server" version="TLS 1.3" \
		cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost cert=good \
		connections=2 resumed=true
fi

if ossl tls12-ecdhe-rsa-openssl 127.0.0.1 "$LEAF" "$CA $SNI -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"; then
	meta scenario="TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 with a good chain (leaf, intermediate)" \
		client="openssl s_client" server="openssl s_server" version="TLS 1.2" \
		cipher_suite=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 cipher_suite_id=0xc02f sni=localhost cert=good \
		chain_length=2
fi

if ossl tls12-ecdhe-ecdsa-openssl 127.0.0.1 \
		"-cert $C/leaf-ecdsa.pem -key $C/leaf-ecdsa.key -cert_chain $C/intermediate.only.pem" \
		"$CA $SNI -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384"; then
	meta scenario="TLS 1.2 ECDHE-ECDSA with a P-256 leaf" client="openssl s_client" server="openssl s_server" \
		version="TLS 1.2" cipher_suite=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 cipher_suite_id=0xc02c \
		sni=localhost cert=good-ecdsa chain_length=2
fi

if ossl tls12-dhe-rsa-openssl 127.0.0.1 "$LEAF" "$CA $SNI -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256"; then
	meta scenario="TLS 1.2 DHE-RSA with the server's automatic (2048-bit or larger) DH group" \
		client="openssl s_client" server="openssl s_server" version="TLS 1.2" \
		cipher_suite=TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 cipher_suite_id=0x009e sni=localhost cert=good \
		dh_bits=2048
fi

if ossl tls12-dhe-rsa-weak-dh-openssl 127.0.0.1 "$LEAF -dhparam $DH1024 $S0" \
		"$CA $SNI -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256@SECLEVEL=0"; then
	meta scenario="TLS 1.2 DHE-RSA with a 1024-bit DH group (s_server -dhparam)" \
		client="openssl s_client" server="openssl s_server -dhparam (RFC 2409 group 2, 1024 bits)" version="TLS 1.2" \
		cipher_suite=TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 cipher_suite_id=0x009e sni=localhost cert=good \
		dh_bits=1024 findings=weak-dh-group
fi

if ossl tls12-rsa-aes128-sha-openssl 127.0.0.1 "$LEAF $S0" "$CA $SNI -tls1_2 -cipher AES128-SHA@SECLEVEL=0"; then
	meta scenario="TLS 1.2 static RSA key exchange with AES128-SHA (CBC, no forward secrecy)" \
		client="openssl s_client" server="openssl s_server" version="TLS 1.2" \
		cipher_suite=TLS_RSA_WITH_AES_128_CBC_SHA cipher_suite_id=0x002f sni=localhost cert=good \
		findings=no-forward-secrecy,cbc-mode-cipher
fi

if ossl tls11-openssl 127.0.0.1 "$LEAF $S0" "$CA $SNI -tls1_1 $S0"; then
	meta scenario="TLS 1.1 (client and server at SECLEVEL=0)" client="openssl s_client -tls1_1" \
		server="openssl s_server" version="TLS 1.1" cipher_suite=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA \
		cipher_suite_id=0xc014 sni=localhost cert=good \
		findings=deprecated-version,deprecated-version-offered,cbc-mode-cipher
fi

if ossl tls10-openssl 127.0.0.1 "$LEAF $S0" "$CA $SNI -tls1 $S0"; then
	meta scenario="TLS 1.0 (client and server at SECLEVEL=0)" client="openssl s_client -tls1" \
		server="openssl s_server" version="TLS 1.0" cipher_suite=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA \
		cipher_suite_id=0xc014 sni=localhost cert=good \
		findings=deprecated-version,deprecated-version-offered,cbc-mode-cipher
fi

if ossl tls13-offers-tls10-openssl 127.0.0.1 "$LEAF" "$CA $SNI -min_protocol TLSv1 $S0"; then
	meta scenario="The client offers TLS 1.0 to 1.3 (SECLEVEL=0, -min_protocol TLSv1); TLS 1.3 is negotiated" \
		client="openssl s_client -min_protocol TLSv1" server="openssl s_server" version="TLS 1.3" \
		cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost cert=good \
		versions_offered="TLS 1.3,TLS 1.2,TLS 1.1,TLS 1.0" findings=deprecated-version-offered
fi

NULLREQ='GET /login?user=alice&password=NullCipherSecret1 HTTP/1.0\r\nHost: localhost\r\nAuthorization: Basic YWxpY2U6TnVsbENpcGhlclNlY3JldDE=\r\n\r\n'
if scenario tls12-null-cipher-openssl; then
	start openssl s_server -accept "127.0.0.1:$PORT" -www -naccept 1 $LEAF -cipher ALL:eNULL:@SECLEVEL=0
	wait_listen "$PORT"
	begin
	client "$NULLREQ" openssl s_client -connect "127.0.0.1:$PORT" -ign_eof $CA $SNI -tls1_2 -cipher NULL-SHA256@SECLEVEL=0
	finish
	meta scenario="TLS 1.2 NULL-SHA256: no encryption; the HTTP request carries a password and Basic credentials" \
		client="openssl s_client" server="openssl s_server -www" version="TLS 1.2" \
		cipher_suite=TLS_RSA_WITH_NULL_SHA256 cipher_suite_id=0x003b sni=localhost cert=good \
		findings=weak-cipher,no-forward-secrecy,plaintext-credentials \
		secrets=NullCipherSecret1,YWxpY2U6TnVsbENpcGhlclNlY3JldDE=
fi

if ossl tls12-anon-dh-openssl 127.0.0.1 "-nocert -dhparam $FFDHE2048 -cipher ADH-AES128-SHA@SECLEVEL=0" \
		"$SNI -tls1_2 -cipher ADH-AES128-SHA@SECLEVEL=0"; then
	meta scenario="TLS 1.2 anonymous DH (ADH-AES128-SHA, ffdhe2048 group): no server certificate at all" \
		client="openssl s_client" server="openssl s_server -nocert" version="TLS 1.2" \
		cipher_suite=TLS_DH_anon_WITH_AES_128_CBC_SHA cipher_suite_id=0x0034 sni=localhost cert=none dh_bits=2048 \
		findings=weak-cipher,cbc-mode-cipher
fi

if scenario tls12-session-id-resumption-openssl; then
	start openssl s_server -accept "127.0.0.1:$PORT" -www -naccept 2 -no_ticket $LEAF
	wait_listen "$PORT"
	begin
	client "$REQ" openssl s_client -connect "127.0.0.1:$PORT" -ign_eof $CA $SNI -tls1_2 -no_ticket -sess_out "$WORK/sess12"
	client "$REQ" openssl s_client -connect "127.0.0.1:$PORT" -ign_eof $CA $SNI -tls1_2 -no_ticket -sess_in "$WORK/sess12"
	finish
	meta scenario="TLS 1.2 full handshake, then an abbreviated one resuming its session ID (no tickets)" \
		client="openssl s_client" server="openssl s_server -no_ticket" version="TLS 1.2" \
		cipher_suite=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 cipher_suite_id=0xc030 sni=localhost cert=good \
		connections=2 resumed=true
fi

if scenario tls12-ticket-resumption-openssl; then
	start openssl s_server -accept "127.0.0.1:$PORT" -www -naccept 2 $LEAF
	wait_listen "$PORT"
	begin
	client "$REQ" openssl s_client -connect "127.0.0.1:$PORT" -ign_eof $CA $SNI -tls1_2 -sess_out "$WORK/sess12t"
	client "$REQ" openssl s_client -connect "127.0.0.1:$PORT" -ign_eof $CA $SNI -tls1_2 -sess_in "$WORK/sess12t"
	finish
	meta scenario="TLS 1.2 full handshake with a NewSessionTicket, then resumption with that ticket" \
		client="openssl s_client" server="openssl s_server" version="TLS 1.2" \
		cipher_suite=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 cipher_suite_id=0xc030 sni=localhost cert=good \
		connections=2 resumed=true
fi

if ossl tls12-client-cert-openssl 127.0.0.1 "$LEAF -Verify 2 $CA" \
		"$CA $SNI -tls1_2 -cert $C/client.pem -key $C/client.key -cert_chain $C/intermediate.only.pem"; then
	meta scenario="TLS 1.2 mutual TLS: the server requires a client certificate (CN=alice)" \
		client="openssl s_client -cert" server="openssl s_server -Verify 2" version="TLS 1.2" \
		cipher_suite=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 cipher_suite_id=0xc030 sni=localhost cert=good \
		client_cert=true
fi

if ossl tls13-client-cert-openssl 127.0.0.1 "$LEAF -Verify 2 $CA" \
		"$CA $SNI -cert $C/client.pem -key $C/client.key -cert_chain $C/intermediate.only.pem"; then
	meta scenario="TLS 1.3 mutual TLS (the certificates are encrypted)" \
		client="openssl s_client -cert" server="openssl s_server -Verify 2" version="TLS 1.3" \
		cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost cert=good client_cert=true
fi

if ossl handshake-version-mismatch-openssl 127.0.0.1 "$LEAF -tls1_3" "$CA $SNI -tls1_2"; then
	meta scenario="Failed handshake: the server takes only TLS 1.3, the client only TLS 1.2" \
		client="openssl s_client -tls1_2" server="openssl s_server -tls1_3" handshake=failed \
		alert=protocol_version sni=localhost findings=handshake-failed
fi

if ossl handshake-no-shared-cipher-openssl 127.0.0.1 "$LEAF -tls1_2 -cipher AES256-SHA@SECLEVEL=0" \
		"$CA $SNI -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"; then
	meta scenario="Failed handshake: no cipher suite in common (TLS 1.2)" \
		client="openssl s_client -cipher ECDHE-RSA-AES128-GCM-SHA256" server="openssl s_server -cipher AES256-SHA" \
		handshake=failed alert=handshake_failure sni=localhost findings=handshake-failed
fi

if ossl tls13-no-sni-openssl 127.0.0.1 "$LEAF" "$CA -noservername"; then
	meta scenario="TLS 1.3 without server_name (s_client -noservername)" client="openssl s_client -noservername" \
		server="openssl s_server" version="TLS 1.3" cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 \
		sni= cert=good findings=missing-sni
fi

if ossl tls12-alpn-h2-openssl 127.0.0.1 "$LEAF -alpn h2,http/1.1" "$CA $SNI -tls1_2 -alpn h2,http/1.1"; then
	meta scenario="TLS 1.2 with ALPN: the client offers h2 and http/1.1, the server picks h2" \
		client="openssl s_client -alpn h2,http/1.1" server="openssl s_server -alpn h2,http/1.1" version="TLS 1.2" \
		cipher_suite=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 cipher_suite_id=0xc030 sni=localhost cert=good \
		alpn_offered=h2,http/1.1 alpn=h2
fi

if ossl tls13-alpn-openssl 127.0.0.1 "$LEAF -alpn http/1.1" "$CA $SNI -alpn h2,http/1.1"; then
	meta scenario="TLS 1.3 with ALPN (the choice, http/1.1, is in the encrypted EncryptedExtensions)" \
		client="openssl s_client -alpn h2,http/1.1" server="openssl s_server -alpn http/1.1" version="TLS 1.3" \
		cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost cert=good \
		alpn_offered=h2,http/1.1 alpn=http/1.1
fi

if ossl tls12-chacha20-openssl 127.0.0.1 "$LEAF" "$CA $SNI -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305"; then
	meta scenario="TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305" client="openssl s_client" server="openssl s_server" \
		version="TLS 1.2" cipher_suite=TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 cipher_suite_id=0xcca8 \
		sni=localhost cert=good chain_length=2
fi

if ossl tls12-cbc-sha256-openssl 127.0.0.1 "$LEAF" "$CA $SNI -tls1_2 -cipher ECDHE-RSA-AES128-SHA256"; then
	meta scenario="TLS 1.2 ECDHE-RSA-AES128-SHA256 (forward secret, but CBC with HMAC)" client="openssl s_client" \
		server="openssl s_server" version="TLS 1.2" cipher_suite=TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 \
		cipher_suite_id=0xc027 sni=localhost cert=good chain_length=2 findings=cbc-mode-cipher
fi

if ossl tls13-chacha20-openssl 127.0.0.1 "$LEAF" "$CA $SNI -ciphersuites TLS_CHACHA20_POLY1305_SHA256"; then
	meta scenario="TLS 1.3 with the client offering only TLS_CHACHA20_POLY1305_SHA256" client="openssl s_client" \
		server="openssl s_server" version="TLS 1.3" cipher_suite=TLS_CHACHA20_POLY1305_SHA256 \
		cipher_suite_id=0x1303 sni=localhost cert=good
fi

if ossl tls13-ecdsa-openssl 127.0.0.1 "-cert $C/leaf-ecdsa.pem -key $C/leaf-ecdsa.key -cert_chain $C/intermediate.only.pem" \
	"$CA $SNI"; then
	meta scenario="TLS 1.3 with a P-256 ECDSA leaf" client="openssl s_client" server="openssl s_server" \
		version="TLS 1.3" cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost cert=good-ecdsa
fi

# Certificate cases: TLS 1.2, so the certificates are visible on the wire.
# s_server sends -cert, then -cert_chain as given (no rebuilding).
# cert_case NAME LEAF EXTRA-CHAIN SECLEVEL0 DESCRIPTION FINDINGS
cert_case() {
	local name=$1 leaf=$2 extra=$3 s0=$4 desc=$5 findings=$6 sopt="" copt="" n=1
	if [ "$s0" = yes ]; then
		sopt=$S0
		copt="-cipher ECDHE-RSA-AES256-GCM-SHA384@SECLEVEL=0"
	fi
	if [ -n "$extra" ]; then
		sopt="$sopt -cert_chain $C/$extra.pem"
		n=$((1 + $(grep -c 'BEGIN CERT' "$C/$extra.pem")))
	fi
	ossl "$name" 127.0.0.1 "-cert $C/$leaf.pem -key $C/$leaf.key $sopt" "$CA $SNI -tls1_2 $copt" || return 0
	meta scenario="$desc" client="openssl s_client -tls1_2" server="openssl s_server" version="TLS 1.2" \
		cipher_suite=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 cipher_suite_id=0xc030 sni=localhost \
		cert="${name#cert-}" leaf="certs/$leaf.pem" findings="$findings" chain_length="$n"
}
I=intermediate.only
cert_case cert-good leaf $I no "Good chain: leaf for localhost/127.0.0.1 issued by the test intermediate" ""
cert_case cert-expired expired $I no "Leaf expired 35 days before the capture" cert-expired
cert_case cert-not-yet-valid not-yet-valid $I no "Leaf valid only from 30 days after the capture" \
	cert-not-yet-valid
cert_case cert-expiring-soon expiring-soon $I no "Leaf expires 7 days after the capture" cert-expiring-soon
cert_case cert-self-signed self-signed "" no "Self-signed leaf for localhost (not issued by the test CA), sent alone" \
	cert-self-signed,cert-untrusted
cert_case cert-untrusted untrusted "" no "Leaf issued by a root that is not in ca.pem, sent alone" cert-untrusted
cert_case cert-wrong-host wrong-host $I no \
	"Leaf for www.example.com, chained to the test CA, while the client asked for localhost" cert-hostname-mismatch
cert_case cert-weak-key weak-key $I yes "Leaf with a 1024-bit RSA key (server and client at SECLEVEL=0)" \
	cert-weak-key
cert_case cert-sha1 sha1 $I yes "Leaf signed with SHA-1 (sha1WithRSAEncryption) by the test intermediate" \
	cert-weak-signature,cert-untrusted
cert_case cert-validity-too-long long-validity $I no "Leaf valid for 825 days (more than 398)" \
	cert-validity-too-long
cert_case cert-chain-order leaf out-of-order.extra no "Chain sent out of order: leaf, root, intermediate" \
	cert-chain-order

log "done with OpenSSL scenarios"

# ---------------------------------------------------------------------------
# curl, Go crypto/tls, Python ssl.

if scenario tls12-ecdhe-rsa-curl; then
	start openssl s_server -accept "127.0.0.1:$PORT" -www -naccept 1 $LEAF
	wait_listen "$PORT"
	begin
	client "" curl -sS -o /dev/null --cacert "$C/root.pem" --resolve "localhost:$PORT:127.0.0.1" \
		--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 "https://localhost:$PORT/"
	finish
	meta scenario="curl (OpenSSL backend) to openssl s_server -www over TLS 1.2 ECDHE-RSA-AES128-GCM" \
		client="curl --tlsv1.2 --tls-max 1.2" server="openssl s_server -www" version="TLS 1.2" \
		cipher_suite=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 cipher_suite_id=0xc02f sni=localhost \
		alpn_offered=h2,http/1.1 cert=good chain_length=2
fi

if scenario tls13-curl-python; then
	start $PY http-server "$PORT" --tls "$C/leaf.chain.pem" "$C/leaf.key"
	wait_listen "$PORT"
	begin
	client "" curl -sS -o /dev/null --cacert "$C/root.pem" --resolve "localhost:$PORT:127.0.0.1" \
		-u carol:TlsProtectedPass5 -d 'password=TlsProtectedForm6' "https://localhost:$PORT/login"
	finish
	meta scenario="curl to a Python ssl HTTPS server over TLS 1.3; Basic credentials and a password form inside TLS" \
		client="curl" server="python3 http.server + ssl" version="TLS 1.3" \
		cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost alpn_offered=h2,http/1.1 \
		alpn=http/1.1 cert=good hidden_secrets=TlsProtectedPass5,Y2Fyb2w6VGxzUHJvdGVjdGVkUGFzczU=,TlsProtectedForm6
fi

# go_case NAME ADDR "SERVER FLAGS" "CLIENT FLAGS" [GODEBUG]
go_case() {
	local name=$1 addr=$2 sflags=$3 cflags=$4 godebug=${5:-}
	scenario "$name" || return 1
	# shellcheck disable=SC2086
	start env GODEBUG="$godebug" "$PEER" -server -addr "$addr:$PORT" -cert "$C/leaf.chain.pem" -key "$C/leaf.key" $sflags
	wait_listen "$PORT"
	begin
	# shellcheck disable=SC2086
	client "" env GODEBUG="$godebug" "$PEER" -addr "$addr:$PORT" -ca "$C/root.pem" $cflags
	finish
}

go_case tls13-go 127.0.0.1 "-alpn h2,http/1.1" "-sni localhost -alpn h2,http/1.1" &&
	meta scenario="Go crypto/tls client and server, TLS 1.3, SNI and ALPN" \
	client="Go crypto/tls (scripts/captures/peer)" server="Go crypto/tls (scripts/captures/peer)" \
	version="TLS 1.3" cipher_suite=TLS_AES_128_GCM_SHA256 cipher_suite_id=0x1301 sni=localhost \
	alpn_offered=h2,http/1.1 alpn=h2 cert=good

go_case tls13-go-ipv6 '[::1]' "" "-sni localhost" &&
	meta scenario="Go crypto/tls client and server, TLS 1.3 over IPv6 (::1)" \
	client="Go crypto/tls (scripts/captures/peer)" server="Go crypto/tls (scripts/captures/peer)" address=::1 \
	version="TLS 1.3" cipher_suite=TLS_AES_128_GCM_SHA256 cipher_suite_id=0x1301 sni=localhost cert=good

go_case tls12-go 127.0.0.1 "-max 1.2 -alpn http/1.1" "-max 1.2 -sni localhost -alpn h2,http/1.1" &&
	meta scenario="Go crypto/tls client and server, TLS 1.2, SNI and ALPN" \
	client="Go crypto/tls (scripts/captures/peer)" server="Go crypto/tls (scripts/captures/peer)" \
	version="TLS 1.2" cipher_suite=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 cipher_suite_id=0xc02f sni=localhost \
	alpn_offered=h2,http/1.1 alpn=http/1.1 cert=good chain_length=2

go_case tls12-3des-go 127.0.0.1 "-max 1.2 -suites TLS_RSA_WITH_3DES_EDE_CBC_SHA" \
	"-max 1.2 -sni localhost -suites TLS_RSA_WITH_3DES_EDE_CBC_SHA" "tls3des=1,tlsrsakex=1" &&
	meta scenario="TLS 1.2 with 3DES (TLS_RSA_WITH_3DES_EDE_CBC_SHA) from Go (GODEBUG=tls3des=1,tlsrsakex=1)" \
	client="Go crypto/tls (scripts/captures/peer)" server="Go crypto/tls (scripts/captures/peer)" \
	version="TLS 1.2" cipher_suite=TLS_RSA_WITH_3DES_EDE_CBC_SHA cipher_suite_id=0x000a sni=localhost \
	cert=good chain_length=2 findings=weak-cipher,no-forward-secrecy,cbc-mode-cipher

go_case tls12-rc4-go 127.0.0.1 "-max 1.2 -suites TLS_ECDHE_RSA_WITH_RC4_128_SHA" \
	"-max 1.2 -sni localhost -suites TLS_ECDHE_RSA_WITH_RC4_128_SHA" &&
	meta scenario="TLS 1.2 with RC4 (TLS_ECDHE_RSA_WITH_RC4_128_SHA) from Go" \
	client="Go crypto/tls (scripts/captures/peer)" server="Go crypto/tls (scripts/captures/peer)" \
	version="TLS 1.2" cipher_suite=TLS_ECDHE_RSA_WITH_RC4_128_SHA cipher_suite_id=0xc011 sni=localhost \
	cert=good chain_length=2 findings=weak-cipher

if scenario tls13-python; then
	start $PY http-server "$PORT" --tls "$C/leaf.chain.pem" "$C/leaf.key"
	wait_listen "$PORT"
	begin
	client "" $PY tls-client "$PORT" --ca "$C/root.pem" --sni localhost
	finish
	meta scenario="Python ssl client and server (http.server), TLS 1.3 with ALPN http/1.1" \
		client="python3 ssl" server="python3 http.server + ssl" version="TLS 1.3" \
		cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost alpn_offered=http/1.1 \
		alpn=http/1.1 cert=good
fi

# ---------------------------------------------------------------------------
# Cleartext HTTP: curl against peers.py http-server.

# http_case NAME BIND PATH CURL-ARGS...
http_case() {
	local name=$1 bind=$2 path=$3 host=127.0.0.1
	shift 3
	scenario "$name" || return 1
	[ "$bind" = ::1 ] && host='[::1]'
	start $PY http-server "$PORT" --bind "$bind"
	wait_listen "$PORT"
	begin
	client "" curl -sS -o /dev/null "$@" "http://$host:$PORT$path"
	finish
}
hmeta() { meta client=curl server="python3 http.server (scripts/captures/peers.py)" protocol=http \
	decode_as="tcp.port==$PORT,http" "$@"; }

http_case http-basic-auth 127.0.0.1 /private -u alice:hunter2 &&
	hmeta scenario="HTTP Basic authentication (curl -u alice:hunter2)" findings=plaintext-credentials \
		secrets=YWxpY2U6aHVudGVyMg== decoded_secrets=alice:hunter2
http_case http-basic-auth-ipv6 ::1 /private -u bob:correct-horse &&
	hmeta scenario="HTTP Basic authentication over IPv6 (curl -u bob:correct-horse)" address=::1 \
		findings=plaintext-credentials secrets=Ym9iOmNvcnJlY3QtaG9yc2U= decoded_secrets=bob:correct-horse
http_case http-form-login 127.0.0.1 /login -d 'username=alice&password=FormLoginPass99' &&
	hmeta scenario="HTML form login POST (application/x-www-form-urlencoded), answered with a session cookie" \
		findings=plaintext-credentials,plaintext-session-cookie \
		secrets=FormLoginPass99,sessionid=Sx7dQ2kV9mPz4LwR8nTb3YcJ
http_case http-json-password 127.0.0.1 /api/login -H 'Content-Type: application/json' \
	-d '{"username":"alice","password":"JsonPassw0rd42"}' &&
	hmeta scenario="JSON login body with a password field" findings=plaintext-credentials secrets=JsonPassw0rd42
JWT=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c
http_case http-bearer-jwt 127.0.0.1 /api/me -H "Authorization: Bearer $JWT" &&
	hmeta scenario="Authorization: Bearer with a JWT (the jwt.io example token)" findings=plaintext-credentials \
		secrets="$JWT"
http_case http-api-key 127.0.0.1 /api/items -H 'X-Api-Key: 3f9a2c7e1b8d4f6a9c0e5b7d2a4f8c1e' &&
	hmeta scenario="X-Api-Key request header" findings=plaintext-credentials secrets=3f9a2c7e1b8d4f6a9c0e5b7d2a4f8c1e
http_case http-session-cookie 127.0.0.1 /session -H 'Cookie: sessionid=Sx7dQ2kV9mPz4LwR8nTb3YcJ' &&
	hmeta scenario="Cookie: sessionid=... in the request and Set-Cookie without Secure in the response" \
		findings=plaintext-session-cookie secrets=Sx7dQ2kV9mPz4LwR8nTb3YcJ
http_case http-card-number 127.0.0.1 /checkout -d 'name=Alice+Example&card=4111 1111 1111 1111&exp=12/29&cvv=123' &&
	hmeta scenario="Payment form POST with a test card number (Visa test number 4111 1111 1111 1111)" \
		findings=plaintext-card-number secrets="4111 1111 1111 1111"
http_case http-aws-key 127.0.0.1 /config \
	-d 'aws_access_key_id=AKIAIOSFODNN7EXAMPLE&aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' &&
	hmeta scenario="AWS access key id and secret key in a form body (AWS's documented example keys)" \
		findings=plaintext-credentials secrets=AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
http_case http-github-token 127.0.0.1 /user -H 'Authorization: token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789' &&
	hmeta scenario="GitHub personal access token pattern (fake ghp_ + 36 characters) in Authorization" \
		findings=plaintext-credentials secrets=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789
http_case http-pii 127.0.0.1 /profile -d 'email=alice@example.com&ssn=078-05-1120&phone=%2B1-202-555-0143' &&
	hmeta scenario="Profile form with an e-mail address and a US SSN (the long-void 078-05-1120)" \
		findings=plaintext-pii secrets=alice@example.com,078-05-1120
http_case http-login-page 127.0.0.1 /login &&
	hmeta scenario="GET of a login page: an HTML form with a password input, served over HTTP" \
		findings=plaintext-login-page secrets='type="password"'
http_case http-chunked 127.0.0.1 /login -H 'Transfer-Encoding: chunked' \
	--data-binary 'username=alice&password=ChunkedPass77' &&
	hmeta scenario="Login POST with a chunked request body (Transfer-Encoding: chunked)" \
		findings=plaintext-credentials,plaintext-session-cookie secrets=ChunkedPass77
http_case http-gzip 127.0.0.1 /gzip/login --compressed &&
	hmeta scenario="Login page served with Content-Encoding: gzip (the password input is inside the gzip body)" \
		findings=plaintext-login-page secrets='type="password"' encoding=gzip

http_case http-password-in-url 127.0.0.1 '/login?username=alice&password=UrlPassw0rd8' &&
	hmeta scenario="Password in the query string of a GET (the server answers with its login form)" \
		findings=plaintext-credentials,plaintext-login-page secrets=UrlPassw0rd8

if scenario http-keepalive-login; then
	start $PY http-server "$PORT"
	wait_listen "$PORT"
	begin
	# One connection, three requests: the login page, the login POST, a page
	# with the session cookie curl got.
	client "" curl -sS -c "$WORK/jar" -b "$WORK/jar" -o /dev/null "http://127.0.0.1:$PORT/login" \
		--next -sS -c "$WORK/jar" -b "$WORK/jar" -o /dev/null -d 'username=alice&password=KeepAlivePass10' \
		"http://127.0.0.1:$PORT/login" --next -sS -b "$WORK/jar" -o /dev/null "http://127.0.0.1:$PORT/session"
	finish
	hmeta scenario="Three requests on one keep-alive connection: login page, login POST, then a page with the session cookie" \
		findings=plaintext-login-page,plaintext-credentials,plaintext-session-cookie \
		secrets='type="password"',KeepAlivePass10,sessionid=Sx7dQ2kV9mPz4LwR8nTb3YcJ
fi

# ---------------------------------------------------------------------------
# FTP, SMTP, POP3, IMAP: Python stdlib clients against peers.py mail-server,
# in the clear and with STARTTLS (credentials only after the upgrade).

# mail_case NAME PROTO CLIENT USER PASS [starttls]
mail_case() {
	local name=$1 proto=$2 cl=$3 user=$4 pass=$5 tls=${6:-} sopt="" copt=""
	scenario "$name" || return 1
	if [ -n "$tls" ]; then
		sopt="--tls $C/leaf.chain.pem $C/leaf.key"
		copt="--starttls $C/root.pem"
	fi
	# shellcheck disable=SC2086
	start $PY mail-server "$proto" "$PORT" $sopt
	wait_listen "$PORT"
	begin
	# shellcheck disable=SC2086
	client "" $PY "$cl" "$PORT" "$user" "$pass" $copt
	finish
}
mmeta() {
	local proto=$1
	shift
	meta server="python3 scripted $proto server (scripts/captures/peers.py)" protocol="$proto" \
		decode_as="tcp.port==$PORT,${proto/pop3/pop}" "$@"
}
tlsmeta() {
	mmeta "$@" version="TLS 1.3" cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost \
		cert=good starttls=true
}

mail_case ftp-login ftp ftp alice FtpPassw0rd &&
	mmeta ftp scenario="FTP USER/PASS login" client="python3 ftplib" findings=plaintext-credentials \
		secrets=FtpPassw0rd
mail_case smtp-auth-plain smtp smtp-plain alice SmtpPlainPass1 &&
	mmeta smtp scenario="SMTP AUTH PLAIN (initial response)" client="python3 smtplib" \
		findings=plaintext-credentials secrets=AGFsaWNlAFNtdHBQbGFpblBhc3Mx decoded_secrets=SmtpPlainPass1
mail_case smtp-auth-login smtp smtp-login alice SmtpLoginPass2 &&
	mmeta smtp scenario="SMTP AUTH LOGIN (user and password in separate base64 lines)" client="python3 smtplib" \
		findings=plaintext-credentials secrets=YWxpY2U=,U210cExvZ2luUGFzczI= decoded_secrets=SmtpLoginPass2
mail_case pop3-login pop3 pop3 alice Pop3Passw0rd &&
	mmeta pop3 scenario="POP3 USER/PASS login" client="python3 poplib" findings=plaintext-credentials \
		secrets=Pop3Passw0rd
mail_case imap-login imap imap alice ImapPassw0rd &&
	mmeta imap scenario="IMAP LOGIN" client="python3 imaplib" findings=plaintext-credentials secrets=ImapPassw0rd
mail_case ftp-auth-tls ftp ftp alice FtpTlsPass3 starttls &&
	tlsmeta ftp scenario="FTP AUTH TLS, then USER/PASS inside TLS" client="python3 ftplib.FTP_TLS" \
		hidden_secrets=FtpTlsPass3
mail_case smtp-starttls smtp smtp-plain alice SmtpTlsPass4 starttls &&
	tlsmeta smtp scenario="SMTP STARTTLS, then AUTH PLAIN inside TLS" client="python3 smtplib" \
		hidden_secrets=SmtpTlsPass4,AGFsaWNlAFNtdHBUbHNQYXNzNA==
mail_case pop3-stls pop3 pop3 alice Pop3TlsPass5 starttls &&
	tlsmeta pop3 scenario="POP3 STLS, then USER/PASS inside TLS" client="python3 poplib" hidden_secrets=Pop3TlsPass5
mail_case imap-starttls imap imap alice ImapTlsPass6 starttls &&
	tlsmeta imap scenario="IMAP STARTTLS, then LOGIN inside TLS" client="python3 imaplib" hidden_secrets=ImapTlsPass6

if scenario telnet-login; then
	start $PY telnet-server "$PORT"
	wait_listen "$PORT"
	begin
	client "" $PY telnet "$PORT" alice TelnetPass7
	finish
	meta scenario="Telnet login: option negotiation, login and Password prompts, a shell prompt, exit" \
		client="python3 telnetlib" server="python3 scripted telnet server (scripts/captures/peers.py)" \
		protocol=telnet decode_as="tcp.port==$PORT,telnet" findings=plaintext-credentials secrets=TelnetPass7
fi

# Added after the first recordings: new scenarios go last, so the ones
# above keep their ports.

if scenario ldap-simple-bind; then
	start $PY ldap-server "$PORT"
	wait_listen "$PORT"
	begin
	client "" curl -sS -o /dev/null -u 'cn=admin,dc=example,dc=com:LdapPassw0rd' \
		"ldap://127.0.0.1:$PORT/dc=example,dc=com?cn?sub?(objectClass=*)"
	finish
	meta scenario="LDAP simple bind (cn=admin,dc=example,dc=com) and one search, from curl's ldap://" \
		client="curl (OpenLDAP)" server="python3 scripted LDAP server (scripts/captures/peers.py)" protocol=ldap \
		decode_as="tcp.port==$PORT,ldap" findings=plaintext-credentials secrets=LdapPassw0rd
fi

if scenario tls13-early-data-openssl; then
	# s_server cannot combine -early_data with -www: it prints what it gets
	# and keeps stdin open (EOF there would end the connection); each
	# client ends a second after it starts, having read the server's
	# tickets.
	# (A background job's stdin is /dev/null, hence bash -c.)
	# shellcheck disable=SC2086
	start bash -c 'exec openssl s_server "$@" < <(sleep 15)' s_server -accept "127.0.0.1:$PORT" -naccept 2 \
		$LEAF -early_data
	wait_listen "$PORT"
	printf 'GET /early HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$WORK/early.txt"
	begin
	sleep 1 | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" $CA $SNI -sess_out "$WORK/sess-early" \
		-keylogfile "$WORK/$CUR.keys" >>"$WORK/clients.log" 2>&1 || log "$CUR: client exited $?"
	sleep 1 | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" $CA $SNI -sess_in "$WORK/sess-early" \
		-early_data "$WORK/early.txt" -keylogfile "$WORK/$CUR.keys" >>"$WORK/clients.log" 2>&1 ||
		log "$CUR: client exited $?"
	finish
	meta scenario="TLS 1.3 full handshake, then resumption with 0-RTT early data (an HTTP request)" \
		client="openssl s_client -early_data" server="openssl s_server -early_data" version="TLS 1.3" \
		cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost cert=good \
		connections=2 resumed=true early_data=true
fi

if scenario http-proxy-auth; then
	start $PY http-server "$PORT"
	wait_listen "$PORT"
	begin
	# The scripted server plays the proxy; nothing leaves the machine.
	client "" curl -sS -o /dev/null -x "http://127.0.0.1:$PORT" -U proxyuser:ProxyPass11 http://www.example.com/
	finish
	hmeta scenario="HTTP request through a proxy with Proxy-Authorization: Basic (curl -x -U proxyuser:ProxyPass11)" \
		findings=plaintext-credentials secrets=cHJveHl1c2VyOlByb3h5UGFzczEx decoded_secrets=proxyuser:ProxyPass11
fi

if scenario http-oauth-token; then
	start $PY http-server "$PORT"
	wait_listen "$PORT"
	begin
	client "" curl -sS -o /dev/null \
		-d 'grant_type=client_credentials&client_id=tlsscope-test&client_secret=OAuthClientSecret12' \
		"http://127.0.0.1:$PORT/oauth/token"
	finish
	hmeta scenario="OAuth 2.0 client credentials grant: client_secret in the request, access_token in the JSON response" \
		findings=plaintext-credentials secrets=OAuthClientSecret12,at_9f8e7d6c5b4a39281706f5e4d3c2b1a0
fi

if ossl tls12-client-cert-requested-openssl 127.0.0.1 "$LEAF -verify 2 $CA" "$CA $SNI -tls1_2"; then
	meta scenario="TLS 1.2: the server asks for a client certificate (optional, -verify), the client sends an empty one" \
		client="openssl s_client (no certificate)" server="openssl s_server -verify 2" version="TLS 1.2" \
		cipher_suite=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 cipher_suite_id=0xc030 sni=localhost cert=good \
		chain_length=2 client_cert_requested=true
fi

# ---------------------------------------------------------------------------
# TLS 1.0-1.2 record protection modes for decode/tls/keys (decryption with
# the key log, checked against tshark): CCM and CCM_8 (RFC 6655), CBC with
# MAC-then-encrypt (-no_etm; OpenSSL negotiates encrypt_then_mac by
# default), in TLS 1.2 (explicit IVs) and TLS 1.0 (chained IVs), and
# AES256-GCM-SHA384 (the SHA-384 PRF) with RSA key exchange. Each sends a
# request of a few KB (an X-Pad header) so that both directions carry
# application data of more than one block size.
PAD=$(printf 'tlsscope-record-pad-%04d;' $(seq 1 120))
BIGREQ="GET / HTTP/1.0\r\nX-Pad: $PAD\r\n\r\n"
# mode_case NAME "SERVER OPTS" "CLIENT OPTS": one s_server -www exchange
# with BIGREQ.
mode_case() {
	local name=$1 sopts=$2 copts=$3
	scenario "$name" || return 1
	# shellcheck disable=SC2086
	start openssl s_server -accept "127.0.0.1:$PORT" -www -naccept 1 $LEAF $sopts
	wait_listen "$PORT"
	begin
	# shellcheck disable=SC2086
	client "$BIGREQ" openssl s_client -connect "127.0.0.1:$PORT" -ign_eof $CA $SNI $copts
	finish
}

if mode_case tls12-aes128-ccm-openssl "$S0 -cipher AES128-CCM@SECLEVEL=0" "-tls1_2 -cipher AES128-CCM@SECLEVEL=0"; then
	meta scenario="TLS 1.2 AES128-CCM (RFC 6655, 16-byte tag) with RSA key exchange; a request of a few KB" \
		client="openssl s_client" server="openssl s_server -www" version="TLS 1.2" \
		cipher_suite=TLS_RSA_WITH_AES_128_CCM cipher_suite_id=0xc09c sni=localhost cert=good \
		chain_length=2 findings=no-forward-secrecy
fi

if mode_case tls12-aes128-ccm8-openssl "$S0 -cipher AES128-CCM8@SECLEVEL=0" "-tls1_2 -cipher AES128-CCM8@SECLEVEL=0"; then
	meta scenario="TLS 1.2 AES128-CCM8 (RFC 6655, 8-byte tag) with RSA key exchange; a request of a few KB" \
		client="openssl s_client" server="openssl s_server -www" version="TLS 1.2" \
		cipher_suite=TLS_RSA_WITH_AES_128_CCM_8 cipher_suite_id=0xc0a0 sni=localhost cert=good \
		chain_length=2 findings=no-forward-secrecy
fi

if mode_case tls12-cbc-no-etm-openssl "$S0" "-tls1_2 -no_etm -cipher ECDHE-RSA-AES128-SHA@SECLEVEL=0"; then
	meta scenario="TLS 1.2 ECDHE-RSA-AES128-SHA without encrypt_then_mac (s_client -no_etm): CBC MAC-then-encrypt" \
		client="openssl s_client -no_etm" server="openssl s_server -www" version="TLS 1.2" \
		cipher_suite=TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA cipher_suite_id=0xc013 sni=localhost cert=good \
		chain_length=2 findings=cbc-mode-cipher
fi

if mode_case tls10-no-etm-openssl "$S0" "-tls1 -no_etm $S0"; then
	meta scenario="TLS 1.0 CBC without encrypt_then_mac (s_client -no_etm): MAC-then-encrypt, IVs chained from record to record" \
		client="openssl s_client -tls1 -no_etm" server="openssl s_server -www" version="TLS 1.0" \
		cipher_suite=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA cipher_suite_id=0xc014 sni=localhost cert=good \
		chain_length=2 findings=deprecated-version,deprecated-version-offered,cbc-mode-cipher
fi

if mode_case tls12-aes256-gcm-sha384-openssl "$S0" "-tls1_2 -cipher AES256-GCM-SHA384@SECLEVEL=0"; then
	meta scenario="TLS 1.2 AES256-GCM-SHA384 (the SHA-384 PRF) with RSA key exchange; a request of a few KB" \
		client="openssl s_client" server="openssl s_server -www" version="TLS 1.2" \
		cipher_suite=TLS_RSA_WITH_AES_256_GCM_SHA384 cipher_suite_id=0x009d sni=localhost cert=good \
		chain_length=2 findings=no-forward-secrecy
fi

# OpenSSL 3.0's s_client has no -no_ems; SSL_CONF's Options =
# -ExtendedMasterSecret in an OPENSSL_CONF file turns the extension off.
if scenario tls10-rsa-no-ems-openssl; then
	cat >"$WORK/no-ems.cnf" <<'CNF'
openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Options = -ExtendedMasterSecret
CNF
	start openssl s_server -accept "127.0.0.1:$PORT" -www -naccept 1 $LEAF $S0
	wait_listen "$PORT"
	begin
	OPENSSL_CONF=$WORK/no-ems.cnf client "$BIGREQ" openssl s_client -connect "127.0.0.1:$PORT" -ign_eof $CA $SNI \
		-tls1 -no_etm -cipher AES128-SHA@SECLEVEL=0
	finish
	meta scenario="TLS 1.0 AES128-SHA, RSA key exchange, no extended_master_secret (OPENSSL_CONF Options = -ExtendedMasterSecret), no encrypt_then_mac" \
		client="openssl s_client -tls1 -no_etm (OPENSSL_CONF: -ExtendedMasterSecret)" server="openssl s_server -www" \
		version="TLS 1.0" cipher_suite=TLS_RSA_WITH_AES_128_CBC_SHA cipher_suite_id=0x002f sni=localhost cert=good \
		chain_length=2 findings=deprecated-version,deprecated-version-offered,no-forward-secrecy,cbc-mode-cipher
fi

# TLS 1.3 that only a key log shows (issue 16): what is judged in these is
# encrypted. They take ports from PORT_BASE+200 on, whatever is added above
# or below them, and leave the numbering of the scenarios after them as it
# was.

SAVED_INDEX=$SCENARIO_INDEX
SCENARIO_INDEX=200

tls13_cert_case() {
	local name=$1 leaf=$2 desc=$3 findings=$4
	ossl "$name" 127.0.0.1 "-cert $C/$leaf.pem -key $C/$leaf.key -cert_chain $C/intermediate.only.pem" "$CA $SNI -tls1_3" ||
		return 0
	meta scenario="$desc" client="openssl s_client -tls1_3" server="openssl s_server" version="TLS 1.3" \
		cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost \
		cert="${name#tls13-cert-}" leaf="certs/$leaf.pem" findings="$findings" chain_length=2
}
tls13_cert_case tls13-cert-expired expired \
	"TLS 1.3 with a leaf that expired 35 days before the capture: encrypted, judged only with the key log" cert-expired
tls13_cert_case tls13-cert-wrong-host wrong-host \
	"TLS 1.3 with a leaf for www.example.com while the client asked for localhost: seen only with the key log" \
	cert-hostname-mismatch

if scenario tls13-keyupdate-openssl; then
	# s_server and s_client without -www read commands on stdin: K sends a
	# KeyUpdate that asks the peer to update as well (RFC 8446, 4.6.3), k
	# one that does not; other lines are sent as data. The client updates
	# twice (once answered by the server), the server twice (once answered
	# by the client), with data under every key; then the client quits.
	# (A background job's stdin is /dev/null, hence bash -c.)
	# shellcheck disable=SC2086
	start bash -c 'exec openssl s_server "$@" < <(sleep 2.5; printf "server data 1\n"; sleep 0.3; printf "K\n"; sleep 0.3; printf "server data 2\n"; sleep 0.3; printf "k\n"; sleep 0.3; printf "server data 3\n"; sleep 10)' \
		s_server -accept "127.0.0.1:$PORT" -naccept 1 $LEAF
	wait_listen "$PORT"
	begin
	# shellcheck disable=SC2086
	(sleep 0.5; printf 'client data 1\n'; sleep 0.3; printf 'K\n'; sleep 0.3; printf 'client data 2\n'; sleep 0.3; printf 'k\n'
		sleep 0.3; printf 'client data 3\n'; sleep 2.5; printf 'client data 4\n'; sleep 0.3; printf 'Q\n') |
		timeout 20 openssl s_client -connect "127.0.0.1:$PORT" $CA $SNI -keylogfile "$WORK/$CUR.keys" \
			>>"$WORK/clients.log" 2>&1 || log "$CUR: client exited $?"
	finish
	meta scenario="TLS 1.3 KeyUpdate both ways, several times (s_client and s_server K and k commands), data under every key" \
		client="openssl s_client (K, k)" server="openssl s_server (K, k)" version="TLS 1.3" \
		cipher_suite=TLS_AES_256_GCM_SHA384 cipher_suite_id=0x1302 sni=localhost cert=good
fi

# The two AES-CCM suites of RFC 8446, B.4, which OpenSSL enables only on
# request (-ciphersuites on both ends).
if ossl tls13-aes128-ccm-openssl 127.0.0.1 "$LEAF -ciphersuites TLS_AES_128_CCM_SHA256" \
	"$CA $SNI -ciphersuites TLS_AES_128_CCM_SHA256"; then
	meta scenario="TLS 1.3 TLS_AES_128_CCM_SHA256 (AES-CCM, 16-byte tag)" client="openssl s_client -ciphersuites" \
		server="openssl s_server -ciphersuites" version="TLS 1.3" cipher_suite=TLS_AES_128_CCM_SHA256 \
		cipher_suite_id=0x1304 sni=localhost cert=good
fi
if ossl tls13-aes128-ccm8-openssl 127.0.0.1 "$LEAF -ciphersuites TLS_AES_128_CCM_8_SHA256" \
	"$CA $SNI -ciphersuites TLS_AES_128_CCM_8_SHA256"; then
	meta scenario="TLS 1.3 TLS_AES_128_CCM_8_SHA256 (AES-CCM, 8-byte tag)" client="openssl s_client -ciphersuites" \
		server="openssl s_server -ciphersuites" version="TLS 1.3" cipher_suite=TLS_AES_128_CCM_8_SHA256 \
		cipher_suite_id=0x1305 sni=localhost cert=good
fi

SCENARIO_INDEX=$SAVED_INDEX

log "done with all scenarios"

# ---------------------------------------------------------------------------
# Manifest and checks.

python3 - "$WORK/tools.json" <<'EOF'
import json, subprocess, sys
def v(*cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).splitlines()[0].strip()
    except Exception as e:
        return "unknown (%s)" % e
json.dump({
    "openssl": v("openssl", "version"),
    "curl": v("curl", "--version"),
    "python": v("python3", "--version"),
    "go": v("go", "version"),
    "tcpdump": v("tcpdump", "--version"),
    "tshark": v("tshark", "--version"),
    "kernel": v("uname", "-sr"),
    "recorded": v("date", "-u", "+%Y-%m-%d"),
}, open(sys.argv[1], "w"), indent=2)
EOF
python3 "$HERE/manifest.py" build "$OUT/manifest.json" "$WORK/entries.jsonl" "$WORK/tools.json"
python3 "$HERE/readme.py" "$HERE/README.in" "$OUT/manifest.json" "$OUT/README"
log "wrote $OUT/manifest.json and $OUT/README"
if [ "${CHECK:-1}" = 1 ]; then
	(cd "$ROOT" && "$GO" test -count=1 ./scripts/captures/) || die "the manifest does not match the captures"
fi
