package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Format is one output format: the name a user asks for it by, the file
// name extension it is written with, its writer, and how it can be
// written as a run goes on rather than at the end.
type Format struct {
	Name      string
	Extension string // usual file name extension, without the dot
	Write     func(io.Writer, *Result, Options) error
	// Live: a Stream prints it to standard output as connections
	// happen (live capture), then a summary when the capture stops.
	Live bool
	// Incremental: a file can be written a connection at a time as each
	// closes, keeping nothing of it afterwards (Stream's record lines,
	// then the summaries).
	Incremental bool
}

// formats is the one table of output formats, the default on a terminal
// first. Formats whose writer lives in a package that imports report
// (html) add themselves with RegisterFormat.
var formats = []Format{
	{Name: "table", Extension: "txt", Write: writeTableAndSummary, Live: true},
	{Name: "ndjson", Extension: "ndjson", Write: WriteNDJSON, Live: true, Incremental: true},
	{Name: "json", Extension: "json", Write: WriteJSON},
	{Name: "csv", Extension: "csv", Write: WriteCSV},
	{Name: "sarif", Extension: "sarif", Write: WriteSARIF},
	{Name: "junit", Extension: "xml", Write: WriteJUnit},
	{Name: "markdown", Extension: "md", Write: WriteMarkdown},
	{Name: "ecs", Extension: "ecs.ndjson", Write: WriteECS, Live: true, Incremental: true},
	{Name: "zeek", Extension: "zeek.ndjson", Write: WriteZeek, Live: true, Incremental: true},
}

// RegisterFormat adds a format written by another package (report/html
// registers "html" when it is imported), as image.RegisterFormat does.
// Call it from an init function. Only report's Stream writes as a run goes
// on, so a registered format is neither Live nor Incremental; a name
// already taken, a missing writer or either flag panics.
func RegisterFormat(f Format) {
	if _, ok := LookupFormat(f.Name); ok {
		panic("report: format " + f.Name + " registered twice")
	}
	if f.Write == nil || f.Live || f.Incremental {
		panic("report: format " + f.Name + ": a registered format has a writer and is neither Live nor Incremental")
	}
	formats = append(formats, f)
}

// Formats returns every format, in the table's order (the default on a
// terminal first, then the registered ones).
func Formats() []Format { return slices.Clone(formats) }

// FormatNames lists the formats' names in Formats' order.
func FormatNames() []string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.Name
	}
	return names
}

// LookupFormat returns the format called name.
func LookupFormat(name string) (Format, bool) {
	for _, f := range formats {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// liveNames lists the formats a Stream prints, for messages.
func liveNames() string {
	var names []string
	for _, f := range formats {
		if f.Live {
			names = append(names, f.Name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, " or ")
}

// Write renders r in the named format.
func Write(w io.Writer, format string, r *Result, opt Options) error {
	f, ok := LookupFormat(format)
	if !ok {
		return fmt.Errorf("unknown format %q (want one of %v)", format, FormatNames())
	}
	return f.Write(w, r, opt)
}

// writeTableAndSummary is the table format written whole: the tables,
// then each capture's summary (WriteSummaryText).
func writeTableAndSummary(w io.Writer, r *Result, opt Options) error {
	if err := WriteTable(w, r, opt); err != nil {
		return err
	}
	var sum strings.Builder
	if err := WriteSummaryText(&sum, r, opt.Width); err != nil || sum.Len() == 0 {
		return err
	}
	_, err := io.WriteString(w, "\n"+sum.String())
	return err
}
