package ladder

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"

	"github.com/tlsscope/tlsscope/decode/facts"
)

// Select picks the connections a query names, in their input order:
//   - "#12" or "12": the connection with that id (in any capture);
//   - an address, "10.0.0.1" or "10.0.0.1:443" or "[::1]:8443": every
//     connection with that address (and port) on either side;
//   - "*": every connection, with an SNI or not (--ladder alone);
//   - anything else: a glob over the SNI (path.Match syntax,
//     case-insensitive: "*.example.com", "api.*").
//
// An empty result is not an error; a malformed glob is.
func Select(conns []*facts.Connection, query string) ([]*facts.Connection, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return nil, fmt.Errorf("empty connection selector (want an id like #12, an address like 10.0.0.1:443, or an SNI glob like *.example.com)")
	}
	var match func(c *facts.Connection) bool
	if q == "*" {
		match = func(*facts.Connection) bool { return true }
	} else if id, err := strconv.ParseUint(strings.TrimPrefix(q, "#"), 10, 64); err == nil {
		match = func(c *facts.Connection) bool { return c.ID == id }
	} else if ap, err := netip.ParseAddrPort(q); err == nil {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		match = func(c *facts.Connection) bool { return unmap(c.Client) == ap || unmap(c.Server) == ap }
	} else if a, err := netip.ParseAddr(strings.Trim(q, "[]")); err == nil {
		a = a.Unmap()
		match = func(c *facts.Connection) bool {
			return c.Client.Addr().Unmap() == a || c.Server.Addr().Unmap() == a
		}
	} else {
		glob := strings.ToLower(q)
		if _, err := path.Match(glob, ""); err != nil {
			return nil, fmt.Errorf("connection selector %q: bad SNI pattern: %w", query, err)
		}
		match = func(c *facts.Connection) bool {
			ok, _ := path.Match(glob, strings.ToLower(c.SNI()))
			return ok && c.SNI() != ""
		}
	}
	var out []*facts.Connection
	for _, c := range conns {
		if match(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
