package report_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// zeekLog is a Zeek TSV log: its #fields and rows.
type zeekLog struct {
	fields []string
	rows   [][]string
}

func readZeekTSV(t *testing.T, path string) zeekLog {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var l zeekLog
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "#fields\t"); ok {
			// ssl-out.log concatenates several logs: the header may repeat.
			l.fields = strings.Split(f, "\t")
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		row := strings.Split(line, "\t")
		if len(row) != len(l.fields) {
			continue // a row of a log with other columns
		}
		m := make([]string, len(row))
		copy(m, row)
		l.rows = append(l.rows, append(m, strings.Join(l.fields, "\t")))
	}
	return l
}

// zeekBaselines maps each corpus Zeek capture to the ssl and x509
// baselines INDEX.md lists for it.
func zeekBaselines(t *testing.T, corpus string) map[string][]string {
	b, err := os.ReadFile(filepath.Join(corpus, "INDEX.md"))
	if err != nil {
		t.Fatal(err)
	}
	capRe := regexp.MustCompile("`(zeek/testing/btest/Traces/[^`]+)`")
	baseRe := regexp.MustCompile(`Baseline/[^ ,;|]+/(ssl(-out|1_2)?|x509(1_2)?)\.log`)
	out := map[string][]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		m := capRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, base := range baseRe.FindAllString(line, -1) {
			p := filepath.Join(corpus, "zeek", "testing", "btest", base)
			if _, err := os.Stat(p); err == nil {
				out[m[1]] = append(out[m[1]], p)
			}
		}
	}
	return out
}

// zeekString prints one of our JSON values as Zeek's TSV writer would.
func zeekString(v any, ok bool) string {
	if !ok || v == nil {
		return "-"
	}
	switch x := v.(type) {
	case bool:
		if x {
			return "T"
		}
		return "F"
	case string:
		return x
	case json.Number:
		if strings.Contains(x.String(), ".") {
			f, _ := x.Float64()
			return strconv.FormatFloat(f, 'f', 6, 64)
		}
		return x.String()
	case []any:
		if len(x) == 0 {
			return "(empty)"
		}
		s := make([]string, len(x))
		for i, e := range x {
			s[i] = zeekString(e, true)
		}
		return strings.Join(s, ",")
	}
	return fmt.Sprint(v)
}

// zeekKnown are the differences from Zeek's baselines that are
// understood, by baseline directory and field.
// Rows with no record at all are logged, not failed.
var zeekKnown = map[string]string{
	// Zeek's QUIC analyzer never raises ssl_established, so its ssl.log
	// says F for every QUIC connection; tlsscope says whether the
	// handshake completed as far as it could see.
	"scripts.base.protocols.quic.chromium established":                      "Zeek never marks QUIC established",
	"scripts.base.protocols.quic.quicv2-echo-443 established":               "Zeek never marks QUIC established",
	"scripts.base.protocols.quic.interop.quic-go_quic-go.retry established": "Zeek never marks QUIC established",
	// After a Retry the client sends its ClientHello again; Zeek logs a C
	// for each, decode/quic's handshake reads the CRYPTO stream the
	// server answered, once.
	"scripts.base.protocols.quic.interop.quic-go_quic-go.retry ssl_history": "one ClientHello read after a QUIC Retry (Zeek: two)",
	// decode/dtls sets the Session's ChangeCipherSpec without the
	// machine's events, so the history lacks Zeek's I and i.
	"scripts.base.protocols.ssl.dtls ssl_history": "no ChangeCipherSpec events from decode/dtls yet (Zeek: I, i)",
}

// TestZeekAgreesWithBaselines: for each corpus capture with a Zeek
// ssl.log or x509.log baseline, --format zeek's records are matched to
// Zeek's (ssl by 4-tuple, x509 by fingerprint) and every field both logs
// have is compared (ts and uid, which btest canonifies, excepted).
// Differences not in zeekKnown fail; the counts are logged per field.
func TestZeekAgreesWithBaselines(t *testing.T) {
	corpus := testutil.Corpus(t)
	bases := zeekBaselines(t, corpus)
	cmpd := testutil.MinCompared(t, 150, "Zeek fields")
	agree, differ := map[string]int{}, map[string]int{}
	matched := 0
	var caps []string
	for c := range bases {
		caps = append(caps, c)
	}
	sort.Strings(caps)
	for _, rel := range caps {
		_, out := analyse(t, filepath.Join(corpus, rel), "zeek")
		ssl, x509 := map[string]map[string]any{}, map[string]map[string]any{}
		for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			d := json.NewDecoder(bytes.NewReader(line))
			d.UseNumber()
			var m map[string]any
			if err := d.Decode(&m); err != nil {
				t.Fatalf("%s: %v: %s", rel, err, line)
			}
			switch m["_path"] {
			case "ssl":
				key := fmt.Sprint(m["id.orig_h"], m["id.orig_p"], m["id.resp_h"], m["id.resp_p"])
				ssl[key] = m
			case "x509":
				x509[m["fingerprint"].(string)] = m
			default:
				t.Errorf("%s: record without _path ssl or x509: %s", rel, line)
			}
		}
		for _, base := range bases[rel] {
			l := readZeekTSV(t, base)
			dir := filepath.Base(filepath.Dir(base))
			isX509 := strings.HasPrefix(filepath.Base(base), "x509")
			for _, row := range l.rows {
				fields := strings.Split(row[len(row)-1], "\t")
				col := map[string]string{}
				for i, f := range fields {
					col[f] = row[i]
				}
				var ours map[string]any
				if isX509 {
					ours = x509[col["fingerprint"]]
				} else {
					ours = ssl[fmt.Sprint(col["id.orig_h"], col["id.orig_p"], col["id.resp_h"], col["id.resp_p"])]
				}
				if ours == nil {
					// ssl-out.log collects several captures' rows: only
					// a dedicated log's missing rows are worth a line.
					if !strings.HasSuffix(base, "ssl-out.log") {
						t.Logf("%s: no record for Zeek's %s row %v", rel, filepath.Base(base), row[:min(6, len(row)-1)])
					}
					continue
				}
				matched++
				for _, f := range fields {
					if f == "ts" || f == "uid" {
						continue
					}
					v, ok := ours[f]
					if !ok && !knownField(isX509, f) {
						continue // a field tlsscope does not write
					}
					got, want := zeekString(v, ok), col[f]
					cmpd.Add(1)
					if got == want || sameTime(got, want) {
						agree[f]++
						continue
					}
					differ[f]++
					if why, ok := zeekKnown[dir+" "+f]; ok {
						t.Logf("%s %s: ours %q, Zeek %q (known: %s)", dir, f, got, want, why)
						continue
					}
					t.Errorf("%s (%s) %s: ours %q, Zeek %q", dir, rel, f, got, want)
				}
			}
		}
	}
	var names []string
	for f := range agree {
		names = append(names, f)
	}
	for f := range differ {
		if agree[f] == 0 {
			names = append(names, f)
		}
	}
	sort.Strings(names)
	var sum []string
	total := 0
	for _, f := range names {
		sum = append(sum, fmt.Sprintf("%s %d/%d", f, agree[f], agree[f]+differ[f]))
		total += agree[f]
	}
	t.Logf("%d records matched; %d field values agree: %s", matched, total, strings.Join(sum, ", "))
	if matched < 15 {
		t.Errorf("only %d Zeek records matched", matched)
	}
}

// knownField: a field tlsscope writes (when it has a value), so that
// its absence is compared as Zeek's unset "-".
func knownField(x509 bool, f string) bool {
	if x509 {
		switch f {
		case "san.uri", "san.email":
			return false
		}
		return strings.HasPrefix(f, "certificate.") || strings.HasPrefix(f, "san.") || strings.HasPrefix(f, "basic_constraints.") || f == "host_cert" || f == "client_cert"
	}
	switch f {
	case "version", "cipher", "curve", "server_name", "resumed", "last_alert", "next_protocol", "established", "ssl_history", "cert_chain_fps", "client_cert_chain_fps", "sni_matches_cert":
		return true
	}
	return false
}

// sameTime: Zeek's TSV prints times with six decimals, JSON as short
// as the number allows.
func sameTime(got, want string) bool {
	if !strings.Contains(want, ".") {
		return false
	}
	g, err1 := strconv.ParseFloat(got, 64)
	w, err2 := strconv.ParseFloat(want, 64)
	return err1 == nil && err2 == nil && g == w
}
