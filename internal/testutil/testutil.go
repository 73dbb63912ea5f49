// Package testutil finds the inputs tests share: the repository's own
// captures, the public corpus in ../shared/corpus, and tshark.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
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
