package clidoc

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.StringArrayP("read", "r", nil, "")
	fs.String("ladder", "", "")
	fs.Lookup("ladder").NoOptDefVal = "*"
	fs.BoolP("numeric", "n", false, "")
	fs.BoolP("verbose", "v", false, "")
	fs.String("format", "", "")
	return fs
}

const help = `x: does things

Usage:
  x [flags] FILE...

Inputs:
  -r, --read FILE         capture to read (repeatable); FILE... works
                          too
      --ladder[=QUERY]    draw ladders
  -n, -v                  accepted for tcpdump habits
      --format FMT[=FILE] output format

Examples:
  x -r a.pcap
      --format json
`

// TestHelpEntriesBecomeFlags: each entry of the help is matched to the
// parser's flag, with its placeholder, optional value, repetition and
// the description joined from its lines.
func TestHelpEntriesBecomeFlags(t *testing.T) {
	c, err := New("x", help, flagSet(), []string{"sub"}, map[string][]string{"FMT": {"json", "table"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Flag{}
	for _, f := range c.Flags() {
		got[f.Long] = f
	}
	want := map[string]Flag{
		"read":    {Long: "read", Short: "r", Arg: "FILE", Repeatable: true, Help: "capture to read (repeatable); FILE... works too"},
		"ladder":  {Long: "ladder", Arg: "QUERY", OptionalArg: true, Help: "draw ladders"},
		"numeric": {Long: "numeric", Short: "n", Help: "accepted for tcpdump habits"},
		"verbose": {Long: "verbose", Short: "v", Help: "accepted for tcpdump habits"},
		"format":  {Long: "format", Arg: "FMT[=FILE]", Help: "output format"},
	}
	if len(got) != len(want) {
		t.Errorf("%d flags, want %d: %+v", len(got), len(want), got)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %+v, want %+v", k, got[k], w)
		}
	}
	if c.Summary != "does things" || len(c.Sections) != 3 || c.Sections[2].Lines[1] != "      --format json" {
		t.Errorf("summary %q, sections %+v", c.Summary, c.Sections)
	}
}

// TestHelpAndFlagsMustAgree: an undocumented flag, an entry naming no
// flag and a value the parser does not take are refused.
func TestHelpAndFlagsMustAgree(t *testing.T) {
	fs := flagSet()
	fs.Bool("secret", false, "")
	if _, err := New("x", help, fs, nil, nil); err == nil || !strings.Contains(err.Error(), "--secret") {
		t.Errorf("undocumented flag: %v", err)
	}
	for _, bad := range []string{
		"  -r, --reed FILE         x\n",
		"      --ladder            x\n", // takes a value
		"  -n, --numeric N         x\n", // a switch
	} {
		if _, err := New("x", "x: y\n\nInputs:\n"+bad, flagSet(), nil, nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRoffEscapes(t *testing.T) {
	for in, want := range map[string]string{`.TH x`: `\&.TH x`, `a\b`: `a\eb`, "--x": `\-\-x`, "'q": `\&'q`} {
		if got := roff(in); got != want {
			t.Errorf("roff(%q) = %q, want %q", in, got, want)
		}
	}
}
