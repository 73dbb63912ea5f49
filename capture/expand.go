package capture

import (
	"github.com/tlsscope/tlsscope/internal/pathcause"

	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// captureExts are the file names a directory contributes.
var captureExts = []string{".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".cap.gz"}

func isCaptureName(name string) bool {
	name = strings.ToLower(name)
	for _, e := range captureExts {
		if strings.HasSuffix(name, e) {
			return true
		}
	}
	return false
}

// Expand turns command-line arguments into capture files (and "-",
// standard input): a file as named, a
// glob into its matches, a directory into the captures below it; each group
// sorted, duplicates dropped. A missing file is an error before any work.
func Expand(args []string) ([]string, error) {
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, a := range args {
		if a == "-" { // standard input, read by OpenFile
			add(a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && strings.ContainsAny(a, "*?[") {
				matches, gerr := filepath.Glob(a)
				if gerr != nil {
					return nil, fmt.Errorf("bad pattern %q", a)
				}
				if len(matches) == 0 {
					return nil, fmt.Errorf("no files match %s", a)
				}
				slices.Sort(matches)
				for _, m := range matches {
					sub, err := Expand([]string{m})
					if err != nil {
						return nil, err
					}
					for _, s := range sub {
						add(s)
					}
				}
				continue
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("reading %s: no such file", a)
			}
			return nil, fmt.Errorf("reading %s: %v", a, pathcause.Of(err))
		}
		if !st.IsDir() {
			add(a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && isCaptureName(d.Name()) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading %s: %v", a, pathcause.Of(err))
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no captures (%s)", a, strings.Join(captureExts, " "))
		}
		slices.Sort(found)
		for _, f := range found {
			add(f)
		}
	}
	return out, nil
}
