// Command peer is the Go crypto/tls end of `make captures`: a TLS server or
// client that makes one exchange per connection (a request line, a short
// response) so scripts/captures/capture.sh can record Go's handshakes.
//
//	peer -server -addr 127.0.0.1:4433 -cert leaf.pem -key leaf.key -n 1
//	peer -addr 127.0.0.1:4433 -ca ca.pem -sni localhost -alpn h2,http/1.1
//
// It is a test helper, not part of tlsscope.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "peer: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	server   bool
	addr     string
	cert     string
	key      string
	ca       string
	sni      string
	alpn     string
	min, max string
	suites   string
	n        int
	request  string
}

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("peer", flag.ContinueOnError)
	fs.BoolVar(&o.server, "server", false, "act as the server")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:4433", "address to listen on or connect to")
	fs.StringVar(&o.cert, "cert", "", "certificate chain (PEM, leaf first)")
	fs.StringVar(&o.key, "key", "", "private key (PEM)")
	fs.StringVar(&o.ca, "ca", "", "CA certificates to verify the server with")
	fs.StringVar(&o.sni, "sni", "", "server name to send (client)")
	fs.StringVar(&o.alpn, "alpn", "", "comma-separated ALPN protocols")
	fs.StringVar(&o.min, "min", "1.2", "minimum version: 1.0, 1.1, 1.2, 1.3")
	fs.StringVar(&o.max, "max", "1.3", "maximum version")
	fs.StringVar(&o.suites, "suites", "", "comma-separated TLS 1.0-1.2 cipher suite names (Go's names)")
	fs.IntVar(&o.n, "n", 1, "connections to accept before exiting (server)")
	fs.StringVar(&o.request, "request", "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", "bytes the client sends")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config(&o)
	if err != nil {
		return err
	}
	if o.server {
		return serve(&o, cfg)
	}
	return dial(&o, cfg)
}

func config(o *options) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: o.sni}
	var err error
	if cfg.MinVersion, err = version(o.min); err != nil {
		return nil, err
	}
	if cfg.MaxVersion, err = version(o.max); err != nil {
		return nil, err
	}
	if o.alpn != "" {
		cfg.NextProtos = strings.Split(o.alpn, ",")
	}
	if o.suites != "" {
		byName := map[string]uint16{}
		for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			byName[s.Name] = s.ID
		}
		for _, name := range strings.Split(o.suites, ",") {
			id, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("unknown cipher suite %q", name)
			}
			cfg.CipherSuites = append(cfg.CipherSuites, id)
		}
	}
	if o.cert != "" {
		pair, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", o.cert, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if o.ca != "" {
		pem, err := os.ReadFile(o.ca)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificates", o.ca)
		}
	}
	return cfg, nil
}

func version(s string) (uint16, error) {
	switch s {
	case "1.0":
		return tls.VersionTLS10, nil
	case "1.1":
		return tls.VersionTLS11, nil
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("unknown TLS version %q", s)
}

func serve(o *options, cfg *tls.Config) error {
	ln, err := tls.Listen("tcp", o.addr, cfg)
	if err != nil {
		return err
	}
	defer ln.Close()
	for i := 0; i < o.n; i++ {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		if err := answer(c.(*tls.Conn)); err != nil {
			fmt.Fprintf(os.Stderr, "peer: connection %d: %v\n", i+1, err)
		}
	}
	return nil
}

func answer(c *tls.Conn) error {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if strings.TrimRight(line, "\r\n") == "" {
			break
		}
	}
	st := c.ConnectionState()
	body := fmt.Sprintf("hello from Go crypto/tls: %s %s alpn=%q sni=%q\n",
		tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol, st.ServerName)
	if _, err := fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body); err != nil {
		return err
	}
	// close_notify and FIN, then read the client's close_notify: closing
	// with unread bytes would make the kernel answer with a RST.
	if err := c.CloseWrite(); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, r)
	return err
}

func dial(o *options, cfg *tls.Config) error {
	if path := os.Getenv("SSLKEYLOGFILE"); path != "" {
		// NSS key log format, appended: tshark can then decrypt the capture.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.KeyLogWriter = f
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", o.addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, strings.ReplaceAll(o.request, `\r\n`, "\r\n")); err != nil {
		return err
	}
	resp, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	st := c.ConnectionState()
	fmt.Printf("%s %s alpn=%q: %d bytes\n", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol, len(resp))
	return nil
}
