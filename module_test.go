package tlsscope_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// outsideProgram is a Go program in a module of its own that imports
// tlsscope as any user would, analyses the captures named on its command
// line with New and AnalyzeFile, and prints each connection and finding
// as a line of JSON.
const outsideProgram = `package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/tlsscope/tlsscope"
)

func main() {
	a, err := tlsscope.New(tlsscope.Config{CAFiles: []string{os.Args[1]}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	for _, path := range os.Args[2:] {
		res, err := a.AnalyzeFile(context.Background(), path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for _, c := range res.Captures[0].Connections {
			rec := map[string]any{"type": "connection", "capture": path, "id": c.ID,
				"client": c.Client.String(), "server": c.Server.String(), "sni": c.SNI(),
				"ja4": c.Fingerprints.JA4, "ja3": c.Fingerprints.JA3}
			enc.Encode(rec)
		}
		for _, f := range res.Captures[0].Findings {
			enc.Encode(map[string]any{"type": "finding", "capture": path, "connection": f.ConnID, "id": f.ID, "severity": f.Severity.String()})
		}
	}
}
`

// TestOutsideModule builds a program outside this module (a go.mod of its
// own with a replace directive pointing here) and checks that it gets the
// same connections and findings from New and AnalyzeFile as
// tlsscope --format ndjson prints for the same captures.
func TestOutsideModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs")
	}
	root := testutil.RepoRoot(t)
	dir := t.TempDir()
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	// The outside module needs what tlsscope needs, at the same versions.
	reqs := string(mod[bytes.Index(mod, []byte("require")):])
	gomod := "module example.com/outside\n\ngo 1.26\n\n" + reqs +
		"\nrequire github.com/tlsscope/tlsscope v0.0.0\n\nreplace github.com/tlsscope/tlsscope => " + root + "\n"
	sum, _ := os.ReadFile(filepath.Join(root, "go.sum"))
	for name, body := range map[string]string{"go.mod": gomod, "go.sum": string(sum), "main.go": outsideProgram} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := func(dir, out, pkg string) {
		cmd := exec.Command(gobin, "build", "-mod=mod", "-o", out, pkg)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	outside, cli := filepath.Join(dir, "outside"), filepath.Join(dir, "tlsscope")
	build(dir, outside, ".")
	build(root, cli, "./cmd/tlsscope")

	ca := filepath.Join(root, "testdata/pcaps/ca.pem")
	caps, _ := filepath.Glob(filepath.Join(root, "testdata/pcaps/*.pcap"))
	if len(caps) < 50 {
		t.Fatalf("%d captures in testdata/pcaps, want at least 50", len(caps))
	}
	got := lines(t, exec.Command(outside, append([]string{ca}, caps...)...))
	want := lines(t, exec.Command(cli, append([]string{"--ca-file", ca, "--format", "ndjson", "-q"}, caps...)...))
	if len(got) < 100 {
		t.Fatalf("the outside program printed %d records, want at least 100", len(got))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("outside program and tlsscope --format ndjson differ:\n got %d records\nwant %d records\nfirst got:  %.300s\nfirst want: %.300s", len(got), len(want), first(got, want), first(want, got))
	}
}

// lines runs cmd and returns its connection and finding records reduced
// to the fields the outside program prints, as sorted JSON lines.
func lines(t *testing.T, cmd *exec.Cmd) []string {
	t.Helper()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", cmd.Path, err)
	}
	var recs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: bad line %q: %v", cmd.Path, sc.Text(), err)
		}
		var keep []string
		switch m["type"] {
		case "connection":
			keep = []string{"type", "capture", "id", "client", "server", "sni", "ja4", "ja3"}
		case "finding":
			keep = []string{"type", "capture", "connection", "id", "severity"}
		default:
			continue
		}
		r := map[string]any{}
		for _, k := range keep {
			v, ok := m[k]
			if !ok {
				t.Fatalf("%s: a %s record without %q: %s", cmd.Path, m["type"], k, sc.Text())
			}
			r[k] = v
		}
		b, _ := json.Marshal(r)
		recs = append(recs, string(b))
	}
	sort.Strings(recs)
	return recs
}

// first is the first of a not in b.
func first(a, b []string) string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	for _, s := range a {
		if !in[s] {
			return s
		}
	}
	return fmt.Sprint("(none of ", len(a), ")")
}
