package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tlsscope/tlsscope/internal/units"
)

// Rotate says when a RotatingFile starts a new file: once the current one
// holds Size bytes, or has been open Every; zero turns either off.
type Rotate struct {
	Size  int64
	Every time.Duration
}

// On reports whether r rotates at all.
func (r Rotate) On() bool { return r.Size > 0 || r.Every > 0 }

// String, Set and Type make a Rotate a command-line flag value (pflag's
// Value): Set is ParseRotate.
func (r *Rotate) String() string {
	switch {
	case r.Every > 0:
		return r.Every.String()
	case r.Size > 0:
		return strconv.FormatInt(r.Size, 10)
	}
	return ""
}

func (r *Rotate) Set(s string) error {
	v, err := ParseRotate(s)
	if err == nil {
		*r = v
	}
	return err
}

func (r *Rotate) Type() string { return "SIZE|DURATION" }

// CanRotate checks that a plan of outputs can be written by one
// RotatingFile: a single output, a file, of an incremental format (so
// that it is written as the capture goes). A Rotate that is off needs
// nothing.
func (p Plan) CanRotate(r Rotate) error {
	if !r.On() {
		return nil
	}
	if len(p) != 1 || p[0].Path == "" || !mustLookup(p[0].Format).Incremental {
		return errors.New("rotates one file output of format ndjson, ecs or zeek, and nothing else (e.g. --format ecs=/var/log/tlsscope/tlsscope.ecs.ndjson)")
	}
	return nil
}

func mustLookup(name string) Format { f, _ := LookupFormat(name); return f }

// LiveWriter is where live capture prints as it goes: with r off,
// standard output and the format bound for it ("" when none is); with r
// on, a RotatingFile at the plan's one file (CanRotate) and its format.
// The returned function closes what was opened.
func (p Plan) LiveWriter(stdout io.Writer, r Rotate, perm os.FileMode) (io.Writer, string, func() error, error) {
	if !r.On() {
		return stdout, p.Stdout(), func() error { return nil }, nil
	}
	f, err := CreateRotating(p[0].Path, mustLookup(p[0].Format).Extension, r, perm, nil)
	if err != nil {
		return nil, "", nil, err
	}
	return f, p[0].Format, f.Close, nil
}

// ParseRotate reads --rotate: a duration (90s, 10m, 1h, 1d) or a size with
// a byte unit (100MiB, 500k, 1G). "10m" is ten minutes; a size in
// megabytes is 10MiB or 10MB.
func ParseRotate(s string) (Rotate, error) {
	if s != "" && strings.ContainsRune("smhd", rune(s[len(s)-1])) {
		d, err := units.Duration(s)
		if err != nil || d <= 0 {
			return Rotate{}, fmt.Errorf("%q is not a positive duration (e.g. 10m, 1h) nor a size (e.g. 100MiB)", s)
		}
		return Rotate{Every: d}, nil
	}
	n, err := units.Size(s)
	if err != nil || n <= 0 {
		return Rotate{}, fmt.Errorf("%q is not a positive duration (e.g. 10m, 1h) nor a size (e.g. 100MiB)", s)
	}
	return Rotate{Size: n}, nil
}

// RotatingFile is a file output a shipper tails (Filebeat's filestream,
// Vector's file source): written in place at its name, never through a
// temporary file, and rotated at a Write once Rotate says so. The full
// file is renamed to its name with the UTC time it was opened inserted
// before the format's extension (tlsscope.ecs.ndjson becomes
// tlsscope.20261204T024300Z.ecs.ndjson, with -1, -2 ... when that name is
// taken), and a new file is started at the name. Each Write goes whole
// into one file, so a writer that writes whole lines (report.Stream)
// never splits a line across two files. An age-based rotation happens at
// the first Write after the file's time is up. Rotated files are never
// deleted: that is the shipper's or logrotate's business.
type RotatingFile struct {
	path, ext string
	rot       Rotate
	perm      os.FileMode
	now       func() time.Time
	f         *os.File
	n         int64
	opened    time.Time
}

// CreateRotating starts writing path (ext is its format's extension,
// without the dot) with mode perm (0: 0644 less the umask), rotating as rot says; now is the
// clock of age-based rotation (nil: time.Now).
func CreateRotating(path, ext string, rot Rotate, perm os.FileMode, now func() time.Time) (*RotatingFile, error) {
	if now == nil {
		now = time.Now
	}
	if perm == 0 {
		perm = 0o644 // less the umask
	}
	w := &RotatingFile{path: path, ext: ext, rot: rot, perm: perm, now: now}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *RotatingFile) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, w.perm)
	if err != nil {
		return fmt.Errorf("writing %s: %w", w.path, err)
	}
	w.f, w.n, w.opened = f, 0, w.now()
	return nil
}

// Write writes b to the current file, first rotating it when it is full
// or old enough and not empty.
func (w *RotatingFile) Write(b []byte) (int, error) {
	if w.f == nil {
		return 0, fmt.Errorf("writing %s: %w", w.path, os.ErrClosed)
	}
	if w.n > 0 && (w.rot.Size > 0 && w.n+int64(len(b)) > w.rot.Size || w.rot.Every > 0 && w.now().Sub(w.opened) >= w.rot.Every) {
		if err := w.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := w.f.Write(b)
	w.n += int64(n)
	if err != nil {
		err = fmt.Errorf("writing %s: %w", w.path, err)
	}
	return n, err
}

// rotate closes the current file, renames it aside and opens a new one.
func (w *RotatingFile) rotate() error {
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", w.path, err)
	}
	w.f = nil
	stem := strings.TrimSuffix(w.path, "."+w.ext)
	stamp := w.opened.UTC().Format("20060102T150405Z")
	for i := 0; ; i++ {
		name := stem + "." + stamp
		if i > 0 {
			name += "-" + strconv.Itoa(i)
		}
		if w.ext != "" {
			name += "." + w.ext
		}
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			if err := os.Rename(w.path, name); err != nil {
				return fmt.Errorf("rotating %s: %w", w.path, err)
			}
			break
		}
	}
	return w.open()
}

// Close closes the current file, left at its name.
func (w *RotatingFile) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("writing %s: %w", w.path, err)
	}
	return nil
}
