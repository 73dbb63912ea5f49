#!/usr/bin/env python3
"""Scripted peers for scripts/handovercapture/capture.sh.

  peers.py irc|nntp|sieve starttls|refused PORT CERT KEY   # a server
  peers.py client-irc|client-nntp|client-sieve PORT         # a client
  peers.py preamble|twice PORT CERT KEY                     # a server
  peers.py socks5-auth PORT                                 # a SOCKS5 proxy
  peers.py client-preamble|client-twice PORT KEYLOG         # its client

preamble: a protocol no parser knows (a "HELLO" line, a "READY" reply)
turns into TLS, for the mid-stream scan. twice: two TLS sessions, one
after the other, on one TCP connection (the first closed by close_notify
both ways, SNI first.localhost then second.localhost).

socks5-auth: a SOCKS5 proxy (RFC 1928) that asks for RFC 1929
username/password and relays one CONNECT, for curl --socks5 user:pass@.

The line servers answer one connection with the replies their specifications
give: IRC (IRCv3 tls: 670 RPL_STARTTLS, 691 ERR_STARTTLS), NNTP (RFC 4642:
382 continue, 580 can not initiate), ManageSieve (RFC 5804: OK, NO). In
starttls mode they accept and hand the socket to Python's ssl; in refused
mode they refuse and go on in the clear, where the client logs in. The
clients (refused mode) ask for STARTTLS, take the refusal and log in in
the clear (AUTHINFO USER/PASS, AUTHENTICATE "PLAIN").
"""
import base64
import socket
import ssl
import sys


def lines(f):
    for raw in f:
        yield raw.decode("utf-8", "replace").rstrip("\r\n")


def serve(proto, mode, port, cert, key):
    ls = socket.create_server(("127.0.0.1", port))
    conn, _ = ls.accept()
    f = conn.makefile("rb")

    def send(s):
        conn.sendall(s.encode() + b"\r\n")

    if proto == "nntp":
        send("200 news.localhost NNTP service ready, posting allowed")
    elif proto == "sieve":
        send('"IMPLEMENTATION" "tlsscope scripted sieve"')
        send('"SASL" "PLAIN"')
        send('"STARTTLS"')
        send('"VERSION" "1.0"')
        send("OK")
    for line in lines(f):
        word = line.split(" ")[0].upper()
        if proto == "nntp" and word == "CAPABILITIES":
            send("101 Capability list:")
            send("VERSION 2")
            send("STARTTLS")
            send("AUTHINFO USER")
            send(".")
        elif word == "STARTTLS":
            if mode == "refused":
                send({"irc": ":irc.localhost 691 * :STARTTLS failed (refused)",
                      "nntp": "580 Can not initiate TLS negotiation",
                      "sieve": 'NO "TLS not available"'}[proto])
                continue
            send({"irc": ":irc.localhost 670 * :STARTTLS successful, go ahead with TLS handshake",
                  "nntp": "382 Continue with TLS negotiation",
                  "sieve": "OK"}[proto])
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            t = ctx.wrap_socket(conn, server_side=True)
            try:
                t.recv(1024)
                t.sendall(b"bye\r\n")
                t.unwrap()
            except (OSError, ssl.SSLError):
                pass
            t.close()
            return
        elif proto == "nntp" and word == "AUTHINFO":
            sub = line.split(" ")[1].upper() if " " in line else ""
            send("381 Password required" if sub == "USER" else "281 Authentication accepted")
        elif proto == "sieve" and word == "AUTHENTICATE":
            send("OK")
        elif proto == "irc" and word in ("NICK", "USER", "CAP"):
            if word == "USER":
                send(":irc.localhost 001 scope :Welcome")
        elif word in ("QUIT", "LOGOUT"):
            send({"irc": "ERROR :Closing link", "nntp": "205 closing", "sieve": "OK"}[proto])
            break
    conn.close()


def client(proto, port):
    c = socket.create_connection(("127.0.0.1", port))
    f = c.makefile("rb")
    it = lines(f)

    def send(s):
        c.sendall(s.encode() + b"\r\n")

    if proto == "nntp":
        next(it)
        send("STARTTLS")
        next(it)
        send("AUTHINFO USER scope")
        next(it)
        send("AUTHINFO PASS secret-nntp")
        next(it)
        send("QUIT")
    elif proto == "sieve":
        for line in it:
            if line.startswith("OK"):
                break
        send("STARTTLS")
        next(it)
        plain = base64.b64encode(b"\x00scope\x00secret-sieve").decode()
        send('AUTHENTICATE "PLAIN" "%s"' % plain)
        next(it)
        send("LOGOUT")
    else:
        send("STARTTLS")
        next(it)
        send("NICK scope")
        send("USER scope 0 * :scope")
        next(it)
        send("QUIT")
    next(it, None)
    c.close()


def recvn(c, n):
    b = b""
    while len(b) < n:
        part = c.recv(n - len(b))
        if not part:
            raise EOFError
        b += part
    return b


def serve_socks5_auth(port):
    import select
    import struct
    ls = socket.create_server(("127.0.0.1", port))
    c, _ = ls.accept()
    ver, n = recvn(c, 2)
    methods = recvn(c, n)
    if 2 not in methods:
        c.sendall(b"\x05\xff")
        return
    c.sendall(b"\x05\x02")
    _, ulen = recvn(c, 2)
    recvn(c, ulen)
    plen = recvn(c, 1)[0]
    recvn(c, plen)
    c.sendall(b"\x01\x00")
    _, cmd, _, atyp = recvn(c, 4)
    if atyp == 1:
        host = socket.inet_ntoa(recvn(c, 4))
    elif atyp == 3:
        host = recvn(c, recvn(c, 1)[0]).decode()
    else:
        host = socket.inet_ntop(socket.AF_INET6, recvn(c, 16))
    dport = struct.unpack(">H", recvn(c, 2))[0]
    up = socket.create_connection(("127.0.0.1" if host == "localhost" else host, dport))
    c.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack(">H", up.getsockname()[1]))
    socks = [c, up]
    while True:
        r, _, _ = select.select(socks, [], [], 10)
        if not r:
            break
        done = False
        for s_ in r:
            data = s_.recv(65536)
            if not data:
                done = True
                break
            (up if s_ is c else c).sendall(data)
        if done:
            break
    c.close()
    up.close()


def serve_tls(kind, port, cert, key):
    ls = socket.create_server(("127.0.0.1", port))
    conn, _ = ls.accept()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if kind == "preamble":
        f = conn.makefile("rb")
        f.readline()
        conn.sendall(b"READY\r\n")
        rounds = 1
    else:
        rounds = 2
    for _ in range(rounds):
        t = ctx.wrap_socket(conn, server_side=True)
        t.recv(1024)
        t.sendall(b"pong\r\n")
        conn = t.unwrap()
    conn.close()


def client_tls(kind, port, keylog):
    c = socket.create_connection(("127.0.0.1", port))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.keylog_filename = keylog
    if kind == "preamble":
        c.sendall(b"HELLO tlsscope-custom/1\r\n")
        c.recv(7)
        names = ["localhost"]
    else:
        names = ["first.localhost", "second.localhost"]
    for name in names:
        t = ctx.wrap_socket(c, server_hostname=name)
        t.sendall(b"ping\r\n")
        t.recv(1024)
        c = t.unwrap()
    c.close()


if __name__ == "__main__":
    if sys.argv[1] == "socks5-auth":
        serve_socks5_auth(int(sys.argv[2]))
        sys.exit(0)
    if sys.argv[1] in ("preamble", "twice"):
        serve_tls(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
        sys.exit(0)
    if sys.argv[1] in ("client-preamble", "client-twice"):
        client_tls(sys.argv[1][len("client-"):], int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    if sys.argv[1].startswith("client-"):
        client(sys.argv[1][len("client-"):], int(sys.argv[2]))
    else:
        serve(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
