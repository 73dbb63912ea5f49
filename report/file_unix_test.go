//go:build unix

package report

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFileModes: an output file gets the mode a new file gets under the
// umask, keeps the mode of the file it replaces, and is 0600 at most when
// it holds unmasked secrets.
func TestFileModes(t *testing.T) {
	old := umask
	defer func() { umask = old }()
	dir := t.TempDir()
	write := func(name string, perm os.FileMode) os.FileMode {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := WriteFile(path, []byte("x\n"), perm); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode().Perm()
	}
	umask = 0o077
	if got := write("a.ndjson", 0); got != 0o600 {
		t.Errorf("new file under umask 077: mode %o, want 600", got)
	}
	umask = 0o002
	if got := write("b.ndjson", 0); got != 0o664 {
		t.Errorf("new file under umask 002: mode %o, want 664", got)
	}
	if got := write("c.ndjson", Perm(true)); got != 0o600 {
		t.Errorf("new file with secrets: mode %o, want 600", got)
	}
	if err := os.Chmod(filepath.Join(dir, "a.ndjson"), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := write("a.ndjson", 0); got != 0o640 {
		t.Errorf("replaced 640 file: mode %o, want 640", got)
	}
	if got := write("b.ndjson", Private); got != 0o600 {
		t.Errorf("replaced 664 file with secrets: mode %o, want 600", got)
	}
	// The umask read at start is the process's.
	m := syscall.Umask(0)
	syscall.Umask(m)
	if os.FileMode(m) != old {
		t.Errorf("umask read as %o, the process has %o", old, m)
	}
}
