package robust

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// TestCrashers runs every input in testdata/crashers (inputs that once
// crashed, hung or exhausted memory somewhere in the pipeline) through the
// whole pipeline: each must now finish with every format written.
func TestCrashers(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "testdata", "crashers", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if filepath.Base(p) == "README" {
			continue
		}
		t.Run(filepath.Base(p), func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range []*outcome{
				finishes(t, p, func() *outcome { return runFile(p, options{sampleEvery: 1000}) }),
				finishes(t, p, func() *outcome { return runBytes(b, options{}) }),
			} {
				if o.writeErr != nil {
					t.Error(o.writeErr)
				}
				if o.peakInuse > hostileBound {
					t.Errorf("heap in use peaked at %.1f MiB", mib(o.peakInuse))
				}
			}
		})
	}
}
