package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// TestVersion: --version prints the library's version; the usage errors,
// --help and the rest of the --version line are scripts
// (testdata/script/usage.txtar, help.txtar).
func TestVersion(t *testing.T) {
	if code, out, _ := runCLI(t, "--version"); code != 0 || !strings.HasPrefix(out, "tlsscope "+tlsscope.Version()+" ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func TestParseDurationAndSize(t *testing.T) {
	if d, err := parseDuration("30d"); err != nil || d != 30*24*time.Hour {
		t.Errorf("30d = %v, %v", d, err)
	}
	if d, err := parseDuration("90m"); err != nil || d != 90*time.Minute {
		t.Errorf("90m = %v, %v", d, err)
	}
	if n, err := parseSize("4MiB"); err != nil || n != 4<<20 {
		t.Errorf("4MiB = %v, %v", n, err)
	}
	if n, err := parseSize("512"); err != nil || n != 512 {
		t.Errorf("512 = %v, %v", n, err)
	}
}
