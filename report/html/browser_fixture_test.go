package html

import (
	"bytes"
	"testing"
)

func TestBrowserFixture(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, fixture(t), reportOptions()); err != nil {
		t.Fatal(err)
	}
	browse(t, b.Bytes(), "example.net", 1, 4)
}
