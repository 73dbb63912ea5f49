package quic

// The CRYPTO stream of one direction at the Initial level (RFC 9000,
// 19.6): frames carry byte ranges of it by offset, in any order,
// repeated or overlapping when packets are lost and sent again; a
// post-quantum ClientHello spans two or more Initial packets. The stream
// is rebuilt here and its contiguous prefix split into handshake
// messages.

// Caps on one direction's Initial CRYPTO stream. Past them the data is
// dropped and the anomaly quic_crypto_limit is reported once per
// direction. Enforced in (*cryptoStream).add.
const (
	// MaxCryptoStream is how many bytes of the stream are rebuilt: the
	// Initial level carries only ClientHello or ServerHello (RFC 9001,
	// 4.1.3), a few kilobytes even with a post-quantum key share.
	MaxCryptoStream = 64 << 10
	// maxCryptoRanges is how many disjoint received ranges are held
	// while holes wait to be filled.
	maxCryptoRanges = 64
)

type span struct{ start, end int }

// cryptoStream holds bytes [0, len(buf)) of a CRYPTO stream as received
// (holes are zero and not in have) and what has been handed on.
type cryptoStream struct {
	buf      []byte
	have     []span // received ranges: sorted, disjoint, not touching
	msgStart int    // offset of the first handshake message not yet handed on
	full     bool   // a cap was hit (reported once)
	stopped  bool   // a message too long for the cap: nothing more is handed on
}

// add takes a CRYPTO frame's data at offset off. It reports whether a
// cap dropped some of it. Data already held is kept as first received.
func (c *cryptoStream) add(off uint64, data []byte) (dropped bool) {
	if len(data) == 0 {
		return false
	}
	if off >= MaxCryptoStream {
		return true
	}
	if room := MaxCryptoStream - int(off); len(data) > room {
		data, dropped = data[:room], true
	}
	start, end := int(off), int(off)+len(data)
	if end > len(c.buf) {
		if end > cap(c.buf) {
			nb := make([]byte, end, min(max(end, 2*cap(c.buf), 2048), MaxCryptoStream))
			copy(nb, c.buf)
			c.buf = nb
		}
		c.buf = c.buf[:end]
	}
	// Fill only the holes of [start, end): bytes already received stay.
	i := 0
	pos := start
	var merged []span
	for ; i < len(c.have) && c.have[i].end < start; i++ {
	}
	lo := i
	for ; i < len(c.have) && c.have[i].start <= end; i++ {
		h := c.have[i]
		if h.start > pos {
			copy(c.buf[pos:h.start], data[pos-start:h.start-start])
		}
		pos = max(pos, h.end)
	}
	hi := i
	if pos < end {
		copy(c.buf[pos:end], data[pos-start:])
	}
	// Ranges lo..hi-1 touch or overlap [start, end): merge them with it.
	ns := span{start, end}
	if lo < hi {
		ns.start = min(ns.start, c.have[lo].start)
		ns.end = max(ns.end, c.have[hi-1].end)
	}
	if lo == hi && len(c.have) >= maxCryptoRanges {
		return true // a new hole-separated range with no room for it
	}
	merged = append(merged, c.have[:lo]...)
	merged = append(merged, ns)
	merged = append(merged, c.have[hi:]...)
	c.have = merged
	return dropped
}

// contiguous is how many bytes from offset 0 have been received.
func (c *cryptoStream) contiguous() int {
	if len(c.have) > 0 && c.have[0].start == 0 {
		return c.have[0].end
	}
	return 0
}

// next returns the next complete handshake message of the stream (RFC
// 8446, 4: a 1-byte type and a 3-byte length before the body), or ok
// false when it is not all here yet. tooLong says the message can never
// fit under MaxCryptoStream: the stream stops there.
func (c *cryptoStream) next() (typ uint8, body []byte, off int, ok, tooLong bool) {
	if c.stopped {
		return 0, nil, 0, false, false
	}
	have := c.contiguous()
	if have-c.msgStart < 4 {
		return 0, nil, 0, false, false
	}
	h := c.buf[c.msgStart : c.msgStart+4]
	n := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	end := c.msgStart + 4 + n
	if end > MaxCryptoStream {
		c.stopped = true
		return h[0], nil, c.msgStart, false, true
	}
	if end > have {
		return 0, nil, 0, false, false
	}
	off = c.msgStart
	c.msgStart = end
	return h[0], c.buf[off+4 : end], off, true, false
}
