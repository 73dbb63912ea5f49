// Package units reads the durations and sizes of command-line flags
// (--expiry-warn 30d, --max-buffer 4MiB).
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration reads a Go duration (72h) or whole days (30d).
func Duration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > int(time.Duration(1<<63-1)/(24*time.Hour)) {
			return 0, fmt.Errorf("%q is not a duration (e.g. 30d, 72h)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (e.g. 30d, 72h)", s)
	}
	return d, nil
}

// Size reads a byte count with an optional unit (k, KiB, M, MiB, G).
func Size(s string) (int64, error) {
	num := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(s[len(num):]))
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (e.g. 4MiB)", s)
	}
	mult := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}
	m, ok := mult[unit]
	if !ok {
		return 0, fmt.Errorf("%q is not a size (e.g. 4MiB)", s)
	}
	return n * m, nil
}

// DurationFlag is a command-line flag (pflag.Value) holding a Duration
// written as Duration reads it.
type DurationFlag struct{ P *time.Duration }

func (f DurationFlag) Set(s string) error {
	d, err := Duration(s)
	if err == nil {
		*f.P = d
	}
	return err
}

func (f DurationFlag) String() string {
	if f.P == nil {
		return ""
	}
	return f.P.String()
}

func (f DurationFlag) Type() string { return "duration" }

// SizeFlag is a command-line flag (pflag.Value) holding a byte count
// written as Size reads it, as an int.
type SizeFlag struct{ P *int }

func (f SizeFlag) Set(s string) error {
	n, err := Size(s)
	if err == nil && n > math.MaxInt {
		err = fmt.Errorf("%s is too large", s)
	}
	if err == nil {
		*f.P = int(n)
	}
	return err
}

func (f SizeFlag) String() string {
	if f.P == nil {
		return ""
	}
	return strconv.Itoa(*f.P)
}

func (f SizeFlag) Type() string { return "size" }
