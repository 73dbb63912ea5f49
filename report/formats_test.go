package report

import (
	"bytes"
	"testing"
)

// TestFormatsTable: names and extensions are unique; exactly the Live
// formats stream (NewStream accepts them and refuses the rest); an
// Incremental format is one the Stream writes, so it is Live too.
func TestFormatsTable(t *testing.T) {
	names, exts := map[string]bool{}, map[string]bool{}
	live := 0
	for _, f := range Formats() {
		if f.Name == "" || f.Extension == "" || f.Write == nil {
			t.Errorf("%+v: want a name, an extension and a writer", f)
		}
		if names[f.Name] || exts[f.Extension] {
			t.Errorf("%s: name or extension %q used twice", f.Name, f.Extension)
		}
		names[f.Name], exts[f.Extension] = true, true
		_, err := NewStream(&bytes.Buffer{}, f.Name, Options{})
		if (err == nil) != f.Live {
			t.Errorf("%s: Live %v, NewStream error %v", f.Name, f.Live, err)
		}
		if f.Incremental && !f.Live {
			t.Errorf("%s: Incremental but not Live", f.Name)
		}
		if f.Live {
			live++
		}
	}
	// The nine formats report writes itself (html registers from its own
	// package, not imported by this test), four of them streamed (table,
	// ndjson, ecs, zeek).
	if len(names) != 9 || live != 4 {
		t.Errorf("%d formats, %d live; want 9 and 4", len(names), live)
	}
	if _, err := NewStream(&bytes.Buffer{}, "yaml", Options{}); err == nil {
		t.Error("NewStream accepted an unknown format")
	}
}

func TestRegisterFormatRefusesDuplicatesAndStreaming(t *testing.T) {
	for _, f := range []Format{
		{Name: "table", Extension: "txt2", Write: WriteTable},
		{Name: "x-live", Extension: "xl", Write: WriteTable, Live: true},
		{Name: "x-nowriter", Extension: "xn"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterFormat(%s) did not panic", f.Name)
				}
			}()
			RegisterFormat(f)
		}()
	}
	if len(Formats()) != 9 {
		t.Errorf("a refused format was added: %v", FormatNames())
	}
}
