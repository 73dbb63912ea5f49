package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tlsscope/tlsscope/internal/testutil"
	"github.com/tlsscope/tlsscope/report"
)

// TestCompletionAndManFromFlags: tlsscope completion bash|zsh|fish and
// tlsscope man are generated from the flags parseArgs parses, so every
// one of them is offered by each shell and described in the manual; the
// shells themselves accept the scripts and complete flag names and
// values with them, and mandoc finds nothing wrong in the page.
func TestCompletionAndManFromFlags(t *testing.T) {
	dir := t.TempDir()
	out := map[string]string{}
	for _, what := range []string{"bash", "zsh", "fish", "man"} {
		args := []string{"completion", what}
		if what == "man" {
			args = []string{"man"}
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 || stdout == "" {
			t.Fatalf("tlsscope %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		out[what] = stdout
		os.WriteFile(filepath.Join(dir, what), []byte(stdout), 0o644)
	}
	if code, _, stderr := runCLI(t, "completion", "tcsh"); code != exitUsage || !strings.Contains(stderr, "bash, zsh, fish") {
		t.Errorf("completion tcsh: exit %d: %s", code, stderr)
	}

	bashWords := strings.FieldsFunc(out["bash"], func(r rune) bool { return strings.ContainsRune(" \n\"|)", r) })
	n := 0
	newFlagSet(&config{}, &flagValues{}, false).VisitAll(func(f *pflag.Flag) {
		n++
		long := "--" + f.Name
		if !slices.Contains(bashWords, long) || f.Shorthand != "" && !slices.Contains(bashWords, "-"+f.Shorthand) {
			t.Errorf("bash lacks %s", long)
		}
		for what, want := range map[string]string{"zsh": long, "fish": " -l " + f.Name + " ", "man": `\-\-` + strings.ReplaceAll(f.Name, "-", `\-`)} {
			if !strings.Contains(out[what], want) {
				t.Errorf("%s lacks %s", what, want)
			}
		}
	})
	// tlsscope baseline's own help is the manual's BASELINE section.
	if !strings.Contains(out["man"], ".SH BASELINE\n") || !strings.Contains(out["man"], `\-\-force`) {
		t.Errorf("the manual lacks the baseline section and its --force")
	}
	if n < 35 { // 37 flags in 2026-12
		t.Errorf("only %d flags compared", n)
	}

	// The shells run them. bash: complete words as a user's TAB would.
	bashComplete := func(words ...string) []string {
		script := `source "$1"; shift; COMP_WORDS=(tlsscope "$@"); COMP_CWORD=$#; _tlsscope; printf '%s\n' "${COMPREPLY[@]}"`
		b, err := exec.Command("bash", append([]string{"-c", script, "bash", filepath.Join(dir, "bash")}, words...)...).Output()
		if err != nil {
			t.Fatalf("bash completing %q: %v", words, err)
		}
		return strings.Fields(string(b))
	}
	if got := bashComplete("--for"); !slices.Equal(got, []string{"--format"}) {
		t.Errorf("bash: --for completes to %v", got)
	}
	if got := bashComplete("--format", ""); !slices.Equal(got, report.FormatNames()) {
		t.Errorf("bash: --format completes to %v, want %v", got, report.FormatNames())
	}
	if got := bashComplete("--fail-on", "h"); !slices.Equal(got, []string{"high"}) {
		t.Errorf("bash: --fail-on h completes to %v", got)
	}
	if got := bashComplete("base"); !slices.Contains(got, "baseline") {
		t.Errorf("bash: base completes to %v", got)
	}
	if zsh, err := exec.LookPath("zsh"); err == nil {
		if b, err := exec.Command(zsh, "-n", filepath.Join(dir, "zsh")).CombinedOutput(); err != nil {
			t.Errorf("zsh -n: %v: %s", err, b)
		}
	} else {
		testutil.Tool(t, "zsh") // skips, or fails under CI=true
	}
	fish := testutil.Tool(t, "fish")
	b, err := exec.Command(fish, "-c", "source $argv[1]; complete -C'tlsscope --for'; complete -C'tlsscope --fail-on c'", filepath.Join(dir, "fish")).Output()
	if got := string(b); err != nil || !strings.Contains(got, "--format\toutput format") || !strings.Contains(got, "critical\t") {
		t.Errorf("fish completes to %q (%v)", got, err)
	}
	mandoc := testutil.Tool(t, "mandoc")
	b, _ = exec.Command(mandoc, "-Tlint", "-Wwarning", filepath.Join(dir, "man")).CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" && !strings.Contains(l, "missing date") {
			t.Errorf("mandoc: %s", l)
		}
	}
}
