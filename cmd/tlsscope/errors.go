package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/tlsscope/tlsscope/report"
)

// Exit codes, documented in --help.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
)

// usageError is a problem with the command line or an input the user
// named: exit 2, with an optional hint line.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) *usageError {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

func (e *usageError) withHint(format string, a ...any) *usageError {
	e.hint = fmt.Sprintf(format, a...)
	return e
}

// report prints an error in the house style (after age): a "tlsscope:"
// prefix, lowercase, no final period, then a hint line where one helps.
// Messages quote file names, policy keys and traffic: report.Printable
// keeps their escape sequences off the terminal.
func reportError(w io.Writer, err error) {
	fmt.Fprintf(w, "tlsscope: error: %s\n", report.Printable(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) && ue.hint != "" {
		fmt.Fprintf(w, "tlsscope: hint: %s\n", report.Printable(ue.hint))
	}
}

func warnf(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "tlsscope: warning: %s\n", report.Printable(fmt.Sprintf(format, a...)))
}
