package main

import (
	"bytes"
	"errors"
	"testing"
)

// TestErrorsKeepEscapesOffTheTerminal: a file name or policy key quoted in
// an error or a warning cannot send an escape sequence to the terminal.
func TestErrorsKeepEscapesOffTheTerminal(t *testing.T) {
	var b bytes.Buffer
	reportError(&b, usagef("reading %s: no such file", "a\x1b[2Jb.pcap").withHint("try \x1b]0;x\a"))
	reportError(&b, errors.New("plain \u202egnp.exe"))
	warnf(&b, "%s", "w\x1b[31m")
	want := "tlsscope: error: reading a?[2Jb.pcap: no such file\n" +
		"tlsscope: hint: try ?]0;x?\n" +
		"tlsscope: error: plain [U+202E]gnp.exe\n" +
		"tlsscope: warning: w?[31m\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}
