package cleartext

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
)

// capKinds are the anomalies of the limits that drop data (see Limits):
// TestEveryCapIsANamedAnomaly hits each one.
var capKinds = []string{
	AnomalyHeaderTooLong, AnomalyTooManyHeaders, AnomalyTooManyAuthParams, AnomalyBodyOverLimit,
	AnomalyDecompressedOverLimit, AnomalyChunkLineTooLong, AnomalyTooManyPipelined, AnomalyTooManyFields,
	AnomalyTooManyParts, AnomalyJSONTooDeep, AnomalyLineTooLong, AnomalyLiteralTooLong,
	AnomalyTooManySecrets, AnomalyScanTruncated, AnomalyTooManyMatches, AnomalyLDAPMessageTooLong,
}

// post is an HTTP/1.1 POST of body with the given Content-Type.
func post(ct, body string) string {
	return crlf("POST /p HTTP/1.1\nHost: h\nContent-Type: "+ct+"\nContent-Length: "+fmt.Sprint(len(body))+"\n\n") + body
}

func repeatJoin(n int, sep string, f func(i int) string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = f(i)
	}
	return strings.Join(parts, sep)
}

// TestEveryCapIsANamedAnomaly: each limit that drops data, hit by input a
// little over it, is its named anomaly and counts in Stream.Truncated;
// the same input a little under it is neither.
func TestEveryCapIsANamedAnomaly(t *testing.T) {
	hit := map[string]int{}
	multipart := func(parts int) string {
		var b strings.Builder
		for i := 0; i < parts; i++ {
			fmt.Fprintf(&b, "--XB\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv%d\r\n", i, i)
		}
		b.WriteString("--XB--\r\n")
		return b.String()
	}
	ldapBig := func(n int) string {
		// An LDAPMessage SEQUENCE whose long-form length says n bytes.
		return hex.EncodeToString([]byte{0x30, 0x83, byte(n >> 16), byte(n >> 8), byte(n)}) + strings.Repeat("00", 64)
	}
	for _, tc := range []struct {
		kind        string
		proto       Protocol
		cfg         Config
		over, under string // client bytes (LDAP: hex)
	}{
		{AnomalyHeaderTooLong, HTTP, Config{},
			"GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxHeaderBytes),
			crlf("GET / HTTP/1.1\nX: " + strings.Repeat("a", maxHeaderBytes-100) + "\n\n")},
		{AnomalyTooManyHeaders, HTTP, Config{},
			crlf("GET / HTTP/1.1\n" + repeatJoin(maxHeaders+1, "\n", func(i int) string { return fmt.Sprintf("X-%d: v", i) }) + "\n\n"),
			crlf("GET / HTTP/1.1\n" + repeatJoin(maxHeaders, "\n", func(i int) string { return fmt.Sprintf("X-%d: v", i) }) + "\n\n")},
		{AnomalyTooManyAuthParams, HTTP, Config{},
			crlf("GET / HTTP/1.1\nAuthorization: Digest " + repeatJoin(maxAuthParams+1, ", ", func(i int) string { return fmt.Sprintf("p%d=v", i) }) + "\n\n"),
			crlf("GET / HTTP/1.1\nAuthorization: Digest " + repeatJoin(maxAuthParams, ", ", func(i int) string { return fmt.Sprintf("p%d=v", i) }) + "\n\n")},
		{AnomalyBodyOverLimit, HTTP, Config{MaxBody: 100},
			post("text/plain", strings.Repeat("x", 101)), post("text/plain", strings.Repeat("x", 100))},
		{AnomalyDecompressedOverLimit, HTTP, Config{MaxBody: 100},
			crlf("POST / HTTP/1.1\nContent-Encoding: gzip\nContent-Type: text/plain\nContent-Length: "+fmt.Sprint(len(gz(strings.Repeat("A", 101))))+"\n\n") + gz(strings.Repeat("A", 101)),
			crlf("POST / HTTP/1.1\nContent-Encoding: gzip\nContent-Type: text/plain\nContent-Length: "+fmt.Sprint(len(gz(strings.Repeat("A", 100))))+"\n\n") + gz(strings.Repeat("A", 100))},
		{AnomalyChunkLineTooLong, HTTP, Config{},
			crlf("POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n") + "1;" + strings.Repeat("e", maxLine) + "\r\nx\r\n0\r\n\r\n",
			crlf("POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n") + "1;" + strings.Repeat("e", maxLine-10) + "\r\nx\r\n0\r\n\r\n"},
		{AnomalyTooManyPipelined, HTTP, Config{},
			strings.Repeat(crlf("GET / HTTP/1.1\nHost: h\n\n"), maxPipelined+1), strings.Repeat(crlf("GET / HTTP/1.1\nHost: h\n\n"), maxPipelined)},
		{AnomalyTooManyFields, HTTP, Config{},
			post("application/x-www-form-urlencoded", repeatJoin(maxFields+1, "&", func(i int) string { return fmt.Sprintf("f%d=v", i) })),
			post("application/x-www-form-urlencoded", repeatJoin(maxFields, "&", func(i int) string { return fmt.Sprintf("f%d=v", i) }))},
		{AnomalyTooManyFields, HTTP, Config{},
			post("application/json", "["+repeatJoin(maxFields+1, ",", func(i int) string { return fmt.Sprint(i) })+"]"),
			post("application/json", "["+repeatJoin(maxFields, ",", func(i int) string { return fmt.Sprint(i) })+"]")},
		{AnomalyTooManyParts, HTTP, Config{},
			post("multipart/form-data; boundary=XB", multipart(maxParts+1)), post("multipart/form-data; boundary=XB", multipart(maxParts))},
		{AnomalyJSONTooDeep, HTTP, Config{},
			post("application/json", strings.Repeat("[", maxJSONDepth+1)+`"v"`+strings.Repeat("]", maxJSONDepth+1)),
			post("application/json", strings.Repeat("[", maxJSONDepth)+`"v"`+strings.Repeat("]", maxJSONDepth))},
		{AnomalyLineTooLong, FTP, Config{},
			"USER " + strings.Repeat("u", maxLine) + "\r\n", "USER " + strings.Repeat("u", maxLine-10) + "\r\n"},
		{AnomalyLineTooLong, Telnet, Config{},
			strings.Repeat("u", maxLine+1) + "\r\n", strings.Repeat("u", maxLine) + "\r\n"},
		{AnomalyLiteralTooLong, IMAP, Config{},
			fmt.Sprintf("a1 APPEND INBOX {%d}\r\n%s\r\n", maxLine, strings.Repeat("m", maxLine)),
			fmt.Sprintf("a1 APPEND INBOX {%d}\r\n%s\r\n", maxLine-100, strings.Repeat("m", maxLine-100))},
		{AnomalyTooManySecrets, HTTP, Config{},
			post("application/x-www-form-urlencoded", repeatJoin(maxSecrets+1, "&", func(i int) string { return fmt.Sprintf("password=pw%d", i) })),
			post("application/x-www-form-urlencoded", repeatJoin(maxSecrets, "&", func(i int) string { return fmt.Sprintf("password=pw%d", i) }))},
		{AnomalyScanTruncated, HTTP, Config{MaxBody: 2 * maxScan},
			post("text/plain", strings.Repeat("x", maxScan+1)), post("text/plain", strings.Repeat("x", maxScan))},
		{AnomalyTooManyMatches, HTTP, Config{},
			post("text/plain", repeatJoin(maxMatches+1, " ", func(i int) string { return fmt.Sprintf("u%d@example.com", i) })),
			post("text/plain", repeatJoin(maxMatches, " ", func(i int) string { return fmt.Sprintf("u%d@example.com", i) }))},
		{AnomalyLDAPMessageTooLong, LDAP, Config{}, ldapBig(maxLDAPMessage), ldapBig(maxLDAPMessage - 10)},
	} {
		run := func(in string) (kinds []string, truncated int) {
			data := []byte(in)
			if tc.proto == LDAP {
				var err error
				if data, err = hex.DecodeString(in); err != nil {
					t.Fatal(err)
				}
			}
			st := NewStream(tc.proto, tc.cfg, Handler{
				Secret:  func(facts.Secret) {},
				Anomaly: func(k string, _ tls.Direction, _ string) { kinds = append(kinds, k) },
			})
			st.Feed(tls.ClientToServer, data, time.Unix(0, 0))
			st.Close()
			return kinds, st.Truncated
		}
		kinds, n := run(tc.over)
		if !slices.Contains(kinds, tc.kind) || n == 0 {
			t.Errorf("%s (%s) over the limit: anomalies %v, Truncated %d", tc.kind, tc.proto, kinds, n)
		}
		if kinds, n := run(tc.under); slices.Contains(kinds, tc.kind) || n != 0 {
			t.Errorf("%s (%s) at the limit: anomalies %v, Truncated %d", tc.kind, tc.proto, kinds, n)
		}
		hit[tc.kind]++
	}
	for _, k := range capKinds {
		if hit[k] == 0 {
			t.Errorf("no case hits %s", k)
		}
	}
	if len(hit) != len(capKinds) {
		t.Errorf("%d kinds hit, %d in capKinds", len(hit), len(capKinds))
	}
}
