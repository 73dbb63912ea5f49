// Command testsummary runs go test and says what did not run: it passes its
// arguments to `go test -json`, prints what plain `go test` prints (the
// output of failing tests and one ok/FAIL line per package, as they come),
// then how many tests passed, failed and skipped, with the skip reasons
// grouped, and last a line "N passed, N failed" alone. It exits with go
// test's status (1 when a test failed), so `make test` still fails.
//
//	go run ./scripts/testsummary -count=1 ./...
//	go test -json ./... | go run ./scripts/testsummary -
//
// A test skips when what it compares against is missing (the corpus,
// tshark, root): the grouped reasons show what a run left out.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"
)

// event is one line of test2json's output (go doc test2json).
type event struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build-output, build-fail
	FailedBuild string
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-" {
		s := newSummary(os.Stdout)
		if err := s.read(os.Stdin); err != nil {
			fatal(err)
		}
		s.print()
		if s.failed > 0 {
			os.Exit(1)
		}
		return
	}
	cmd := exec.Command("go", append([]string{"test", "-json"}, os.Args[1:]...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fatal(err)
	}
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	s := newSummary(os.Stdout)
	if err := s.read(out); err != nil {
		fatal(err)
	}
	err = cmd.Wait()
	s.print()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.ExitCode())
	case err != nil:
		fatal(err)
	case s.failed > 0:
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
	os.Exit(2)
}

type key struct{ pkg, test string }

type summary struct {
	w                       io.Writer
	output                  map[key][]string // a running test's output lines
	passed, failed, skipped int
	skips                   map[string][]string // reason -> tests
}

func newSummary(w io.Writer) *summary {
	return &summary{w: w, output: map[key][]string{}, skips: map[string][]string{}}
}

func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(s.w, sc.Text()) // not test2json's: pass it on
			continue
		}
		s.event(e)
	}
	return sc.Err()
}

// event does what plain go test would show for e, and counts it.
func (s *summary) event(e event) {
	k := key{e.Package, e.Test}
	switch {
	case e.Action == "build-output":
		fmt.Fprint(s.w, e.Output)
	case e.Test == "" && e.Action == "output":
		// The package's own lines: "ok  pkg 1.2s", "FAIL pkg", "?  pkg
		// [no test files]", a panic outside any test. -json implies -v,
		// whose bare PASS line plain go test does not print.
		if e.Output != "PASS\n" {
			fmt.Fprint(s.w, e.Output)
		}
	case e.Test == "" && e.Action == "fail":
		// A test binary that died (panic, timeout) may leave tests
		// without an end: show what they printed.
		for k, lines := range s.output {
			if k.pkg == e.Package {
				fmt.Fprint(s.w, strings.Join(lines, ""))
				delete(s.output, k)
			}
		}
	case e.Test == "":
	case e.Action == "output":
		s.output[k] = append(s.output[k], e.Output)
	case e.Action == "pass":
		s.passed++
		delete(s.output, k)
	case e.Action == "fail":
		s.failed++
		for _, l := range s.output[k] {
			if !strings.HasPrefix(l, "=== ") {
				fmt.Fprint(s.w, l)
			}
		}
		delete(s.output, k)
	case e.Action == "skip":
		s.skipped++
		r := skipReason(s.output[k])
		s.skips[r] = append(s.skips[r], shortPkg(e.Package)+" "+e.Test)
		delete(s.output, k)
	}
}

// logPrefix is what t.Log puts before a message: indentation and file:line.
var logPrefix = regexp.MustCompile(`^\s+\S+\.go:\d+: `)

// skipReason is the last line the test logged (t.Skip's message, or the
// last line of a multi-line one such as testscript's "> skip ..."),
// without its file:line.
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if strings.HasPrefix(l, "=== ") || strings.HasPrefix(strings.TrimSpace(l), "--- SKIP") || strings.TrimSpace(l) == "" {
			continue
		}
		return strings.TrimSpace(logPrefix.ReplaceAllString(l, ""))
	}
	return "(no reason given)"
}

// module is the import path shortened in the list of skipped tests.
const module = "github.com/tlsscope/tlsscope"

func shortPkg(p string) string {
	if p == module {
		return "."
	}
	return strings.TrimPrefix(p, module+"/")
}

// maxNamed is how many skipped tests each reason names.
const maxNamed = 3

func (s *summary) print() {
	fmt.Fprintf(s.w, "\ntests: %d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
	reasons := make([]string, 0, len(s.skips))
	for r := range s.skips {
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(s.skips[b]), len(s.skips[a])), strings.Compare(a, b))
	})
	if len(reasons) > 0 {
		fmt.Fprintf(s.w, "skipped, by reason:\n")
	}
	for _, r := range reasons {
		tests := s.skips[r]
		slices.Sort(tests)
		named := strings.Join(tests[:min(len(tests), maxNamed)], ", ")
		if len(tests) > maxNamed {
			named += fmt.Sprintf(" and %d more", len(tests)-maxNamed)
		}
		fmt.Fprintf(s.w, "%5d  %s\n       (%s)\n", len(tests), r, named)
	}
	fmt.Fprintf(s.w, "%d passed, %d failed\n", s.passed, s.failed)
}
