package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestExpandInputs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.pcap", "a.pcapng", "sub/c.pcap.gz", "notes.txt", "sub/d.cap"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	j := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(dir, n))
		}
		return out
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		// A directory: the captures below it, sorted, other files ignored.
		{j(""), j("a.pcapng", "b.pcap", "sub/c.pcap.gz", "sub/d.cap")},
		// A glob: its matches, sorted; a file named twice counts once.
		{j("*.pcap*", "b.pcap"), j("a.pcapng", "b.pcap")},
		// A file as named, whatever its extension.
		{j("notes.txt"), j("notes.txt")},
	} {
		got, err := expandInputs(tc.args)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("expandInputs(%q) = %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
	if _, err := expandInputs(j("sub/")); err != nil {
		t.Errorf("sub/: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if _, err := expandInputs([]string{empty}); err == nil {
		t.Error("a directory without captures accepted")
	}
}
