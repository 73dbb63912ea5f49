package main

import (
	"bytes"
	"strings"
	"testing"

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
