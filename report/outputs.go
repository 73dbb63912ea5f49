package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Output is one format and where it goes ("" is standard output).
type Output struct {
	Format string
	Path   string
}

// OutputError is a plan of outputs that cannot work, with a hint.
type OutputError struct{ Msg, Hint string }

func (e *OutputError) Error() string { return e.Msg }

// PlanOutputs implements the command line's output design: --format FMT[=FILE]
// (repeatable); a format without a file goes to -o FILE, or to
// --output-dir, or to standard output, and at most one goes to standard
// output. With no --format: table, or the format -o's extension names.
func PlanOutputs(specs []string, file, dir string) (Plan, error) {
	var outs Plan
	for _, f := range specs {
		for _, one := range strings.Split(f, ",") {
			name, path, _ := strings.Cut(one, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			if _, ok := LookupFormat(name); !ok {
				return nil, outputErrorf("use one of "+strings.Join(FormatNames(), ", "), "--format: unknown format %q", name)
			}
			outs = append(outs, Output{Format: name, Path: path})
		}
	}
	if len(outs) == 0 {
		name := "table"
		if file != "" {
			name = formatForFile(file)
		}
		outs = []Output{{Format: name}}
	}
	var bare []int
	for i, o := range outs {
		if o.Path == "" {
			bare = append(bare, i)
		}
	}
	switch {
	case file != "" && dir != "":
		return nil, outputErrorf("-o names one file; --output-dir holds one file per format", "-o and --output-dir cannot be used together")
	case file != "":
		if len(bare) != 1 {
			return nil, outputErrorf("give each format its own file: --format sarif=out.sarif", "-o %s: %d formats have no file; -o names the file of exactly one", file, len(bare))
		}
		outs[bare[0]].Path = file
	case dir != "":
		for _, i := range bare {
			outs[i].Path = filepath.Join(dir, "tlsscope."+extensionOf(outs[i].Format))
		}
	case len(bare) > 1:
		return nil, outputErrorf("give the others a file (--format sarif=out.sarif) or use --output-dir DIR", "%d formats would go to standard output; at most one can", len(bare))
	}
	for i, o := range outs {
		if o.Path == "-" { // -o - and --format FMT=- mean standard output
			outs[i].Path = ""
		}
	}
	if n := stdoutCount(outs); n > 1 {
		return nil, outputErrorf("give the others a file (--format sarif=out.sarif) or use --output-dir DIR", "%d formats would go to standard output; at most one can", n)
	}
	seen := map[string]bool{}
	for _, o := range outs {
		if o.Path != "" && seen[o.Path] {
			return nil, outputErrorf("", "two formats would write %s", o.Path)
		}
		seen[o.Path] = true
	}
	return outs, nil
}

// formatForFile names the format whose extension ends name, the longest
// when several do (x.ecs.ndjson is ecs, x.ndjson ndjson).
func formatForFile(name string) string {
	best, n := "table", 0
	for _, f := range formats {
		if f.Name != "table" && strings.HasSuffix(name, "."+f.Extension) && len(f.Extension) > n {
			best, n = f.Name, len(f.Extension)
		}
	}
	return best
}

func extensionOf(format string) string {
	f, _ := LookupFormat(format)
	return f.Extension
}

func stdoutCount(outs []Output) int {
	n := 0
	for _, o := range outs {
		if o.Path == "" {
			n++
		}
	}
	return n
}

func outputErrorf(hint, format string, a ...any) *OutputError {
	return &OutputError{Msg: fmt.Sprintf(format, a...), Hint: hint}
}

// Files are the destinations of a plan of Outputs, open for writing:
// each file written beside its name and renamed over it by Commit (see
// CreateFile), standard output as it is. A run that fails calls Abort and
// leaves no file behind.
type Files struct {
	files []*File
	ws    []io.Writer
}

// OpenOutputs opens every output of outs, in order, files with mode perm
// (CreateFile: 0 for a new file's usual mode, Private for secrets);
// standard output is stdout.
func OpenOutputs(outs []Output, stdout io.Writer, perm os.FileMode) (*Files, error) {
	fs := &Files{}
	for _, o := range outs {
		if o.Path == "" {
			fs.ws = append(fs.ws, stdout)
			continue
		}
		f, err := CreateFile(o.Path, perm)
		if err != nil {
			fs.Abort()
			return nil, err
		}
		fs.files = append(fs.files, f)
		fs.ws = append(fs.ws, f)
	}
	return fs, nil
}

// Writer is the i-th output's writer.
func (fs *Files) Writer(i int) io.Writer { return fs.ws[i] }

// All writes to every output at once.
func (fs *Files) All() io.Writer { return io.MultiWriter(fs.ws...) }

// Commit renames every file over its name.
func (fs *Files) Commit() error {
	for i, f := range fs.files {
		if err := f.Commit(); err != nil {
			fs.files = fs.files[i+1:]
			fs.Abort()
			return err
		}
	}
	fs.files = nil
	return nil
}

// Abort removes every file not committed.
func (fs *Files) Abort() {
	for _, f := range fs.files {
		f.Abort()
	}
	fs.files = nil
}

// Plan is a list of Outputs with the questions a run asks of it.
type Plan []Output

// Stdout is the format bound for standard output ("" when none is).
func (p Plan) Stdout() string {
	for _, o := range p {
		if o.Path == "" {
			return o.Format
		}
	}
	return ""
}

// Files are the outputs written to files.
func (p Plan) Files() Plan {
	var kept Plan
	for _, o := range p {
		if o.Path != "" {
			kept = append(kept, o)
		}
	}
	return kept
}

// Incremental reports whether every output can be written a connection
// at a time (Format.Incremental), so nothing of a run need be kept: one
// Stream writes them all, so they must also be of one format.
func (p Plan) Incremental() bool {
	for _, o := range p {
		if f, _ := LookupFormat(o.Format); !f.Incremental || o.Format != p[0].Format {
			return false
		}
	}
	return len(p) > 0
}
