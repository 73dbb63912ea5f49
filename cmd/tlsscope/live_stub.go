package main

import (
	"io"

	"github.com/tlsscope/tlsscope/report"
)

// Live capture: placeholder until capture/live lands.
func (s *session) live(stdout io.Writer) (*report.Result, error) { return nil, errNoLive }

func listInterfaces(w io.Writer) error { return errNoLive }
