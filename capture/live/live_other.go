//go:build !linux

package live

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsscope/tlsscope/capture"
)

// Handle is an open live capture (Linux only).
type Handle struct{}

// LinkType is unsupported on this system.
func LinkType(iface string) (layers.LinkType, error) {
	return 0, fmt.Errorf("cannot capture on %s: %w", iface, ErrUnsupported)
}

// Open is unsupported on this system: it returns ErrUnsupported.
func Open(iface string, opts Options) (*Handle, error) {
	return nil, fmt.Errorf("cannot capture on %s: %w", iface, ErrUnsupported)
}

// Name is the interface captured on.
func (h *Handle) Name() string { return "" }

// LinkType of every packet Next returns.
func (h *Handle) LinkType() layers.LinkType { return 0 }

// Next returns ErrUnsupported.
func (h *Handle) Next() (capture.Packet, error) { return capture.Packet{}, ErrUnsupported }

// Stats returns ErrUnsupported.
func (h *Handle) Stats() (Stats, error) { return Stats{}, ErrUnsupported }

// Close does nothing.
func (h *Handle) Close() error { return nil }

// DropPrivileges returns ErrUnsupported.
func DropPrivileges(name string) error {
	return fmt.Errorf("dropping privileges: %w", ErrUnsupported)
}
