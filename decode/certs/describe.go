// Package certs describes and verifies X.509 certificates seen in TLS
// handshakes. Describe turns a parsed certificate into the plain fields
// reports print (names as RFC 4514 strings the way python-cryptography and
// tshark print them, key, signature, fingerprints); Verify wraps
// crypto/x509's path building with the roots the caller chooses, at the
// time the caller chooses, and adds what a passive observer wants to know
// that crypto/x509 does not say: whether the server sent its chain in
// order, and whether a trusted bundle had to supply an intermediate the
// server left out.
//
// It reads certificates, never bytes off the wire, calls no clock and
// loads no root store by itself: roots come from the caller (see
// LoadCAFile and x509.SystemCertPool).
package certs

import (
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA certificates still exist on the wire; only verification is needed
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/md5" //nolint:gosec // verifying old MD5 self-signatures, not creating them
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // fingerprints, as every peer tool prints them
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/netip"

	"github.com/tlsscope/tlsscope/decode/certs/lenient"
	"github.com/tlsscope/tlsscope/decode/facts"
)

// Info is what reports print about one certificate: facts.Certificate,
// which decode fills with Describe for every certificate a connection
// carries, so that no later stage parses a certificate again.
type Info = facts.Certificate

// Describe fills an Info from a parsed certificate. Infos are remembered
// per certificate (see memo): a busy server sends the same parsed
// certificate on every connection, and describing it (two hashes, names,
// a signature check) costs more than decoding the connection.
func Describe(c *x509.Certificate) Info {
	if in, ok := described.get(c); ok {
		return in
	}
	in := describe(c)
	described.put(c, in)
	return in
}

func describe(c *x509.Certificate) Info {
	s256 := Fingerprint(c)
	s1 := sha1.Sum(c.Raw) //nolint:gosec
	in := Info{
		Subject:    SubjectName(c),
		Issuer:     IssuerName(c),
		SubjectCN:  c.Subject.CommonName,
		IssuerCN:   c.Issuer.CommonName,
		NotBefore:  c.NotBefore.UTC(),
		NotAfter:   c.NotAfter.UTC(),
		DNSNames:   c.DNSNames,
		Signature:  c.SignatureAlgorithm.String(),
		SHA256:     hex.EncodeToString(s256[:]),
		SHA1:       hex.EncodeToString(s1[:]),
		SelfSigned: SelfSigned(c),
		IsCA:       c.BasicConstraintsValid && c.IsCA,
	}
	if c.SerialNumber != nil {
		in.Serial = fmt.Sprintf("%X", c.SerialNumber)
	}
	for _, ip := range c.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			in.IPs = append(in.IPs, a.Unmap())
		}
	}
	in.KeyType, in.KeyBits = KeyInfo(c)
	in.Version = c.Version
	in.BasicConstraints = c.BasicConstraintsValid
	in.MaxPathLen = -1
	if c.BasicConstraintsValid && (c.MaxPathLen > 0 || c.MaxPathLenZero) {
		in.MaxPathLen = c.MaxPathLen
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		in.Exponent = k.E
	case *ecdsa.PublicKey:
		in.Curve = k.Curve.Params().Name
	case nil:
		if k, ok := lenient.KeyOf(c.RawSubjectPublicKeyInfo); ok {
			in.Curve, in.ExplicitCurve = k.Curve, k.Explicit
		}
	}
	in.Key = keyString(c, in.KeyType, in.KeyBits)
	return in
}

// ExplicitCurve reports whether c's key is an EC key whose curve is
// spelled out (RFC 3279, 2.3.5 specifiedCurve) instead of named: how
// CVE-2020-0601 (CurveBall) spoofed a trusted root. crypto/x509 refuses
// such certificates, so c comes from lenient.Parse.
func ExplicitCurve(c *x509.Certificate) bool {
	if c.PublicKey != nil {
		return false
	}
	k, ok := lenient.KeyOf(c.RawSubjectPublicKeyInfo)
	return ok && k.Explicit
}

// KeyInfo names a certificate's public key type and its size in bits: the
// RSA modulus, the DSA prime p, the ECDSA curve's field size, 256 for
// Ed25519.
func KeyInfo(c *x509.Certificate) (typ string, bits int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	case *dsa.PublicKey:
		return "DSA", k.P.BitLen()
	case nil:
		// A key crypto/x509 refused (lenient.Parse): its size is still
		// known from the SubjectPublicKeyInfo.
		if k, ok := lenient.KeyOf(c.RawSubjectPublicKeyInfo); ok && k.Algorithm != x509.UnknownPublicKeyAlgorithm {
			return k.Algorithm.String(), k.Bits
		}
	}
	return c.PublicKeyAlgorithm.String(), 0
}

func keyString(c *x509.Certificate, typ string, bits int) string {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case nil:
		if k, ok := lenient.KeyOf(c.RawSubjectPublicKeyInfo); ok && k.Algorithm == x509.ECDSA {
			switch {
			case k.Explicit:
				return fmt.Sprintf("ECDSA explicit curve (%d bits)", k.Bits)
			case k.Curve != "":
				return "ECDSA " + k.Curve
			}
		}
	}
	if bits > 0 {
		return fmt.Sprintf("%s %d", typ, bits)
	}
	return typ
}

// SelfSigned reports whether c's subject equals its issuer and its
// signature verifies with its own public key. Unlike crypto/x509's
// CheckSignatureFrom it accepts MD5 and SHA-1 signatures, which old
// self-signed certificates on the wire still carry; the question here is
// who signed, not whether the algorithm is still acceptable.
func SelfSigned(c *x509.Certificate) bool {
	if len(c.RawSubject) == 0 || string(c.RawSubject) != string(c.RawIssuer) {
		return false
	}
	if v, ok := selfSigned.get(c); ok {
		return v
	}
	v := checkOwnSignature(c) == nil
	selfSigned.put(c, v)
	return v
}

func checkOwnSignature(c *x509.Certificate) error {
	switch c.SignatureAlgorithm {
	case x509.MD5WithRSA:
		k, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok {
			return x509.ErrUnsupportedAlgorithm
		}
		sum := md5.Sum(c.RawTBSCertificate) //nolint:gosec
		return rsa.VerifyPKCS1v15(k, crypto.MD5, sum[:], c.Signature)
	case x509.DSAWithSHA1, x509.DSAWithSHA256:
		k, ok := c.PublicKey.(*dsa.PublicKey)
		if !ok {
			return x509.ErrUnsupportedAlgorithm
		}
		var digest []byte
		if c.SignatureAlgorithm == x509.DSAWithSHA1 {
			s := sha1.Sum(c.RawTBSCertificate) //nolint:gosec
			digest = s[:]
		} else {
			s := sha256.Sum256(c.RawTBSCertificate)
			digest = s[:]
		}
		// FIPS 186-4, 4.6: the digest is cut to the size of q, which
		// dsa.Verify leaves to the caller.
		if n := (k.Q.BitLen() + 7) / 8; len(digest) > n {
			digest = digest[:n]
		}
		var sig struct{ R, S *big.Int }
		if rest, err := asn1.Unmarshal(c.Signature, &sig); err != nil || len(rest) != 0 || sig.R == nil || sig.S == nil {
			return fmt.Errorf("certs: malformed DSA signature")
		}
		if !dsa.Verify(k, digest, sig.R, sig.S) { //nolint:staticcheck
			return fmt.Errorf("certs: DSA signature does not verify")
		}
		return nil
	}
	return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
}
