package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWidthFollowsTheTerminal: --width wins; a terminal is fitted to its
// own width (a pseudo-terminal set to 97 columns here); anything else
// (a pipe, a file, a buffer) gets 0, no limit, so that piped output keeps
// every value whole even when $COLUMNS is set.
func TestWidthFollowsTheTerminal(t *testing.T) {
	t.Setenv("COLUMNS", "132")
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the terminal: %v", err)
	}
	defer tty.Close()
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 97}); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(t.TempDir() + "/out.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tc := range []struct {
		name string
		flag int
		w    io.Writer
		want int
	}{
		{"terminal", 0, tty, 97},
		{"terminal with --width", 60, tty, 60},
		{"pipe", 0, w, 0},
		{"file", 0, file, 0},
		{"buffer", 0, &bytes.Buffer{}, 0},
		{"pipe with --width", 120, w, 120},
	} {
		if got := Width(tc.flag, tc.w); got != tc.want {
			t.Errorf("%s: Width = %d, want %d", tc.name, got, tc.want)
		}
	}
}
