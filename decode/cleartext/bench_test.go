package cleartext

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// benchHTTP feeds a keep-alive exchange of n requests (a form login, a
// page with a cookie, a JSON call) and their responses in segment-sized
// pieces.
func benchHTTP(b *testing.B, client, server string) {
	b.Helper()
	b.SetBytes(int64(len(client) + len(server)))
	b.ReportAllocs()
	ts := time.Unix(0, 0)
	var secrets, msgs int
	h := Handler{Secret: func(facts.Secret) { secrets++ }, HTTP: func(facts.HTTPMessage) { msgs++ }}
	cb, sb := []byte(client), []byte(server)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := NewStream(HTTP, Config{}, h)
		c, s := cb, sb
		for len(c) > 0 || len(s) > 0 {
			n := min(len(c), 1448)
			if n > 0 {
				st.Feed(tls.ClientToServer, c[:n], ts)
				c = c[n:]
			}
			n = min(len(s), 1448)
			if n > 0 {
				st.Feed(tls.ServerToClient, s[:n], ts)
				s = s[n:]
			}
		}
		st.Close()
	}
	if msgs == 0 {
		b.Fatal("no messages")
	}
}

func BenchmarkHTTPKeepAlive(b *testing.B) {
	var c, s strings.Builder
	page := strings.Repeat("<p>lorem ipsum dolor sit amet</p>\n", 100)
	for i := 0; i < 20; i++ {
		c.WriteString(crlf("POST /login HTTP/1.1\nHost: example.com\nUser-Agent: curl/8\nContent-Type: application/x-www-form-urlencoded\nContent-Length: 35\n\n") + "username=alice&password=BenchPass12")
		c.WriteString(crlf("GET /home?page=2 HTTP/1.1\nHost: example.com\nCookie: sessionid=Sx7dQ2kV9mPz4LwR8nTb3YcJ; theme=dark\nAccept: */*\n\n"))
		s.WriteString(crlf("HTTP/1.1 302 Found\nSet-Cookie: sessionid=Sx7dQ2kV9mPz4LwR8nTb3YcJ; Path=/; HttpOnly\nLocation: /home\nContent-Length: 0\n\n"))
		s.WriteString(crlf("HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: "+itoa(len(page))+"\n\n") + page)
	}
	benchHTTP(b, c.String(), s.String())
}

// BenchmarkHTTPNoSecrets is the common case: ordinary requests and
// responses with nothing to report.
func BenchmarkHTTPNoSecrets(b *testing.B) {
	var c, s strings.Builder
	body := strings.Repeat("x", 16<<10)
	for i := 0; i < 20; i++ {
		c.WriteString(crlf("GET /static/app.js HTTP/1.1\nHost: example.com\nUser-Agent: Mozilla/5.0\nAccept: */*\nAccept-Encoding: gzip\n\n"))
		s.WriteString(crlf("HTTP/1.1 200 OK\nContent-Type: application/javascript\nContent-Length: "+itoa(len(body))+"\n\n") + body)
	}
	benchHTTP(b, c.String(), s.String())
}

func itoa(n int) string { return strconv.Itoa(n) }

// BenchmarkObsFold parses a header folded over n continuation lines (RFC
// 9112, 5.2's obs-fold): n and 2n should take about twice the time, not
// four times (the value was rebuilt at every line; issue 19).
func BenchmarkObsFold(b *testing.B) {
	for _, n := range []int{50000, 100000} {
		head := []byte("GET / HTTP/1.1\r\nX-Long: start\r\n" + strings.Repeat(" folded continuation line\r\n", n) + "Host: example.com\r\n")
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(head)))
			for i := 0; i < b.N; i++ {
				if m := parseHead(head, true); m == nil || len(m.headers) != 2 {
					b.Fatal("not parsed")
				}
			}
		})
	}
}
