// Command quiccapture runs a quic-go server and client on loopback, one
// connection, for scripts/quiccapture/capture.sh to record: QUIC version 1
// or 2, optionally with a Retry, the client's ClientHello with Go's
// default key shares (X25519MLKEM768 first, so the hello is larger than
// one Initial packet and spans two). It writes the client's TLS secrets
// to -keylog (NSS key log format, QUIC labels as tshark reads them).
//
// It is its own module (go.mod beside it) so that tlsscope does not
// depend on quic-go.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"time"

	"github.com/quic-go/quic-go"
)

const alpn = "tlsscope-echo"

func main() {
	addr := flag.String("addr", "127.0.0.1:21900", "server address (loopback)")
	version := flag.Int("version", 1, "QUIC version: 1 (RFC 9000) or 2 (RFC 9369)")
	retry := flag.Bool("retry", false, "the server sends a Retry before accepting")
	keylog := flag.String("keylog", "", "file the client's TLS secrets are written to")
	sni := flag.String("sni", "quic.test", "server name the client asks for")
	flag.Parse()
	if err := run(*addr, *version, *retry, *keylog, *sni); err != nil {
		log.Fatalf("quiccapture: %v", err)
	}
}

func run(addr string, version int, retry bool, keylog, sni string) error {
	cert, pool, err := selfSigned(sni)
	if err != nil {
		return err
	}
	v := quic.Version1
	if version == 2 {
		v = quic.Version2
	}
	qconf := &quic.Config{Versions: []quic.Version{v}}
	udp, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	tr := &quic.Transport{Conn: udp}
	if retry {
		tr.VerifySourceAddress = func(net.Addr) bool { return true } // every new client gets a Retry
	}
	ln, err := tr.Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpn}}, qconf)
	if err != nil {
		return err
	}
	defer ln.Close()
	served := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { served <- serve(ctx, ln) }()

	var w io.Writer
	if keylog != "" {
		f, err := os.Create(keylog)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	conn, err := quic.DialAddr(ctx, addr, &tls.Config{ServerName: sni, RootCAs: pool, NextProtos: []string{alpn}, KeyLogWriter: w}, qconf)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	if _, err := st.Write([]byte("hello over QUIC\n")); err != nil {
		return err
	}
	st.Close()
	reply, err := io.ReadAll(st)
	if err != nil {
		return err
	}
	if string(reply) != "hello over QUIC\n" {
		return fmt.Errorf("echo %q", reply)
	}
	conn.CloseWithError(0, "bye")
	return <-served
}

// serve echoes one stream of one connection.
func serve(ctx context.Context, ln *quic.Listener) error {
	conn, err := ln.Accept(ctx)
	if err != nil {
		return err
	}
	st, err := conn.AcceptStream(ctx)
	if err != nil {
		return err
	}
	if _, err := io.Copy(st, st); err != nil {
		return err
	}
	st.Close()
	<-conn.Context().Done() // the client closes
	return nil
}

// selfSigned makes a throwaway ECDSA certificate for name and a pool that
// trusts it.
func selfSigned(name string) (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool, nil
}
