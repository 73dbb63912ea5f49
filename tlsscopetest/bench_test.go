package tlsscopetest_test

import (
	"io"
	"net"
	"testing"

	"github.com/tlsscope/tlsscope/tlsscopetest"
)

// BenchmarkResult analyses a recording of 50 TLS 1.2 connections, each
// a GET of a small body (the cost of one NoFindings or Analyze).
func BenchmarkResult(b *testing.B) {
	rec := tlsscopetest.NewRecorder()
	ca := newCA(b)
	scfg, ccfg := goodServer(b, ca)
	srv := serve(b, rec, scfg)
	for range 50 {
		get(b, srv, ccfg, nil)
	}
	srv.Close()
	b.ResetTimer()
	for b.Loop() {
		res, err := rec.Result()
		if err != nil || len(res.Captures[0].Connections) != 50 {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransfer sends 4 MiB through a loopback TCP connection, as
// is (plain) and recorded: what recording costs a test.
func BenchmarkTransfer(b *testing.B) {
	for _, recorded := range []bool{false, true} {
		name := "plain"
		if recorded {
			name = "recorded"
		}
		b.Run(name, func(b *testing.B) {
			const size = 4 << 20
			buf := make([]byte, 32<<10)
			b.SetBytes(size)
			for b.Loop() {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				rec := tlsscopetest.NewRecorder()
				if recorded {
					l = rec.Listener(l)
				}
				done := make(chan struct{})
				go func() {
					defer close(done)
					c, err := l.Accept()
					if err != nil {
						return
					}
					io.Copy(io.Discard, c)
					c.Close()
				}()
				c, err := net.Dial("tcp", l.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				for sent := 0; sent < size; sent += len(buf) {
					c.Write(buf)
				}
				c.Close()
				<-done
				l.Close()
			}
		})
	}
}
