package rules

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// readmeFindings reads README.md's finding table (the one headed
// "| id | default severity | when |"): each row's ids (in backquotes in
// the first cell) with the row's default severity (the second cell).
func readmeFindings(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(testutil.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idRE := regexp.MustCompile("`([a-z0-9-]+)`")
	out := map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "| id | default severity | when |" {
			in = true
			continue
		}
		if !in || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Fatalf("README finding table: row %q has %d cells, want 3", line, len(cells))
		}
		ids := idRE.FindAllStringSubmatch(cells[0], -1)
		if len(ids) == 0 {
			t.Errorf("README finding table: row %q names no id", line)
		}
		for _, m := range ids {
			if _, dup := out[m[1]]; dup {
				t.Errorf("README finding table lists %s twice", m[1])
			}
			out[m[1]] = strings.TrimSpace(cells[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestREADMEFindingTable: the README's finding table lists every id of the
// one table of definitions, with its default severity, and nothing else,
// so the two cannot drift apart again (it once listed cert-self-signed as
// high; the definition says medium).
func TestREADMEFindingTable(t *testing.T) {
	readme := readmeFindings(t)
	defs := Definitions()
	// 26 rule ids and 5 policy ids when this test was written.
	if len(defs) < 31 || len(readme) < 20 {
		t.Fatalf("%d definitions, %d README ids: the table or its parsing is broken", len(defs), len(readme))
	}
	n := 0
	for _, d := range defs {
		sev, ok := readme[d.ID]
		if !ok {
			t.Errorf("%s (%s) is missing from README.md's finding table", d.ID, d.Severity)
			continue
		}
		n++
		if _, valid := facts.ParseSeverity(sev); !valid {
			t.Errorf("README: %s: default severity %q is not one severity name (put variations in the last column)", d.ID, sev)
		} else if sev != d.Severity.String() {
			t.Errorf("README: %s has default severity %s, the definition says %s", d.ID, sev, d.Severity)
		}
	}
	for id := range readme {
		if _, ok := Lookup(id); !ok {
			t.Errorf("README lists %s, which no definition has", id)
		}
	}
	if n != len(defs) {
		t.Errorf("compared %d of %d definitions", n, len(defs))
	}
}
