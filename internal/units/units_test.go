package units

import (
	"testing"
	"time"
)

func TestDurationAndSize(t *testing.T) {
	if d, err := Duration("30d"); err != nil || d != 30*24*time.Hour {
		t.Errorf("30d = %v, %v", d, err)
	}
	if d, err := Duration("90m"); err != nil || d != 90*time.Minute {
		t.Errorf("90m = %v, %v", d, err)
	}
	if n, err := Size("4MiB"); err != nil || n != 4<<20 {
		t.Errorf("4MiB = %v, %v", n, err)
	}
	if n, err := Size("512"); err != nil || n != 512 {
		t.Errorf("512 = %v, %v", n, err)
	}
}
