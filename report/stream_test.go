package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStreamTableRowsFitWidth(t *testing.T) {
	r := testResult(t)
	for _, width := range []int{60, 80, 120} {
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
			if utf8.RuneCountInString(l) > width {
				t.Errorf("width %d: %d runes: %q", width, utf8.RuneCountInString(l), l)
			}
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
