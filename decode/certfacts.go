package decode

import (
	"crypto/x509"

	"github.com/tlsscope/tlsscope/decode/certs"
	"github.com/tlsscope/tlsscope/decode/facts"
)

// describeCertificates fills the connection's certificate descriptions
// (facts.Connection.Certificates, ClientCertificates) for the
// certificates its session holds that are not described yet, the one
// place a certificate becomes the fields rules and reports print.
// certs.Describe remembers each parsed certificate, and decode/tls hands
// every connection the same parsed certificate for the same DER, so a
// server's chain is described once however many connections carry it.
func describeCertificates(c *facts.Connection) {
	if c.TLS == nil {
		return
	}
	c.Certificates = describeNew(c.Certificates, c.TLS.Certificates)
	c.ClientCertificates = describeNew(c.ClientCertificates, c.TLS.ClientCertificates)
}

func describeNew(have []facts.Certificate, chain []*x509.Certificate) []facts.Certificate {
	for _, x := range chain[min(len(have), len(chain)):] {
		have = append(have, certs.Describe(x))
	}
	return have
}
