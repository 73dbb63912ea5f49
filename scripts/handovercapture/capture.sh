#!/usr/bin/env bash
# Records testdata/pcaps/handover: TLS that begins after a cleartext
# preamble, from real stacks talking over loopback (issue 18).
#
#   sudo scripts/handovercapture/capture.sh       # make handover-captures
#   sudo ONLY='^pg' scripts/handovercapture/capture.sh
#
# Servers and clients: PostgreSQL (psql sslmode=require, TLS 1.2 so that
# the certificate is in the clear, against ssl=on; sslmode=prefer against
# ssl=off, refused, with a cleartext password),
# MariaDB (mariadb --ssl), tinyproxy (HTTP CONNECT) and Dante (SOCKS5,
# SOCKS4) with curl through them to openssl s_server, Prosody (XMPP
# STARTTLS, openssl s_client -starttls xmpp), xrdp (X.224 negotiation
# then TLS, driven by nmap's rdp-enum-encryption), and OpenSSL's s_client
# -starttls irc/nntp/sieve against scripted servers (peers.py) that follow
# the RFCs' replies and hand over to Python's ssl. Clients write key logs
# (SSLKEYLOGFILE) beside the captures where they can.
#
# Needs root, tcpdump, tshark, openssl, curl, python3, and Debian's
# postgresql, mariadb-server, mariadb-client, tinyproxy, dante-server,
# prosody, xrdp and nmap packages. Only 127.0.0.1 is used; every server
# listens there on a port of its own and is stopped on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$ROOT/testdata/pcaps/handover}
ONLY=${ONLY:-}

die() { echo "handover-captures: $*" >&2; exit 1; }
log() { echo "handover-captures: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (tcpdump on lo, servers as their users)"
for t in tcpdump tshark openssl curl python3 ss setpriv; do
	command -v "$t" >/dev/null || die "$t not installed"
done

WORK=$(mktemp -d /tmp/handover.XXXXXX)
chmod 755 "$WORK"
PIDS=()
TCPDUMP_PID=
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

restore() {
	local pid
	for pid in "${PIDS[@]}" $TCPDUMP_PID; do
		kill "$pid" 2>/dev/null || true
	done
	[ -n "$PGBIN" ] && for d in "$WORK"/pg-*; do
		[ -d "$d" ] && su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $d -m immediate stop" >/dev/null 2>&1 || true
	done
	if [ "${KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap restore EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"

# One self-signed certificate for every server: CN and SAN localhost.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	-subj "/CN=localhost/O=tlsscope handover" -addext "subjectAltName=DNS:localhost" \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
chmod 644 "$WORK/key.pem" "$WORK/cert.pem"

want() { [ -z "$ONLY" ] || [[ $1 =~ $ONLY ]]; }

# start NAME PORT...: records lo traffic to the ports into $OUT/NAME.pcap.
start() {
	local name=$1; shift
	rm -f "$OUT/$name.keys" # clients append to a key log
	local f="" p
	for p in "$@"; do f="${f:+$f or }tcp port $p"; done
	tcpdump -i lo -U -s 0 -w "$OUT/$name.pcap" "$f" 2>"$WORK/$name.tcpdump" &
	TCPDUMP_PID=$!
	sleep 1
}
stop() {
	sleep 1
	kill "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null || true
	TCPDUMP_PID=
}
waitport() {
	local i
	for i in $(seq 50); do
		ss -Hltn "sport = :$1" | grep -q . && return 0 # no probe connection: a scripted peer serves one
		sleep 0.2
	done
	die "nothing listens on port $1"
}
bg() { "$@" & PIDS+=($!); }

# An HTTPS origin for the proxies: openssl s_server -www.
ORIGIN=24433
bg openssl s_server -quiet -accept 127.0.0.1:$ORIGIN -cert "$WORK/cert.pem" -key "$WORK/key.pem" -www
waitport $ORIGIN

pgcluster() { # pgcluster DIR PORT SSL AUTH
	local d=$1
	mkdir -p "$d"; chown postgres "$d"
	echo secret-pg >"$d.pw"; chmod 644 "$d.pw"
	su postgres -s /bin/sh -c "$PGBIN/initdb -A $4 --pwfile=$d.pw -U postgres -D $d" >/dev/null
	touch "$d.log"; chown postgres "$d.log"
	cp "$WORK/cert.pem" "$d/server.crt"; cp "$WORK/key.pem" "$d/server.key"
	chown postgres "$d/server.crt" "$d/server.key"; chmod 600 "$d/server.key"
	cat >>"$d/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		port = $2
		unix_socket_directories = '$d'
		ssl = $3
		password_encryption = 'scram-sha-256'
	EOF
	su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $d -l $d.log -w start" >/dev/null
}

if want pg-ssl && [ -n "$PGBIN" ]; then
	log "pg-ssl: psql sslmode=require (TLS 1.2: the certificate in the clear) against ssl=on"
	pgcluster "$WORK/pg-ssl" 25432 on scram-sha-256
	start pg-ssl 25432
	PGPASSWORD=secret-pg SSLKEYLOGFILE="$OUT/pg-ssl.keys" psql "host=localhost hostaddr=127.0.0.1 port=25432 user=postgres dbname=postgres sslmode=require ssl_max_protocol_version=TLSv1.2 gssencmode=disable" -c 'select 1' >/dev/null
	stop
fi
if want pg-refused && [ -n "$PGBIN" ]; then
	log "pg-refused: psql sslmode=prefer against ssl=off, password auth in the clear"
	pgcluster "$WORK/pg-refused" 25433 off password
	start pg-refused 25433
	PGPASSWORD=secret-pg psql "host=127.0.0.1 port=25433 user=postgres dbname=postgres sslmode=prefer gssencmode=disable" -c 'select 1' >/dev/null
	stop
fi

if want mysql-ssl && command -v mariadbd >/dev/null; then
	log "mysql-ssl: mariadb --ssl against mariadbd with a certificate"
	d=$WORK/mysql
	mkdir -p "$d"; chown mysql "$d"
	mariadb-install-db --user=mysql --datadir="$d/data" --auth-root-authentication-method=normal >/dev/null 2>&1
	cp "$WORK/cert.pem" "$WORK/key.pem" "$d/"; chown mysql "$d"/*.pem
	bg mariadbd --no-defaults --user=mysql --datadir="$d/data" --socket="$d/sock" --pid-file="$d/pid" \
		--bind-address=127.0.0.1 --port=23306 --skip-name-resolve --ssl-cert="$d/cert.pem" --ssl-key="$d/key.pem"
	waitport 23306
	mariadb --no-defaults --socket="$d/sock" -u root -e "CREATE USER 'scope'@'127.0.0.1' IDENTIFIED BY 'secret-my'; GRANT ALL ON *.* TO 'scope'@'127.0.0.1';"
	start mysql-ssl 23306
	mariadb --no-defaults -h 127.0.0.1 -P 23306 -u scope -psecret-my --ssl --tls-version=TLSv1.2 --skip-ssl-verify-server-cert -e 'select 1' >/dev/null
	stop
fi

if want http-connect && command -v tinyproxy >/dev/null; then
	log "http-connect: curl through tinyproxy (CONNECT) to s_server"
	cat >"$WORK/tinyproxy.conf" <<-EOF
		Port 28888
		Listen 127.0.0.1
		Timeout 60
		MaxClients 10
		Allow 127.0.0.1
		ConnectPort $ORIGIN
	EOF
	bg tinyproxy -d -c "$WORK/tinyproxy.conf"
	waitport 28888
	start http-connect 28888
	SSLKEYLOGFILE="$OUT/http-connect.keys" curl -sk -o /dev/null -x http://127.0.0.1:28888 https://localhost:$ORIGIN/ || log "curl failed"
	stop
fi

if { want socks5 || want socks4; } && command -v danted >/dev/null; then
	cat >"$WORK/danted.conf" <<-EOF
		logoutput: $WORK/danted.log
		internal: 127.0.0.1 port = 21080
		external: 127.0.0.1
		socksmethod: none
		clientmethod: none
		user.privileged: root
		user.unprivileged: nobody
		client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
		socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
	EOF
	bg danted -f "$WORK/danted.conf"
	waitport 21080
	log "socks5: curl --socks5-hostname through Dante to s_server"
	start socks5 21080
	SSLKEYLOGFILE="$OUT/socks5.keys" curl -sk -o /dev/null --socks5-hostname 127.0.0.1:21080 https://localhost:$ORIGIN/ || log "curl failed"
	stop
	log "socks4: curl --socks4 through Dante to s_server"
	start socks4 21080
	SSLKEYLOGFILE="$OUT/socks4.keys" curl -sk -o /dev/null --socks4 127.0.0.1:21080 https://localhost:$ORIGIN/ || log "curl failed"
	stop
fi

if want socks5-auth; then
	log "socks5-auth: curl --socks5-hostname user:password@ through a scripted RFC 1929 proxy to s_server"
	bg python3 "$HERE/peers.py" socks5-auth 21081
	waitport 21081
	start socks5-auth 21081
	SSLKEYLOGFILE="$OUT/socks5-auth.keys" curl -sk -o /dev/null --socks5-hostname scope:secret-socks@127.0.0.1:21081 https://localhost:$ORIGIN/ || log "curl failed"
	stop
fi

if want xmpp-starttls && command -v prosody >/dev/null; then
	log "xmpp-starttls: openssl s_client -starttls xmpp against Prosody"
	d=$WORK/prosody
	mkdir -p "$d/data"; cp "$WORK/cert.pem" "$WORK/key.pem" "$d/"; chown -R prosody "$d" 2>/dev/null || true
	cat >"$d/prosody.cfg.lua" <<-EOF
		pidfile = "$d/prosody.pid"
		data_path = "$d/data"
		daemonize = false
		log = { { levels = { min = "info" }, to = "file", filename = "$d/prosody.log" } }
		interfaces = { "127.0.0.1" }
		c2s_ports = { 25222 }
		s2s_ports = { 25269 }
		c2s_require_encryption = true
		modules_enabled = { "tls", "saslauth", "roster", "disco", "ping" }
		ssl = { certificate = "$d/cert.pem", key = "$d/key.pem" }
		VirtualHost "localhost"
	EOF
	bg setpriv --reuid=prosody --regid=prosody --init-groups prosody --config "$d/prosody.cfg.lua"
	waitport 25222
	start xmpp-starttls 25222
	echo "</stream:stream>" | timeout 10 openssl s_client -quiet -connect 127.0.0.1:25222 -starttls xmpp -xmpphost localhost \
		-servername localhost -keylogfile "$OUT/xmpp-starttls.keys" >/dev/null 2>&1 || true
	stop
fi

if want rdp-x224 && command -v xrdp >/dev/null && command -v nmap >/dev/null; then
	# nmap's rdp-enum-encryption asks for each protocol in an X.224
	# Connection Request and, PROTOCOL_SSL granted, starts TLS on the same
	# connection (its portrule wants 3389). xrdp needs an RSA key.
	log "rdp-x224: nmap rdp-enum-encryption against xrdp (X.224, PROTOCOL_SSL, TLS)"
	if ss -Hltn "sport = :3389" | grep -q .; then
		log "rdp-x224: port 3389 is taken, skipped"
	else
		d=$WORK/xrdp
		mkdir -p "$d"
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost/O=tlsscope handover" \
			-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
		sed -e 's|^port=3389|port=tcp://127.0.0.1:3389|' -e "s|^certificate=.*|certificate=$d/cert.pem|" \
			-e "s|^key_file=.*|key_file=$d/key.pem|" -e 's|^security_layer=.*|security_layer=tls|' \
			/etc/xrdp/xrdp.ini >"$d/xrdp.ini"
		bg xrdp --nodaemon --config "$d/xrdp.ini"
		waitport 3389
		start rdp-x224 3389
		timeout 60 nmap -Pn -p 3389 --script rdp-enum-encryption 127.0.0.1 >/dev/null 2>&1 || true
		stop
	fi
fi

# The line protocols: scripted servers (peers.py) and OpenSSL's client.
# Fixed ports: the test tells tshark which dissector each one takes.
declare -A PORTS=([irc-starttls]=26667 [irc-refused]=26668 [nntp-starttls]=26119 [nntp-refused]=26120
	[sieve-starttls]=24190 [sieve-refused]=24191 [tls-preamble]=27001 [tls-twice]=27002)
for proto in irc nntp sieve; do
	for mode in starttls refused; do
		name=$proto-$mode
		want "$name" || continue
		port=${PORTS[$name]}
		log "$name: openssl s_client -starttls $proto against a scripted server"
		bg python3 "$HERE/peers.py" "$proto" "$mode" "$port" "$WORK/cert.pem" "$WORK/key.pem"
		waitport "$port"
		start "$name" "$port"
		if [ "$mode" = starttls ]; then
			echo | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$port" -starttls "$proto" -servername localhost \
				-keylogfile "$OUT/$name.keys" >/dev/null 2>&1 || true
		else
			python3 "$HERE/peers.py" client-"$proto" "$port"
		fi
		stop
	done
done

for kind in preamble twice; do
	name=tls-$kind
	want "$name" || continue
	port=${PORTS[$name]}
	log "$name: Python ssl on both ends"
	bg python3 "$HERE/peers.py" "$kind" "$port" "$WORK/cert.pem" "$WORK/key.pem"
	waitport "$port"
	start "$name" "$port"
	python3 "$HERE/peers.py" client-"$kind" "$port" "$OUT/$name.keys" || log "$name client failed"
	stop
done

rm -f "$OUT"/*.keys.tmp
chmod 644 "$OUT"/* 2>/dev/null || true
ls -l "$OUT" >&2
