package report

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseRotate(t *testing.T) {
	for s, want := range map[string]Rotate{
		"10m": {Every: 10 * time.Minute}, "1h": {Every: time.Hour}, "90s": {Every: 90 * time.Second}, "1d": {Every: 24 * time.Hour},
		"100MiB": {Size: 100 << 20}, "500k": {Size: 500 << 10}, "1G": {Size: 1 << 30}, "4096": {Size: 4096},
	} {
		got, err := ParseRotate(s)
		if err != nil || got != want {
			t.Errorf("ParseRotate(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "0s", "-1h", "abc", "10x", "m"} {
		if _, err := ParseRotate(s); err == nil {
			t.Errorf("ParseRotate(%q) accepted", s)
		}
	}
}

// TestRotatingFileBySizeAndAge: lines written one Write each land whole in
// files of at most Size bytes (a line longer than Size gets a file of its
// own), rotated files are named by the time they were opened, the current
// one stays at its name, and no line is lost or repeated.
func TestRotatingFileBySizeAndAge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tlsscope.ecs.ndjson")
	clock := time.Date(2026, 12, 4, 2, 43, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	w, err := CreateRotating(path, "ecs.ndjson", Rotate{Size: 100}, 0o644, now)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 40 {
		line := strings.Repeat("x", i%7*10) + "\n"
		if i == 20 {
			line = strings.Repeat("y", 150) + "\n"
		}
		want = append(want, line)
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) < 10 {
		t.Fatalf("%d files: %v", len(files), files)
	}
	named := regexp.MustCompile(`^tlsscope\.20261204T024300Z(-[0-9]+)?\.ecs\.ndjson$`)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if len(b) > 100 && strings.Count(string(b), "\n") > 1 {
			t.Errorf("%s: %d bytes in %d lines", f, len(b), strings.Count(string(b), "\n"))
		}
		if f != path && !named.MatchString(filepath.Base(f)) {
			t.Errorf("rotated file %s", filepath.Base(f))
		}
	}
	// Read back in rotation order: the suffix-less one, then -1, -2 ...,
	// then the current file.
	order := []string{filepath.Join(dir, "tlsscope.20261204T024300Z.ecs.ndjson")}
	for i := 1; i < len(files)-1; i++ {
		order = append(order, filepath.Join(dir, "tlsscope.20261204T024300Z-"+strconv.Itoa(i)+".ecs.ndjson"))
	}
	var got []string
	for _, f := range append(order, path) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.SplitAfter(string(b), "\n")...)
	}
	got = slices.DeleteFunc(got, func(s string) bool { return s == "" })
	if !slices.Equal(got, want) {
		t.Errorf("lines read back differ: %d, want %d", len(got), len(want))
	}

	// By age: a new file at the first write after Every.
	path2 := filepath.Join(dir, "age.ndjson")
	w, err = CreateRotating(path2, "ndjson", Rotate{Every: time.Minute}, 0o644, now)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("a\n"))
	clock = clock.Add(30 * time.Second)
	w.Write([]byte("b\n"))
	clock = clock.Add(31 * time.Second)
	w.Write([]byte("c\n"))
	w.Close()
	old, _ := os.ReadFile(filepath.Join(dir, "age.20261204T024300Z.ndjson"))
	cur, _ := os.ReadFile(path2)
	if string(old) != "a\nb\n" || string(cur) != "c\n" {
		t.Errorf("by age: rotated %q, current %q", old, cur)
	}
}
