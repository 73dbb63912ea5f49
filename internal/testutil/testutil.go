// Package testutil finds the inputs tests share: the repository's own
// captures, the public corpus in ../shared/corpus, and tshark.
package testutil

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// RepoRoot is the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// Pcaps is testdata/pcaps of the repository.
func Pcaps(t testing.TB) string {
	return filepath.Join(RepoRoot(t), "testdata", "pcaps")
}

// Corpus is ../shared/corpus beside the repository (or $TLSSCOPE_CORPUS).
// The test is skipped when it is absent, except under CI=true, where a
// missing corpus fails the test.
func Corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TLSSCOPE_CORPUS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "INDEX.md")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus not found at %s (CI=true requires it)", dir)
		}
		t.Skipf("corpus not found at %s", dir)
	}
	return dir
}

// Tool returns the path of an external program, skipping the test when it
// is not installed (failing under CI=true, where .ci/run installs it).
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (CI=true requires it; .ci/run installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// Compared counts the comparisons an oracle test makes with its independent
// source (tshark, a corpus expected file, FoxIO's values). See MinCompared.
type Compared struct{ n atomic.Int64 }

// Add counts n more comparisons; safe from parallel subtests.
func (c *Compared) Add(n int) { c.n.Add(int64(n)) }

// N is the number counted so far.
func (c *Compared) N() int { return int(c.n.Load()) }

// MinCompared returns the counter of an oracle test that must compare at
// least min things (what names them: "connections", "JA4 values"). When t
// and its subtests are over, t fails if fewer were counted: a run where
// every input was missing or skipped fails instead of passing having
// compared nothing. Call it after the inputs were found (Corpus, Tool),
// which skip the whole test when they are missing outside CI. The floor
// does not apply to a skipped test, nor when -run selects some subtests
// only.
func MinCompared(t testing.TB, min int, what string) *Compared {
	t.Helper()
	c := &Compared{}
	t.Cleanup(func() {
		if t.Skipped() {
			return
		}
		n := c.N()
		t.Logf("%d %s compared (floor %d)", n, what, min)
		if n < min && !subtestsSelected() {
			t.Errorf("only %d %s compared, want at least %d: inputs missing or skipped (corpus: $TLSSCOPE_CORPUS or ../shared/corpus; tshark installed?)", n, what, min)
		}
	})
	return c
}

// subtestsSelected reports whether -run names subtests (a pattern with a
// slash), so that a test may legitimately compare less than its floor.
func subtestsSelected() bool {
	f := flag.Lookup("test.run")
	return f != nil && strings.Contains(f.Value.String(), "/")
}
