package quic

import (
	"bytes"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tlsscope/tlsscope/decode/facts"
	"github.com/tlsscope/tlsscope/decode/tls"
	"github.com/tlsscope/tlsscope/internal/testutil"
)

// seedDatagrams adds the corpus captures' datagrams as seeds (when the
// corpus is there).
func seedDatagrams(f *testing.F, add func(d []byte)) {
	corpus := testutil.Corpus(f)
	for _, rel := range quicCorpus {
		for _, d := range readDatagrams(f, filepath.Join(corpus, rel)) {
			add(d.data)
		}
	}
}

// FuzzParseLong: no panic; a parsed packet and what follows lie inside the
// input, in order.
func FuzzParseLong(f *testing.F) {
	seedDatagrams(f, func(d []byte) { f.Add(d) })
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 && IsLong(b) {
			h, rest, err := ParseLong(b)
			if err != nil {
				return
			}
			if len(h.Packet)+len(rest) != len(b) || h.PNOffset > len(h.Packet) {
				t.Fatalf("packet %d + rest %d != %d (pn at %d)", len(h.Packet), len(rest), len(b), h.PNOffset)
			}
			b = rest
		}
		Recognise(b)
	})
}

type nopFrames struct{ n int }

func (h *nopFrames) crypto(off uint64, data []byte) { h.n += len(data) }
func (h *nopFrames) close(Close)                    {}

// FuzzFrames: the frame parser never panics and hands on no more CRYPTO
// bytes than it was given.
func FuzzFrames(f *testing.F) {
	f.Add([]byte{framePadding, 0, 0, framePing, frameAck, 1, 0, 1, 0, 0, 0})
	f.Add(cryptoFrame(0, []byte("hello")))
	f.Add([]byte{frameConnectionClose, 0x41, 0x2a, 0, 3, 'b', 'y', 'e'})
	f.Add([]byte{frameAckECN, 0x40, 5, 0, 2, 0, 1, 1, 1, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h nopFrames
		parseFrames(b, &h)
		if h.n > len(b) {
			t.Fatalf("%d CRYPTO bytes from %d", h.n, len(b))
		}
	})
}

// FuzzCryptoStream: any cutting of a stream into frames, in any order,
// with duplicates and overlaps, rebuilds the same messages as the stream
// in one piece.
func FuzzCryptoStream(f *testing.F) {
	f.Add([]byte{1, 0, 0, 3, 'a', 'b', 'c', 2, 0, 0, 1, 'x'}, []byte{3, 1, 7, 2, 9, 0, 4})
	f.Add(bytes.Repeat([]byte{1, 0, 0, 0}, 10), []byte{0, 0, 1, 1, 2, 2})
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		messages := func(st *cryptoStream) (out []string) {
			for {
				typ, body, _, ok, _ := st.next()
				if !ok {
					return out
				}
				out = append(out, string(typ)+string(body))
			}
		}
		var whole cryptoStream
		whole.add(0, stream)
		want := messages(&whole)
		// Frames: each cut byte pair gives a start and a length.
		var parts cryptoStream
		var got []string
		for i := 0; i+1 < len(cuts); i += 2 {
			if len(stream) == 0 {
				break
			}
			start := int(cuts[i]) * len(stream) / 256
			end := min(len(stream), start+1+int(cuts[i+1]))
			parts.add(uint64(start), stream[start:end])
			got = append(got, messages(&parts)...)
		}
		// Fill whatever is missing in one last frame, then compare.
		parts.add(0, stream)
		got = append(got, messages(&parts)...)
		if len(stream) > MaxCryptoStream {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("messages %q, whole stream %q", got, want)
		}
	})
}

// FuzzConnDatagrams: a capture's datagrams with any of them repeated
// give the same hellos; any datagram bytes never panic the Conn.
func FuzzConnDatagrams(f *testing.F) {
	var ds []datagram
	corpus := testutil.Corpus(f)
	for _, rel := range quicCorpus[:2] {
		ds = append(ds, readDatagrams(f, filepath.Join(corpus, rel))...)
	}
	f.Add([]byte{0, 1, 2, 3}, []byte{})
	f.Add([]byte{5, 5, 5}, []byte{0xc0, 0, 0, 0, 1, 8})
	f.Fuzz(func(t *testing.T, dups []byte, junk []byte) {
		if len(ds) == 0 {
			return
		}
		_, s, _ := run(ds)
		want := helloFacts(s)
		var feed []datagram
		for i, d := range ds {
			feed = append(feed, d)
			for _, k := range dups {
				if int(k)%len(ds) == i {
					feed = append(feed, d) // a duplicated datagram
				}
			}
		}
		var info facts.QUICInfo
		c := NewConn(&info, tls.Limits{}, nil)
		c.Datagram(tls.ServerToClient, time.Unix(0, 0), junk) // hostile bytes from the server first
		for _, d := range feed {
			c.Datagram(d.dir, time.Unix(0, 0), d.data)
		}
		if got := helloFacts(c.Session()); !reflect.DeepEqual(got, want) {
			t.Fatalf("hellos differ with duplicated datagrams %v and junk %x first", dups, junk)
		}
		c.Datagram(tls.ClientToServer, time.Unix(0, 0), junk)
	})
}
