package main

import (
	"errors"
	"fmt"
	"io"
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
func reportError(w io.Writer, err error) {
	fmt.Fprintf(w, "tlsscope: error: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) && ue.hint != "" {
		fmt.Fprintf(w, "tlsscope: hint: %s\n", ue.hint)
	}
}

func warnf(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "tlsscope: warning: "+format+"\n", a...)
}
