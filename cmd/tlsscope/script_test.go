package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tlsscope/tlsscope/internal/testutil"
)

// statusEnv names the file where the tlsscope command of a script leaves
// its exit status, for the script's status command (testscript itself only
// tells success from failure, and tlsscope's 1 and 2 mean different things).
const statusEnv = "TLSSCOPE_TEST_STATUS"

// TestMain lets the test binary be the tlsscope command of the scripts:
// testscript puts a copy named tlsscope on the scripts' PATH, and that copy
// runs main's run.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tlsscope": func() {
			status := os.Getenv(statusEnv)
			if status != "" {
				os.Remove(status)
			}
			code := run(os.Args[1:], os.Stdout, os.Stderr)
			if status != "" {
				os.WriteFile(status, []byte(strconv.Itoa(code)), 0o644)
			}
			os.Exit(code)
		},
	})
}

// TestScripts runs testdata/script/*.txtar: the CLI as a user meets it,
// every exit code and error message, over the recorded captures in
// $PCAPS (testdata/pcaps, read in place).
func TestScripts(t *testing.T) {
	pcaps := testutil.Pcaps(t)
	if _, err := os.Stat(filepath.Join(pcaps, "manifest.json")); err != nil {
		t.Fatalf("no recorded captures in %s: %v", pcaps, err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("PCAPS", pcaps)
			e.Setenv(statusEnv, filepath.Join(e.WorkDir, ".tlsscope-status"))
			e.Setenv("COLUMNS", "") // tables are 80 wide whatever the terminal
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" { // live capture needs CAP_NET_RAW
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":   cmdStatus,
			"cut":      cmdCut,
			"linktype": cmdLinkType,
			"gzip":     cmdGzip,
			"head":     cmdHead,
			"perm":     cmdPerm,
		},
	})
}

// status N: the last tlsscope command exited with status N.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: status N")
	}
	b, err := os.ReadFile(ts.Getenv(statusEnv))
	if err != nil {
		ts.Fatalf("no exit status recorded (did tlsscope run?): %v", err)
	}
	if got := string(b); got != args[0] {
		ts.Fatalf("tlsscope exited with status %s, want %s", got, args[0])
	}
}

// perm FILE MODE: FILE's permission bits are MODE (octal).
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: perm FILE MODE")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	st, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := st.Mode().Perm(); got != os.FileMode(want) {
		ts.Fatalf("%s has mode %o, want %o", args[0], got, want)
	}
}

// cut SRC N DST: DST holds the first N bytes of SRC (a capture cut short).
func cmdCut(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: cut SRC N DST")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	if n > len(b) {
		ts.Fatalf("%s has only %d bytes", args[0], len(b))
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), b[:n], 0o644))
}

// gzip SRC DST: DST is SRC compressed with gzip (a capture as .pcap.gz).
func cmdGzip(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: gzip SRC DST")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, err = w.Write(b)
	ts.Check(err)
	ts.Check(w.Close())
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), z.Bytes(), 0o644))
}

// head N SRC DST: DST holds the first N lines of SRC (stdout for the
// last command's standard output).
func cmdHead(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: head N SRC DST")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	text := ts.ReadFile(args[1])
	lines := strings.SplitAfter(text, "\n")
	if len(lines) < n {
		ts.Fatalf("%s has only %d lines", args[1], len(lines))
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(strings.Join(lines[:n], "")), 0o644))
}

// linktype SRC LT DST: DST is the pcap SRC with link type LT in its file
// header (a real capture claiming a link type tlsscope does not decode).
func cmdLinkType(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: linktype SRC LT DST")
	}
	lt, err := strconv.ParseUint(args[1], 10, 32)
	ts.Check(err)
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	if err := setLinkType(b, uint32(lt)); err != nil {
		ts.Fatalf("%s: %v", args[0], err)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), b, 0o644))
}

// setLinkType rewrites the network field of a pcap file header (the
// 32-bit word at offset 20, in the byte order the magic number gives).
func setLinkType(b []byte, lt uint32) error {
	if len(b) < 24 {
		return fmt.Errorf("shorter than a pcap file header")
	}
	switch magic := binary.LittleEndian.Uint32(b); magic {
	case 0xa1b2c3d4, 0xa1b23c4d:
		binary.LittleEndian.PutUint32(b[20:], lt)
	case 0xd4c3b2a1, 0x4d3cb2a1:
		binary.BigEndian.PutUint32(b[20:], lt)
	default:
		return fmt.Errorf("not a pcap file (magic %#x)", magic)
	}
	return nil
}
