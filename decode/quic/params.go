package quic

import "fmt"

// transportParameterNames is the IANA "QUIC Transport Parameters"
// registry's permanent entries (RFC 9000, 18.2, and the RFCs named).
var transportParameterNames = map[uint64]string{
	0x00:   "original_destination_connection_id",
	0x01:   "max_idle_timeout",
	0x02:   "stateless_reset_token",
	0x03:   "max_udp_payload_size",
	0x04:   "initial_max_data",
	0x05:   "initial_max_stream_data_bidi_local",
	0x06:   "initial_max_stream_data_bidi_remote",
	0x07:   "initial_max_stream_data_uni",
	0x08:   "initial_max_streams_bidi",
	0x09:   "initial_max_streams_uni",
	0x0a:   "ack_delay_exponent",
	0x0b:   "max_ack_delay",
	0x0c:   "disable_active_migration",
	0x0d:   "preferred_address",
	0x0e:   "active_connection_id_limit",
	0x0f:   "initial_source_connection_id",
	0x10:   "retry_source_connection_id",
	0x11:   "version_information",     // RFC 9368, 3
	0x20:   "max_datagram_frame_size", // RFC 9221, 3
	0x2ab2: "grease_quic_bit",         // RFC 9287, 3
}

// TransportParameterName names a transport parameter id: its registered
// name, "grease" for a reserved id (RFC 9000, 18.1: 31*N+27), else the id
// in hex.
func TransportParameterName(id uint64) string {
	if n, ok := transportParameterNames[id]; ok {
		return n
	}
	if id >= 27 && (id-27)%31 == 0 {
		return "grease"
	}
	return fmt.Sprintf("%#x", id)
}
