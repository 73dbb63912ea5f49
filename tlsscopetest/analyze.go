package tlsscopetest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope"
	"github.com/tlsscope/tlsscope/capture"
	"github.com/tlsscope/tlsscope/decode/facts"
)

// DirEnv names the environment variable that, when set, makes every
// Recorder a test analysed (Analyze, NoFindings, HasFinding) write its
// recording into a new directory under it when the test ends, for
// tlsscope -r or Wireshark later (a CI job's artifacts).
const DirEnv = "TLSSCOPETEST_DIR"

// Result runs what is recorded so far through tlsscope's pipeline
// (tlsscope.New with r.Config and the Trust'ed roots, then Run over the
// pcapng WritePcapng writes, read back by capture.NewReader), so the
// analysis is of the very file WriteFiles writes. The Result has one
// Capture, its connections by id and findings most severe first. When
// MaxBytes cut the recording, the Result is of what was kept and the error
// is a *TruncatedError.
func (r *Recorder) Result() (*tlsscope.Result, error) {
	cfg := r.Config
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	r.mu.Lock()
	trusted := slices.Clone(r.trusted)
	lost := r.lost
	r.mu.Unlock()
	if len(trusted) > 0 {
		// tlsscope.Config takes CA files, not certificates: the roots go
		// into a file that lives until New has read it.
		dir, err := os.MkdirTemp("", "tlsscopetest-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		ca := filepath.Join(dir, RootsFile)
		if err := os.WriteFile(ca, rootsPEM(trusted), 0o600); err != nil {
			return nil, err
		}
		cfg.CAFiles = append(slices.Clone(cfg.CAFiles), ca)
	}
	a, err := tlsscope.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("tlsscopetest: Recorder.Config: %w", err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(r.WritePcapng(pw)) }()
	defer pr.Close() // stops the writer if reading ended early
	f, err := capture.NewReader(pr, "tlsscopetest")
	if err != nil {
		return nil, fmt.Errorf("tlsscopetest: reading the recording: %w", err)
	}
	defer f.Close()
	var k tlsscope.Collector
	c, err := a.Run(context.Background(), f, &k)
	if err != nil {
		return nil, fmt.Errorf("tlsscopetest: analysing the recording: %w", err)
	}
	k.Fill(c)
	res := a.NewResult()
	res.Captures = []*tlsscope.Capture{c}
	if lost.Bytes > 0 || lost.Connections > 0 {
		lost.Max = r.max()
		return res, &lost
	}
	return res, nil
}

// rootsPEM is certs as a PEM bundle.
func rootsPEM(certs []*x509.Certificate) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return b
}

// Analyze is Result for a test: an error that leaves nothing to judge
// ends the test (t.Fatal), a truncated recording fails it (t.Error) and
// the Capture of what was kept is returned. The first call with a t
// registers, for when t ends, the writing of the recording under
// $TLSSCOPETEST_DIR (DirEnv) when that is set.
func (r *Recorder) Analyze(t testing.TB) *tlsscope.Capture {
	t.Helper()
	r.keepAtEnd(t)
	res, err := r.Result()
	var te *TruncatedError
	switch {
	case errors.As(err, &te):
		t.Error(err)
	case err != nil:
		t.Fatal(err)
		return &tlsscope.Capture{} // for a t whose Fatal returns
	}
	return res.Captures[0]
}

// keepAtEnd registers, once per test, the writing of the recording under
// DirEnv when the test ends.
func (r *Recorder) keepAtEnd(t testing.TB) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cleanup[t] {
		return
	}
	if r.cleanup == nil {
		r.cleanup = map[any]bool{}
	}
	r.cleanup[t] = true
	t.Cleanup(func() {
		root := os.Getenv(DirEnv)
		if root == "" {
			if t.Failed() {
				t.Logf("tlsscopetest: set %s=dir to keep this test's recording (traffic.pcapng, keys.log) for tlsscope -r", DirEnv)
			}
			return
		}
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Errorf("tlsscopetest: %s: %v", DirEnv, err)
			return
		}
		name := strings.Map(func(c rune) rune {
			if c == '/' || c == '\\' || c == ' ' || c == ':' {
				return '_'
			}
			return c
		}, t.Name())
		dir, err := os.MkdirTemp(root, name+"-")
		if err == nil {
			err = r.WriteFiles(dir)
		}
		if err != nil {
			t.Errorf("tlsscopetest: keeping the recording: %v", err)
			return
		}
		cmd := "tlsscope "
		if _, err := os.Stat(filepath.Join(dir, RootsFile)); err == nil {
			cmd += "--ca-file " + filepath.Join(dir, RootsFile) + " "
		}
		t.Logf("tlsscopetest: recording kept: %s%s", cmd, filepath.Join(dir, PcapngFile))
	})
}

// Option narrows which findings an assertion looks at.
type Option func(*selection)

type selection struct {
	min    facts.Severity
	except []string
	sni    string
	err    error
}

// AtLeast keeps findings of that severity or above ("info", "low",
// "medium", "high", "critical"); an unknown name fails the test.
func AtLeast(severity string) Option {
	return func(s *selection) {
		sev, ok := facts.ParseSeverity(severity)
		if !ok {
			s.err = fmt.Errorf("tlsscopetest.AtLeast(%q): not a severity (info, low, medium, high, critical)", severity)
			return
		}
		s.min = sev
	}
}

// Except leaves out findings with these ids (a known, accepted finding:
// missing-sni on a test that dials an IP address, say).
func Except(ids ...string) Option {
	return func(s *selection) { s.except = append(s.except, ids...) }
}

// SNI keeps the findings of connections whose SNI is name.
func SNI(name string) Option { return func(s *selection) { s.sni = name } }

func (s *selection) keep(f facts.Finding) bool {
	return f.Severity >= s.min && !slices.Contains(s.except, f.ID) && (s.sni == "" || f.SNI == s.sni)
}

// findings analyses rec and returns the findings opts keep and the
// capture, or fails t.
func findings(t testing.TB, rec *Recorder, opts []Option) ([]facts.Finding, *tlsscope.Capture, bool) {
	t.Helper()
	var sel selection
	for _, o := range opts {
		o(&sel)
	}
	if sel.err != nil {
		t.Fatal(sel.err)
		return nil, nil, false
	}
	c := rec.Analyze(t)
	var kept []facts.Finding
	for _, f := range c.Findings {
		if sel.keep(f) {
			kept = append(kept, f)
		}
	}
	return kept, c, true
}

// NoFindings fails t (t.Errorf, listing them) when the recording has
// findings that opts keep (all of them, without opts), and reports
// whether it had none. A recording without connections fails it too:
// nothing was checked.
func NoFindings(t testing.TB, rec *Recorder, opts ...Option) bool {
	t.Helper()
	kept, c, ok := findings(t, rec, opts)
	if !ok {
		return false
	}
	if len(c.Connections) == 0 {
		t.Errorf("tlsscopetest: no connections recorded, so nothing was checked (wrap the server's Listener or the client's DialContext)")
		return false
	}
	if len(kept) > 0 {
		t.Errorf("tlsscopetest: %d findings in %d connections:\n%s", len(kept), len(c.Connections), describe(kept))
		return false
	}
	return true
}

// HasFinding fails t (t.Errorf, listing what there was) unless the
// recording has a finding with this id that opts keep, and reports
// whether it had.
func HasFinding(t testing.TB, rec *Recorder, id string, opts ...Option) bool {
	t.Helper()
	kept, c, ok := findings(t, rec, opts)
	if !ok {
		return false
	}
	for _, f := range kept {
		if f.ID == id {
			return true
		}
	}
	all := "none"
	if len(c.Findings) > 0 {
		all = "\n" + describe(c.Findings)
	}
	t.Errorf("tlsscopetest: no %s finding in %d connections; the findings were: %s", id, len(c.Connections), all)
	return false
}

// describe lists findings one a line, as the table format does.
func describe(fs []facts.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		where := f.Server.String()
		if f.SNI != "" {
			where = f.SNI + " (" + where + ")"
		}
		fmt.Fprintf(&b, "\t%-8s %s %s: %s", f.Severity, f.ID, where, f.Message)
		if f.Evidence != "" {
			fmt.Fprintf(&b, " [%s]", f.Evidence)
		}
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}
