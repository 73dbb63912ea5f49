package report

import (
	"fmt"
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
func PlanOutputs(specs []string, file, dir string) ([]Output, error) {
	var outs []Output
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

func formatForFile(name string) string {
	ext := strings.TrimPrefix(filepath.Ext(name), ".")
	for _, f := range formats {
		if f.Extension == ext && f.Name != "table" {
			return f.Name
		}
	}
	return "table"
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
