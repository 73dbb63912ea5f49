package capture_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tlsscope/tlsscope/capture"
)

// FuzzOpen reads arbitrary bytes as a capture. Invariants: no panic; Open
// fails only with a *capture.Error; packets carry exactly their captured
// length, never more than MaxCaptureLength; anomalies have known kinds and
// offsets inside what was read; after the end, Next keeps returning the
// same result; and the gzip of the input reads exactly the same (packets,
// anomaly kinds and offsets, errors).
func FuzzOpen(f *testing.F) {
	for _, name := range []string{pcapSample, pcapngSample, pcapNull, pcapngSmall} {
		raw, err := readCorpus(f, name)
		if err != nil {
			continue
		}
		if len(raw) > 4096 {
			raw = raw[:4096]
		}
		f.Add(raw)
		f.Add(gzipBytes(f, raw))
		if raw[0] != 0x0a {
			f.Add(parsePcap(f, cutToRecords(f, raw)).encode(binary.BigEndian, true))
		}
	}
	f.Add([]byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		plain := fuzzRead(t, data)
		if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
			// The same bytes gzip-compressed read the same: packets,
			// anomalies (offsets are in the decompressed stream) and errors.
			if gz := fuzzRead(t, gzipBytes(t, data)); !plain.equal(gz) {
				t.Fatalf("plain and gzip readings differ:\n%+v\n%+v", plain, gz)
			}
		}
	})
}

// fuzzResult is a summary of one reading, to compare two.
type fuzzResult struct {
	openErr   bool
	packets   []string
	anomalies []string
	endErr    bool
}

func (a fuzzResult) equal(b fuzzResult) bool {
	return a.openErr == b.openErr && a.endErr == b.endErr &&
		strings.Join(a.packets, "|") == strings.Join(b.packets, "|") &&
		strings.Join(a.anomalies, "|") == strings.Join(b.anomalies, "|")
}

func fuzzRead(t *testing.T, data []byte) (res fuzzResult) {
	{
		cf, err := capture.NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			var ce *capture.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Open error %T %v is not a *capture.Error", err, err)
			}
			res.openErr = true
			return res
		}
		var anomalies []capture.Anomaly
		cf.OnAnomaly = func(a capture.Anomaly) { anomalies = append(anomalies, a) }
		var endErr error
		for n := 0; ; n++ {
			p, err := cf.Next()
			if err != nil {
				endErr = err
				break
			}
			if len(p.Data) != p.Info.CaptureLength || len(p.Data) > capture.MaxCaptureLength {
				t.Fatalf("packet %d: %d bytes, caplen %d", n, len(p.Data), p.Info.CaptureLength)
			}
			if n > 1<<20 {
				t.Fatal("more than a million packets")
			}
			res.packets = append(res.packets, fmt.Sprintf("%d %d %d %d %x", p.Info.Timestamp.UnixNano(), p.Info.CaptureLength, p.Info.Length, p.LinkType, sha256.Sum256(p.Data)))
		}
		if _, err := cf.Next(); err != endErr {
			t.Fatalf("Next after the end: %v, first %v", err, endErr)
		}
		for _, a := range anomalies {
			switch a.Kind {
			case capture.AnomalyTruncated, capture.AnomalyBadBlock, capture.AnomalyTimeBackwards,
				capture.AnomalyCaplenTooLarge, capture.AnomalyUnsupportedLinkType:
			default:
				t.Fatalf("unknown anomaly kind %q", a.Kind)
			}
			if a.Offset < 0 {
				t.Fatalf("anomaly %v at a negative offset", a)
			}
			res.anomalies = append(res.anomalies, fmt.Sprintf("%s@%d", a.Kind, a.Offset))
		}
		if endErr != io.EOF {
			var ce *capture.Error
			if !errors.As(endErr, &ce) {
				t.Fatalf("Next error %T %v is not a *capture.Error", endErr, endErr)
			}
			res.endErr = true
		}
		cf.Close()
		return res
	}
}

func readCorpus(tb testing.TB, name string) ([]byte, error) {
	return mustRead(tb, corpusFile(tb, name)), nil
}

// cutToRecords shortens a pcap to its whole records.
func cutToRecords(tb testing.TB, b []byte) []byte {
	end := 24
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		if binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 && binary.LittleEndian.Uint32(b) != 0xa1b23c4d {
			n = int(binary.BigEndian.Uint32(b[off+8:]))
		}
		if off+16+n > len(b) {
			break
		}
		off += 16 + n
		end = off
	}
	return b[:end]
}
