package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/rules"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// encodeJSON is encoding/json's rendering of v as the NDJSON writers
// configure it (no HTML escaping), without the newline.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// awkward are strings every escaping rule of encoding/json applies to.
var awkward = []string{
	"", "a", "bench.test", `"`, `\`, `a"b\c`, "\x00", "\x01\x1f", "\x7f", "<script>&amp;</script>",
	"\b\f\n\r\t", "\u2028", "\u2029", "x\u2028y\u2029z", "\xff", "\xe2\x80", "\xe2\x80\xa8\xe2",
	"é", "日本語", "😀", "\xed\xa0\x80", "\xef\xbf\xbd", "a\u00a0b", "CN=a\\,b+c", "\x1b[31mred",
}

// awkwardFloats are the cut-offs of encoding/json's float formats and
// values either side.
var awkwardFloats = []float64{
	0, math.Copysign(0, -1), 1, -1, 3.154, 0.001, 1e-6, 9.99e-7, 1e-7, 1.5e-9, 1e20, 1e21, 9.99e20, 1.2e22,
	-1e-7, -1e21, math.MaxFloat64, math.SmallestNonzeroFloat64, 123456789.125, 1.0 / 3,
}

// fill sets every field of v, recursively, from rng: strings from
// awkward or random bytes, numbers across their range, lists nil, empty
// or not, pointers nil or set.
func fill(v reflect.Value, rng *rand.Rand) {
	switch v.Kind() {
	case reflect.String:
		if rng.IntN(4) == 0 {
			b := make([]byte, rng.IntN(12))
			for i := range b {
				b[i] = byte(rng.UintN(256))
			}
			v.SetString(string(b))
		} else {
			v.SetString(awkward[rng.IntN(len(awkward))])
		}
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		x := int64(rng.Uint64() >> (64 - bits))
		if rng.IntN(3) == 0 {
			x = int64(rng.IntN(100)) - 50
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x := rng.Uint64() >> (64 - v.Type().Bits())
		if rng.IntN(3) == 0 {
			x = uint64(rng.IntN(100))
		}
		v.SetUint(x)
	case reflect.Float64:
		if rng.IntN(2) == 0 {
			v.SetFloat(awkwardFloats[rng.IntN(len(awkwardFloats))])
		} else {
			v.SetFloat(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30)))
		}
	case reflect.Slice:
		switch rng.IntN(4) {
		case 0:
			v.SetZero()
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(v.Type(), 1+rng.IntN(3), 3)
			for i := range s.Len() {
				fill(s.Index(i), rng)
			}
			v.Set(s)
		}
	case reflect.Pointer:
		if rng.IntN(2) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), rng)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), rng)
		}
	default:
		panic("fill: no rule for " + v.Type().String())
	}
}

// TestRecordAppendersEqualEncodingJSON: for records filled field by field
// with awkward values, each appender writes what encoding/json writes;
// a field the appender forgets, misnames or misplaces fails this.
func TestRecordAppendersEqualEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(name string, v any, got []byte, ok bool) {
		t.Helper()
		want, err := encodeJSON(v)
		if (err == nil) != ok {
			t.Fatalf("%s: appender ok %v, encoding/json error %v", name, ok, err)
		}
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	for range 3000 {
		var c ConnectionRecord
		fill(reflect.ValueOf(&c).Elem(), rng)
		got, ok := appendConnectionJSON([]byte("prefix"), &c)
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("connection: the buffer's content was overwritten: %q", got)
		}
		check("connection", c, got[len("prefix"):], ok)

		var h HTTPRecord
		fill(reflect.ValueOf(&h).Elem(), rng)
		check("http", h, appendHTTPJSON(nil, &h), true)

		var f FindingRecord
		fill(reflect.ValueOf(&f).Elem(), rng)
		check("finding", f, appendFindingJSON(nil, &f), true)
	}
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		c := ConnectionRecord{HandshakeMillis: x}
		got, ok := appendConnectionJSON(nil, &c)
		check(fmt.Sprintf("connection with handshake_ms %v", x), c, got, ok)
		if _, err := AppendConnectionLines(nil, &facts.Connection{}, nil, Options{}); err != nil {
			t.Errorf("plain connection: %v", err)
		}
	}
}

// TestConnectionLinesEqualEncodingJSONCorpus: on every connection of the
// corpus captures (Zeek, Suricata, nDPI, ja4, ssldump: other stacks,
// other ways to fail), ConnectionLines gives encoding/json's bytes, and
// so do the whole NDJSON document and the live stream's lines.
func TestConnectionLinesEqualEncodingJSONCorpus(t *testing.T) {
	dir := testutil.Corpus(t)
	rc := &rules.Config{}
	files := captureFiles(t, dir)
	if len(files) < 50 {
		t.Fatalf("%d captures in %s", len(files), dir)
	}
	var all []group
	for _, p := range files {
		all = append(all, decodeCapture(t, p, rc).groups...)
	}
	compareGroups(t, "corpus", all)
	compareDocuments(t, "corpus", all)
}

// TestNDJSONDocumentEqualsEncodingJSON: WriteNDJSON and the live stream
// write encoding/json's bytes for every connection of testdata/pcaps.
func TestNDJSONDocumentEqualsEncodingJSON(t *testing.T) {
	compareDocuments(t, "testdata/pcaps", pcapsGroups(t))
}

// compareDocuments renders groups as one capture through WriteNDJSON and
// through a Stream, against the same written with encoding/json.
func compareDocuments(t *testing.T, name string, groups []group) {
	t.Helper()
	c := &Capture{Name: name}
	for _, g := range groups {
		c.Connections = append(c.Connections, g.conn)
		c.Findings = append(c.Findings, g.fs...)
	}
	// A finding of no listed connection is written on its own line.
	if len(c.Findings) > 0 {
		f := c.Findings[0]
		f.ConnID = math.MaxUint64
		c.Findings = append(c.Findings, f)
	}
	r := &Result{Captures: []*Capture{c}}
	for _, opt := range []Options{{}, {ShowSecrets: true}} {
		var got, want bytes.Buffer
		if err := WriteNDJSON(&got, r, opt); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		idx := byConn(c.Findings)
		ids := connIDs(c)
		for _, conn := range c.Connections {
			l, err := referenceLines(conn, idx[conn.ID], opt)
			if err != nil {
				t.Fatal(err)
			}
			want.Write(l)
		}
		for _, f := range c.Findings {
			if !ids[f.ConnID] {
				enc.Encode(NewFindingRecord(f))
			}
		}
		enc.Encode(CaptureSummary(c))
		enc.Encode(TotalSummary(r))
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: WriteNDJSON differs from encoding/json (%d and %d bytes)", name, got.Len(), want.Len())
		}

		got.Reset()
		want.Reset()
		s, err := NewStream(&got, "ndjson", opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range groups {
			// The connection with its findings, then each finding
			// again as one seen later.
			if err := s.Connection(g.conn, g.fs); err != nil {
				t.Fatal(err)
			}
			enc.Encode(NewConnectionRecord(g.conn, g.fs, opt))
			for _, f := range g.fs {
				enc.Encode(NewFindingRecord(f))
			}
			for _, f := range g.fs {
				if err := s.Finding(f); err != nil {
					t.Fatal(err)
				}
				enc.Encode(NewFindingRecord(f))
			}
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: stream differs from encoding/json (%d and %d bytes)", name, got.Len(), want.Len())
		}
	}
}

// FuzzAppendJSONString: any string quotes as encoding/json quotes it.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	for _, g := range pcapsGroups(f)[:20] {
		f.Add(g.conn.Capture)
		for _, x := range g.fs {
			f.Add(x.Message)
			f.Add(x.Evidence)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := encodeJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

// FuzzAppendJSONFloat: any finite float64 formats as encoding/json
// formats it.
func FuzzAppendJSONFloat(f *testing.F) {
	for _, x := range awkwardFloats {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		want, err := encodeJSON(x)
		if !finite(x) {
			if err == nil {
				t.Fatalf("%v encoded", x)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONFloat(nil, x); !bytes.Equal(got, want) {
			t.Fatalf("%v: got %s, want %s", x, got, want)
		}
	})
}

// TestNeedsEscape: the word-at-a-time test says a word needs escaping
// exactly when one of its bytes is not plain, for every byte value at
// every position and for random words.
func TestNeedsEscape(t *testing.T) {
	word := func(b [8]byte) uint64 {
		var x uint64
		for i, c := range b {
			x |= uint64(c) << (8 * i)
		}
		return x
	}
	plain := func(b [8]byte) bool {
		for _, c := range b {
			if !jsonPlain[c] {
				return false
			}
		}
		return true
	}
	for pos := range 8 {
		for c := range 256 {
			for _, fill := range []byte{'a', ' ', '~', 0x7f} {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[pos] = byte(c)
				if needsEscape(word(b)) == plain(b) {
					t.Fatalf("%q: needsEscape %v", b, needsEscape(word(b)))
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		var b [8]byte
		for i := range b {
			b[i] = byte(0x18 + rng.IntN(0x70)) // around both ends of plain
		}
		if needsEscape(word(b)) == plain(b) {
			t.Fatalf("%q: needsEscape %v", b, needsEscape(word(b)))
		}
	}
}
