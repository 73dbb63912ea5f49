package html

import (
	"bytes"
	"slices"
	"testing"

	"github.com/tlsscope/tlsscope/report"
)

// TestRegisteredAsFormat: importing the package adds html, last, to
// report's formats, and report.Write("html") is this package's Write.
func TestRegisteredAsFormat(t *testing.T) {
	names := report.FormatNames()
	if len(names) != 10 || names[len(names)-1] != "html" || !slices.Contains(names, "table") {
		t.Fatalf("formats %v, want report's nine then html", names)
	}
	f, _ := report.LookupFormat("html")
	if f.Extension != "html" || f.Live || f.Incremental {
		t.Errorf("html format %+v", f)
	}
	r := fixture(t)
	var viaReport, direct bytes.Buffer
	if err := report.Write(&viaReport, "html", r, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&direct, r, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if direct.Len() < 1000 || !bytes.Equal(viaReport.Bytes(), direct.Bytes()) {
		t.Errorf("report.Write html: %d bytes, html.Write: %d bytes", viaReport.Len(), direct.Len())
	}
}
