//go:build unix

package report

import (
	"os"
	"syscall"
)

// umask is the process's file mode creation mask, read once at start
// (reading it means setting it, so it is put straight back).
var umask = func() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}()
