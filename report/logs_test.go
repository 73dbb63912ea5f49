package report_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/internal/testutil"
	"github.com/tlsscope/tlsscope/report"
)

// logCaptures lists every capture of testdata/pcaps and, when it is
// present, the corpus (relative names beginning "corpus/" for those).
func logCaptures(t *testing.T, corpus bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	add := func(root, prefix string) {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			n := d.Name()
			if !d.IsDir() && (strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng") || strings.HasSuffix(n, ".cap")) {
				rel, _ := filepath.Rel(root, p)
				out[prefix+rel] = p
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	add(testutil.Pcaps(t), "")
	if corpus {
		add(testutil.Corpus(t), "corpus/")
	}
	return out
}

// analyse runs tlsscope over one capture (system roots off, so the result
// does not depend on the machine) and renders it in format.
func analyse(t *testing.T, path, format string) (*report.Result, []byte) {
	t.Helper()
	an, err := tlsscope.New(tlsscope.Config{NoSystemRoots: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := an.AnalyzeFiles(context.Background(), path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var b bytes.Buffer
	if err := report.Write(&b, format, r, report.Options{}); err != nil {
		t.Fatalf("%s: writing %s: %v", path, format, err)
	}
	return r, b.Bytes()
}

func readIfPresent(t *testing.T, env, rel string) []byte {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join(testutil.RepoRoot(t), "..", "shared", rel)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (CI=true requires it): %v", p, err)
		}
		t.Skipf("%s not found: %v", p, err)
	}
	return b
}
