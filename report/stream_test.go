package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestStreamTableRowsFitWidth: the live table's lines fit the width,
// except a row whose server or SNI is wider than its column (never cut:
// the rest of the row moves right); each finding follows its row. Below
// 72 columns the columns' minimums do not fit.
func TestStreamTableRowsFitWidth(t *testing.T) {
	r := testResult(t)
	for _, width := range []int{72, 80, 120} {
		w := streamWidths(width)
		var long []string // servers and SNIs wider than their column
		for _, c := range r.Captures {
			for _, conn := range c.Connections {
				if s := conn.Server.String(); textWidth(s) > w[1] {
					long = append(long, s)
				}
				if s := conn.SNI(); textWidth(s) > w[2] {
					long = append(long, s)
				}
			}
		}
		var buf bytes.Buffer
		s, err := NewStream(&buf, "table", Options{Width: width})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range r.Captures {
			idx := byConn(c.Findings)
			for _, conn := range c.Connections {
				if err := s.Connection(conn, idx[conn.ID]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := s.Summary(r); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(buf.String(), "Summary") {
			t.Errorf("width %d: no header or summary:\n%s", width, buf.String())
		}
		for _, l := range lines {
			if textWidth(l) > width && !slices.ContainsFunc(long, func(v string) bool { return strings.Contains(l, v) }) {
				t.Errorf("width %d: %d columns: %q", width, textWidth(l), l)
			}
		}
		if !strings.Contains(buf.String(), "\n    high cert-expired: server certificate has expired\n      evidence: notAfter=2026-12-29T02:59:54Z\n") {
			t.Errorf("width %d: a finding's message and evidence not under its row:\n%s", width, buf.String())
		}
	}
}

func TestStreamNDJSONMatchesBatch(t *testing.T) {
	r := testResult(t)
	var buf bytes.Buffer
	s, _ := NewStream(&buf, "ndjson", Options{})
	c := r.Captures[0]
	idx := byConn(c.Findings)
	s.Connection(c.Connections[0], idx[1])
	s.Summary(r)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var types []string
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		types = append(types, m["type"].(string))
	}
	if strings.Join(types, ",") != "connection,finding,summary" {
		t.Errorf("types %v", types)
	}
	if _, err := NewStream(&buf, "sarif", Options{}); err == nil {
		t.Error("sarif accepted as a stream format")
	}
}
