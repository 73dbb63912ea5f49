package main

import (
	"github.com/tlsscope/tlsscope/capture"
)

// expandInputs is capture.Expand, its errors usage errors.
func expandInputs(args []string) ([]string, error) {
	files, err := capture.Expand(args)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return files, nil
}
