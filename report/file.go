package report

import (
	"github.com/tlsscope/tlsscope/internal/pathcause"

	"fmt"
	"os"
	"path/filepath"
)

// File is an output being written: a temporary file beside the named
// one, renamed over it by Commit, so a reader never sees half a report
// and a failed run leaves none; or a device or pipe written in place.
type File struct {
	name string
	f    *os.File
	tmp  bool
	perm os.FileMode
}

// Private is the mode of an output that holds unmasked secrets
// (--show-secrets): readable by its owner only, whatever the umask.
const Private os.FileMode = 0o600

// CreateFile starts writing the output file name (its directory is
// made if need be) with mode perm, or when perm is 0 with the mode a new
// file gets (0666 less the umask); a file it replaces keeps its mode, as
// with a shell's redirection (with Private, no more than 0600 of it). Its
// errors say "writing NAME: ...".
func CreateFile(name string, perm os.FileMode) (*File, error) {
	st, err := os.Stat(name)
	switch {
	case err == nil && st.Mode().IsRegular() && perm == 0:
		perm = st.Mode().Perm()
	case err == nil && st.Mode().IsRegular():
		perm &= st.Mode().Perm()
	case perm == 0:
		perm = 0o666 &^ umask
	}
	// A device or a pipe (-o /dev/stdout, a FIFO) is written in place.
	if err == nil && !st.Mode().IsRegular() {
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("writing %s: %v", name, pathcause.Of(err))
		}
		return &File{name: name, f: f}, nil
	}
	if dir := filepath.Dir(name); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("writing %s: %v", name, pathcause.Of(err))
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return nil, fmt.Errorf("writing %s: %v", name, pathcause.Of(err))
	}
	return &File{name: name, f: tmp, tmp: true, perm: perm}, nil
}

// Commit closes the output and, for a temporary file, renames it over the
// named one.
func (o *File) Commit() error {
	f := o.f
	o.f = nil
	if err := f.Close(); err != nil {
		if o.tmp {
			os.Remove(f.Name())
		}
		return fmt.Errorf("writing %s: %v", o.name, err)
	}
	if !o.tmp {
		return nil
	}
	defer os.Remove(f.Name()) // gone once renamed
	if err := os.Chmod(f.Name(), o.perm); err != nil {
		return fmt.Errorf("writing %s: %v", o.name, err)
	}
	if err := os.Rename(f.Name(), o.name); err != nil {
		return fmt.Errorf("writing %s: %v", o.name, pathcause.Of(err))
	}
	return nil
}

// Abort closes an output not committed and removes its temporary file.
func (o *File) Abort() {
	if o.f == nil {
		return
	}
	o.f.Close()
	if o.tmp {
		os.Remove(o.f.Name())
	}
	o.f = nil
}

// Write writes to the file.
func (o *File) Write(b []byte) (int, error) { return o.f.Write(b) }

// WriteFile writes b as the output file name, whole or not at all
// (CreateFile, then Commit). Its errors say "writing NAME: ...".
func WriteFile(name string, b []byte, perm os.FileMode) error {
	o, err := CreateFile(name, perm)
	if err != nil {
		return err
	}
	defer o.Abort()
	if _, err := o.Write(b); err != nil {
		return fmt.Errorf("writing %s: %v", name, err)
	}
	return o.Commit()
}

// Perm is the mode for a run's output files: Private when they may hold
// unmasked secrets, else a new file's usual mode (0).
func Perm(showSecrets bool) os.FileMode {
	if showSecrets {
		return Private
	}
	return 0
}
