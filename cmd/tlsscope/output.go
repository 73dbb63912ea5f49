package main

import (
	"os"
	"path/filepath"
)

// outFile is an output being written: a temporary file beside the named
// one, renamed over it by commit, or a device or pipe written in place.
type outFile struct {
	name string
	f    *os.File
	tmp  bool
}

func createOutput(name string) (*outFile, error) {
	// A device or a pipe (-o /dev/stdout, a FIFO) is written in place.
	if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() {
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return nil, usagef("writing %s: %v", name, unwrapPathError(err))
		}
		return &outFile{name: name, f: f}, nil
	}
	if dir := filepath.Dir(name); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, usagef("writing %s: %v", name, unwrapPathError(err))
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return nil, usagef("writing %s: %v", name, unwrapPathError(err))
	}
	return &outFile{name: name, f: tmp, tmp: true}, nil
}

// commit closes the output and, for a temporary file, renames it over the
// named one.
func (o *outFile) commit() error {
	f := o.f
	o.f = nil
	if err := f.Close(); err != nil {
		if o.tmp {
			os.Remove(f.Name())
		}
		return usagef("writing %s: %v", o.name, err)
	}
	if !o.tmp {
		return nil
	}
	defer os.Remove(f.Name()) // gone once renamed
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return usagef("writing %s: %v", o.name, err)
	}
	if err := os.Rename(f.Name(), o.name); err != nil {
		return usagef("writing %s: %v", o.name, unwrapPathError(err))
	}
	return nil
}

// abort closes an output not committed and removes its temporary file.
func (o *outFile) abort() {
	if o.f == nil {
		return
	}
	o.f.Close()
	if o.tmp {
		os.Remove(o.f.Name())
	}
	o.f = nil
}
