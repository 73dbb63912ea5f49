#!/usr/bin/env python3
"""Scripted servers and clients for `make captures` (stdlib only).

Servers answer just enough of each protocol for the stdlib client to log in:

  peers.py http-server PORT [--bind ADDR] [--tls CERT KEY]
  peers.py mail-server ftp|smtp|pop3|imap PORT [--tls CERT KEY]
      --tls on a mail server offers STARTTLS / STLS / AUTH TLS and wraps the
      socket after the upgrade command; on http-server it serves HTTPS.
  peers.py telnet-server PORT
  peers.py ldap-server PORT       (answers a simple bind and one search)
  peers.py ftp|smtp-plain|smtp-login|pop3|imap|telnet PORT USER PASS [--starttls CA]
  peers.py tls-client PORT --ca CA [--sni NAME]   (Python ssl client, one GET)

It is a test helper, not part of tlsscope.
"""
import argparse
import base64
import gzip
import http.server
import socket
import socketserver
import ssl
import sys

LOGIN_PAGE = b"""<!DOCTYPE html>
<html><head><title>Sign in</title></head>
<body><form method="post" action="/login">
<label>User <input type="text" name="username"></label>
<label>Password <input type="password" name="password"></label>
<button type="submit">Sign in</button>
</form></body></html>
"""


class HTTPHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "captures/1"
    sys_version = ""

    def log_message(self, *args):
        pass

    def version_string(self):
        return self.server_version

    def date_time_string(self, timestamp=None):
        # A fixed Date header keeps the captures comparable between runs.
        return "Sun, 29 Nov 2026 00:00:00 GMT"

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n)

    def reply(self, status, body, ctype="text/plain", headers=()):
        gz = "gzip" in self.headers.get("Accept-Encoding", "") and self.path.startswith("/gzip")
        if gz:
            body = gzip.compress(body, mtime=0)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if gz:
            self.send_header("Content-Encoding", "gzip")
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/login") or self.path.startswith("/gzip/login"):
            self.reply(200, LOGIN_PAGE, "text/html; charset=utf-8")
        elif self.path.startswith("/session"):
            self.reply(200, b"welcome back\n", headers=[
                ("Set-Cookie", "sessionid=Sx7dQ2kV9mPz4LwR8nTb3YcJ; Path=/; HttpOnly")])
        else:
            self.reply(200, b"hello\n")

    def do_POST(self):
        data = self.body()
        if self.path.startswith("/oauth/token"):
            # RFC 6749, 5.1: the access token response.
            self.reply(200, b'{"access_token":"at_9f8e7d6c5b4a39281706f5e4d3c2b1a0","token_type":"Bearer",'
                            b'"expires_in":3600}\n', "application/json", [("Cache-Control", "no-store")])
            return
        headers = []
        if self.path.startswith("/login"):
            headers.append(("Set-Cookie", "sessionid=Sx7dQ2kV9mPz4LwR8nTb3YcJ; Path=/; HttpOnly"))
        self.reply(200, b"received %d bytes\n" % len(data), headers=headers)


# Closing a socket with unread bytes makes the kernel send a RST, which real
# servers rarely do and captures should not show. So a side that closes
# first sends its close_notify and FIN and then reads until the peer's FIN;
# a side that closes second reads to the peer's EOF and then closes,
# sending nothing the gone peer would answer with a RST.

def close_first(sock):
    try:
        sock.settimeout(2)
        if isinstance(sock, ssl.SSLSocket):
            sock = sock.unwrap()  # close_notify both ways
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(4096):
            pass
    except (OSError, ValueError):
        pass
    sock.close()


def close_second(sock):
    try:
        sock.settimeout(2)
        while sock.recv(4096):
            pass
    except (OSError, ValueError):
        pass
    sock.close()


class HTTPServer(socketserver.TCPServer):
    allow_reuse_address = True

    def __init__(self, addr, handler, family):
        self.address_family = family
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        h = self.RequestHandlerClass(request, client_address, self)
        # An empty request line: the client closed the connection first.
        self.client_closed = not getattr(h, "raw_requestline", b"")

    def shutdown_request(self, request):
        if self.client_closed:
            close_second(request)
        else:
            close_first(request)


def server_ctx(pair):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pair[0], pair[1])
    # Clients here close TCP without close_notify after QUIT; without this
    # OpenSSL 3 answers that EOF with a fatal alert (to a closed socket:
    # RST). Common servers set it too.
    ctx.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
    return ctx


def http_server(a):
    family = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
    srv = HTTPServer((a.bind, a.port), HTTPHandler, family)
    if a.tls:
        ctx = server_ctx(a.tls)
        ctx.set_alpn_protocols(["http/1.1"])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


class Lines:
    """Line reader over a socket that can be swapped for its TLS wrapper.
    Nothing is buffered across the upgrade: clients wait for the go-ahead."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                line, self.buf = self.buf, b""
                return line.decode()
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode().rstrip("\r")

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")


def mail_session(proto, sock, ctx):
    io = Lines(sock)
    try:
        io = mail_dialogue(proto, io, ctx)
    finally:
        close_second(io.sock)  # mail clients close after the QUIT reply


def mail_dialogue(proto, io, ctx):
    def upgrade():
        return Lines(ctx.wrap_socket(io.sock, server_side=True))
    greet = {"ftp": "220 captures FTP ready", "smtp": "220 localhost ESMTP captures",
             "pop3": "+OK captures POP3 ready", "imap": "* OK [CAPABILITY IMAP4rev1] captures IMAP ready"}
    io.send(greet[proto])
    tls = False
    while True:
        line = io.readline()
        if line == "":
            return io
        word = line.split(" ")[0].upper()
        if proto == "ftp":
            if word == "AUTH" and ctx:
                io.send("234 AUTH TLS successful")
                io, tls = upgrade(), True
            elif word == "USER":
                io.send("331 Password required")
            elif word == "PASS":
                io.send("230 Logged in")
            elif word == "PWD":
                io.send('257 "/" is the current directory')
            elif word == "QUIT":
                io.send("221 Goodbye")
                return io
            else:
                io.send("502 Command not implemented")
        elif proto == "smtp":
            if word in ("EHLO", "HELO"):
                io.send("250-localhost")
                if ctx and not tls:
                    io.send("250-STARTTLS")
                io.send("250 AUTH PLAIN LOGIN")
            elif word == "STARTTLS" and ctx:
                io.send("220 Ready to start TLS")
                io, tls = upgrade(), True
            elif word == "AUTH":
                parts = line.split(" ")
                if parts[1].upper() == "LOGIN":
                    if len(parts) < 3:
                        io.send("334 VXNlcm5hbWU6")
                        io.readline()
                    io.send("334 UGFzc3dvcmQ6")
                    io.readline()
                io.send("235 2.7.0 Authentication successful")
            elif word == "QUIT":
                io.send("221 Bye")
                return io
            else:
                io.send("250 OK")
        elif proto == "pop3":
            if word == "CAPA":
                io.send("+OK Capability list follows")
                if ctx and not tls:
                    io.send("STLS")
                io.send("USER")
                io.send(".")
            elif word == "STLS" and ctx:
                io.send("+OK Begin TLS negotiation")
                io, tls = upgrade(), True
            elif word in ("USER", "PASS"):
                io.send("+OK")
            elif word == "STAT":
                io.send("+OK 0 0")
            elif word == "QUIT":
                io.send("+OK Bye")
                return io
            else:
                io.send("-ERR unknown command")
        elif proto == "imap":
            tag, _, rest = line.partition(" ")
            cmd = rest.split(" ")[0].upper()
            if cmd == "CAPABILITY":
                caps = "IMAP4rev1" + (" STARTTLS LOGINDISABLED" if ctx and not tls else "")
                io.send("* CAPABILITY " + caps)
                io.send(tag + " OK CAPABILITY completed")
            elif cmd == "STARTTLS" and ctx:
                io.send(tag + " OK Begin TLS negotiation now")
                io, tls = upgrade(), True
            elif cmd == "LOGIN":
                io.send(tag + " OK LOGIN completed")
            elif cmd == "LOGOUT":
                # One write: imaplib closes as soon as it reads the BYE.
                io.send("* BYE logging out\r\n" + tag + " OK LOGOUT completed")
                return io
            else:
                io.send(tag + " OK")


def mail_server(a):
    ctx = None
    if a.tls:
        ctx = server_ctx(a.tls)
    family = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.bind, a.port))
        ls.listen(4)
        while True:
            conn, _ = ls.accept()
            with conn:
                try:
                    mail_session(a.proto, conn, ctx)
                except (OSError, ssl.SSLError) as e:
                    print("mail-server:", e, file=sys.stderr)


def telnet_server(a):
    # RFC 854/857/858: a telnetd offers WILL ECHO and WILL SUPPRESS-GO-AHEAD.
    IAC, WILL, ECHO, SGA = 255, 251, 1, 3
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.bind, a.port))
        ls.listen(4)
        while True:
            conn, _ = ls.accept()
            with conn:
                f = conn.makefile("rb")
                conn.sendall(bytes([IAC, WILL, ECHO, IAC, WILL, SGA]) + b"\r\ncaptures telnet\r\nlogin: ")
                user = telnet_line(f)
                conn.sendall(b"Password: ")
                telnet_line(f)
                conn.sendall(b"\r\nWelcome, " + user + b"\r\n$ ")
                telnet_line(f)
                conn.sendall(b"logout\r\n")
                f.close()  # the socket only closes once its makefile is closed too
                close_first(conn)


def telnet_line(f):
    """Reads a line, dropping telnet commands (IAC DO/DONT/WILL/WONT x)."""
    out = b""
    while True:
        c = f.read(1)
        if not c or c == b"\n":
            return out.rstrip(b"\r")
        if c == b"\xff":
            f.read(2)
            continue
        out += c


def telnet_client(a):
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    import telnetlib
    tn = telnetlib.Telnet(a.host, a.port, timeout=10)
    tn.read_until(b"login: ", 10)
    tn.write(a.user.encode() + b"\r\n")
    tn.read_until(b"Password: ", 10)
    tn.write(a.password.encode() + b"\r\n")
    tn.read_until(b"$ ", 10)
    tn.write(b"exit\r\n")
    tn.read_all()
    tn.close()


# LDAP (RFC 4511) over BER: just enough for curl's ldap:// to bind and search.
LDAP_BIND_REQ, LDAP_BIND_RESP = 0x60, 0x61
LDAP_UNBIND_REQ = 0x42
LDAP_SEARCH_REQ, LDAP_SEARCH_ENTRY, LDAP_SEARCH_DONE = 0x63, 0x64, 0x65


def ber(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + content


def ber_read(f):
    """Reads one TLV from a file; returns (tag, content) or (None, b"")."""
    t = f.read(1)
    if not t:
        return None, b""
    n = f.read(1)[0]
    if n & 0x80:
        n = int.from_bytes(f.read(n & 0x7F), "big")
    return t[0], f.read(n)


def ber_split(content):
    """Splits a constructed value's content into (tag, content) pairs."""
    out, i = [], 0
    while i < len(content):
        tag, n = content[i], content[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(content[i:i + k], "big")
            i += k
        out.append((tag, content[i:i + n]))
        i += n
    return out


def ldap_result(msgid, op):
    result = ber(0x0A, b"\x00") + ber(0x04, b"") + ber(0x04, b"")  # success, matchedDN, message
    return ber(0x30, ber(0x02, msgid) + ber(op, result))


def ldap_server(a):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.bind, a.port))
        ls.listen(4)
        while True:
            conn, _ = ls.accept()
            f = conn.makefile("rb")
            while True:
                tag, msg = ber_read(f)
                if tag != 0x30:
                    break
                parts = ber_split(msg)
                msgid, (op, body) = parts[0][1], parts[1]
                if op == LDAP_BIND_REQ:
                    conn.sendall(ldap_result(msgid, LDAP_BIND_RESP))
                elif op == LDAP_SEARCH_REQ:
                    base = ber_split(body)[0][1]
                    attrs = ber(0x30, ber(0x30, ber(0x04, b"cn") + ber(0x31, ber(0x04, b"Alice Example"))))
                    entry = ber(0x30, ber(0x02, msgid) + ber(LDAP_SEARCH_ENTRY, ber(0x04, base) + attrs))
                    conn.sendall(entry + ldap_result(msgid, LDAP_SEARCH_DONE))
                elif op == LDAP_UNBIND_REQ:
                    break
            f.close()
            close_second(conn)


def client_ctx(a):
    return ssl.create_default_context(cafile=a.starttls) if a.starttls else None


def ftp_client(a):
    import ftplib
    if a.starttls:
        f = ftplib.FTP_TLS(context=client_ctx(a))
    else:
        f = ftplib.FTP()
    f.connect(a.host, a.port, timeout=10)
    f.host = "localhost"  # the name TLS verifies and sends as SNI
    f.login(a.user, a.password)
    f.pwd()
    f.quit()


def smtp_client(a, mech):
    import smtplib
    s = smtplib.SMTP(a.host, a.port, local_hostname="client.example", timeout=10)
    s.ehlo()
    if a.starttls:
        s._host = "localhost"
        s.starttls(context=client_ctx(a))
        s.ehlo()
    s.user, s.password = a.user, a.password
    if mech == "PLAIN":
        s.auth("PLAIN", s.auth_plain)
    else:
        s.auth("LOGIN", s.auth_login, initial_response_ok=False)
    s.quit()


def pop3_client(a):
    import poplib
    p = poplib.POP3(a.host, a.port, timeout=10)
    if a.starttls:
        p.host = "localhost"
        p.stls(context=client_ctx(a))
    p.user(a.user)
    p.pass_(a.password)
    p.stat()
    p.quit()


def imap_client(a):
    import imaplib
    m = imaplib.IMAP4(a.host, a.port, timeout=10)
    if a.starttls:
        m.host = "localhost"
        m.starttls(ssl_context=client_ctx(a))
    m.login(a.user, a.password)
    m.logout()


def tls_client(a):
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.set_alpn_protocols(["http/1.1"])
    with socket.create_connection((a.host, a.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=a.sni) as s:
            s.sendall(b"GET /python HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            print(s.version(), s.cipher()[0], s.selected_alpn_protocol())
            while s.recv(4096):
                pass
            close_first(s)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    hs = sub.add_parser("http-server")
    hs.add_argument("port", type=int)
    hs.add_argument("--bind", default="127.0.0.1")
    hs.add_argument("--tls", nargs=2)
    ms = sub.add_parser("mail-server")
    ms.add_argument("proto", choices=["ftp", "smtp", "pop3", "imap"])
    ms.add_argument("port", type=int)
    ms.add_argument("--bind", default="127.0.0.1")
    ms.add_argument("--tls", nargs=2)
    ls_ = sub.add_parser("ldap-server")
    ls_.add_argument("port", type=int)
    ls_.add_argument("--bind", default="127.0.0.1")
    ts = sub.add_parser("telnet-server")
    ts.add_argument("port", type=int)
    ts.add_argument("--bind", default="127.0.0.1")
    for name in ("ftp", "smtp-plain", "smtp-login", "pop3", "imap", "telnet"):
        c = sub.add_parser(name)
        c.add_argument("port", type=int)
        c.add_argument("user")
        c.add_argument("password")
        c.add_argument("--host", default="127.0.0.1")
        c.add_argument("--starttls", metavar="CA")
    tc = sub.add_parser("tls-client")
    tc.add_argument("port", type=int)
    tc.add_argument("--host", default="127.0.0.1")
    tc.add_argument("--ca", required=True)
    tc.add_argument("--sni", default="localhost")
    a = p.parse_args()
    {"http-server": http_server, "mail-server": mail_server, "ftp": ftp_client,
     "smtp-plain": lambda a: smtp_client(a, "PLAIN"), "smtp-login": lambda a: smtp_client(a, "LOGIN"),
     "pop3": pop3_client, "imap": imap_client,
     "telnet-server": telnet_server, "ldap-server": ldap_server, "telnet": telnet_client, "tls-client": tls_client}[a.cmd](a)


if __name__ == "__main__":
    main()
