package flow

import "encoding/binary"

// TCPData returns a TCP segment's sequence number and payload (the
// frame's bytes, valid until the next Decode), from its decoded header or,
// after a lazy Decode, from the raw one, which the fast path has checked.
func (s *Segment) TCPData() (seq uint32, payload []byte) {
	if s.TCP != nil {
		return s.TCP.Seq, s.TCP.Payload
	}
	if len(s.raw) < 20 {
		return 0, nil
	}
	doff := int(s.raw[12]>>4) * 4
	if doff < 20 || doff > len(s.raw) {
		return 0, nil
	}
	return binary.BigEndian.Uint32(s.raw[4:8]), s.raw[doff:]
}
