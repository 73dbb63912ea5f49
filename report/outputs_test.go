package report

import (
	"slices"
	"testing"
)

// TestPlanOutputs: --format FMT[=FILE], -o and --output-dir give each
// format its destination, as --help describes them.
func TestPlanOutputs(t *testing.T) {
	for _, tc := range []struct {
		formats   []string
		file, dir string
		want      []Output
	}{
		{nil, "", "", []Output{{Format: "table"}}},
		{nil, "r.sarif", "", []Output{{Format: "sarif", Path: "r.sarif"}}},
		{nil, "r.unknown", "", []Output{{Format: "table", Path: "r.unknown"}}},
		{[]string{"ndjson", "sarif=r.sarif"}, "", "", []Output{{Format: "ndjson"}, {Format: "sarif", Path: "r.sarif"}}},
		{[]string{"junit"}, "j.xml", "", []Output{{Format: "junit", Path: "j.xml"}}},
		{[]string{"csv,markdown"}, "", "out", []Output{{Format: "csv", Path: "out/tlsscope.csv"}, {Format: "markdown", Path: "out/tlsscope.md"}}},
		{[]string{"sarif"}, "-", "", []Output{{Format: "sarif"}}},
	} {
		got, err := PlanOutputs(tc.formats, tc.file, tc.dir)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q -o %q --output-dir %q: %v, %v; want %v", tc.formats, tc.file, tc.dir, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		formats   []string
		file, dir string
		msg       string
	}{
		{[]string{"yaml"}, "", "", `--format: unknown format "yaml"`},
		{[]string{"csv", "json"}, "", "", "2 formats would go to standard output; at most one can"},
		{[]string{"csv=a", "json=a"}, "", "", "two formats would write a"},
		{nil, "a", "d", "-o and --output-dir cannot be used together"},
	} {
		_, err := PlanOutputs(tc.formats, tc.file, tc.dir)
		oe, ok := err.(*OutputError)
		if !ok || oe.Msg != tc.msg {
			t.Errorf("%q -o %q --output-dir %q: %v, want %q", tc.formats, tc.file, tc.dir, err, tc.msg)
		}
	}
}
