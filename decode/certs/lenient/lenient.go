// Package lenient reads the certificates crypto/x509 refuses to parse:
// EC keys with explicit curve parameters (RFC 3279, 2.3.5
// specifiedCurve, the vector of CVE-2020-0601 "CurveBall"), EC keys on
// curves crypto/x509 does not implement (P-192, secp256k1, brainpool).
// A passive observer still has to report such a certificate: who it
// names, who issued it, when it is valid, its serial and fingerprints,
// and what is wrong with its key. Parse fills those fields of an
// x509.Certificate from the DER with cryptobyte and leaves PublicKey nil;
// KeyOf describes the key from the raw SubjectPublicKeyInfo.
//
// A certificate from Parse is never trusted: without a usable public key
// nothing it signed verifies, and its own signature cannot be checked.
package lenient

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Key describes a SubjectPublicKeyInfo.
type Key struct {
	Algorithm x509.PublicKeyAlgorithm
	// Bits: the RSA modulus, the EC field size (named or explicit curve).
	Bits int
	// Curve: the named curve ("P-192", "secp256k1", "brainpoolP256r1"),
	// "explicit" for specifiedCurve parameters, "" otherwise or unknown.
	Curve string
	// Explicit: the EC parameters are spelled out rather than named.
	Explicit bool
}

var (
	oidRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidDSA     = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}

	oidSAN              = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
)

// namedCurves are the curves crypto/x509 does not implement but servers
// and test suites still send, with their field size (SEC 2; RFC 5639).
var namedCurves = []struct {
	oid  asn1.ObjectIdentifier
	name string
	bits int
}{
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 1}, "P-192", 192},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 33}, "P-224", 224},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, "P-256", 256},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 34}, "P-384", 384},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 35}, "P-521", 521},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 8}, "secp160r1", 160},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 9}, "secp160k1", 160},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 30}, "secp160r2", 160},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 31}, "secp192k1", 192},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 32}, "secp224k1", 224},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 10}, "secp256k1", 256},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, "brainpoolP256r1", 256},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, "brainpoolP384r1", 384},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 13}, "brainpoolP512r1", 512},
}

// signatureAlgorithms maps the signature OIDs whose crypto/x509 name
// has no parameters to consider (RSA-PSS has; it stays Unknown).
var signatureAlgorithms = []struct {
	oid asn1.ObjectIdentifier
	alg x509.SignatureAlgorithm
}{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 2}, x509.MD2WithRSA},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}, x509.MD5WithRSA},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, x509.SHA1WithRSA},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, x509.SHA256WithRSA},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, x509.SHA384WithRSA},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, x509.SHA512WithRSA},
	{asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 3}, x509.DSAWithSHA1},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 2}, x509.DSAWithSHA256},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, x509.ECDSAWithSHA1},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, x509.ECDSAWithSHA256},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, x509.ECDSAWithSHA384},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, x509.ECDSAWithSHA512},
	{asn1.ObjectIdentifier{1, 3, 101, 112}, x509.PureEd25519},
}

var errMalformed = errors.New("lenient: malformed certificate")

// Parse reads a DER certificate's TBSCertificate (RFC 5280, 4.1): the
// version, serial, signature algorithm, issuer, validity, subject, the
// raw SubjectPublicKeyInfo with its algorithm, subjectAltName's DNS names
// and basicConstraints. The result has PublicKey nil and references der,
// which the caller must not modify afterwards. It refuses anything whose
// outer structure is not a certificate.
func Parse(der []byte) (*x509.Certificate, error) {
	input := cryptobyte.String(der)
	var cert, tbs, sigAlg, validity cryptobyte.String
	var rawTBS, rawIssuer, rawSubject, rawSPKI cryptobyte.String
	if !input.ReadASN1(&cert, cbasn1.SEQUENCE) || !input.Empty() ||
		!cert.ReadASN1Element(&rawTBS, cbasn1.SEQUENCE) {
		return nil, errMalformed
	}
	c := &x509.Certificate{Raw: der, RawTBSCertificate: rawTBS, Version: 1}
	if !rawTBS.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errMalformed
	}
	var version cryptobyte.String
	var hasVersion bool
	if !tbs.ReadOptionalASN1(&version, &hasVersion, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, errMalformed
	}
	if hasVersion {
		var v int64
		if !version.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v < 0 || v > 2 {
			return nil, errMalformed
		}
		c.Version = int(v) + 1
	}
	c.SerialNumber = new(big.Int)
	if !tbs.ReadASN1Integer(c.SerialNumber) ||
		!tbs.ReadASN1(&sigAlg, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&rawIssuer, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1(&validity, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&rawSubject, cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&rawSPKI, cbasn1.SEQUENCE) {
		return nil, errMalformed
	}
	c.RawIssuer, c.RawSubject, c.RawSubjectPublicKeyInfo = rawIssuer, rawSubject, rawSPKI
	c.SignatureAlgorithm = signatureAlgorithm(sigAlg)
	var err error
	if c.NotBefore, err = readTime(&validity); err != nil {
		return nil, err
	}
	if c.NotAfter, err = readTime(&validity); err != nil {
		return nil, err
	}
	if !fillName(&c.Issuer, rawIssuer) || !fillName(&c.Subject, rawSubject) {
		return nil, errMalformed
	}
	k, ok := KeyOf(rawSPKI)
	if !ok {
		return nil, errMalformed
	}
	c.PublicKeyAlgorithm = k.Algorithm
	// issuerUniqueID [1], subjectUniqueID [2]: skipped.
	for _, tag := range []cbasn1.Tag{cbasn1.Tag(1).ContextSpecific(), cbasn1.Tag(2).ContextSpecific()} {
		if !tbs.SkipOptionalASN1(tag) {
			return nil, errMalformed
		}
	}
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(3).Constructed().ContextSpecific()) {
		return nil, errMalformed
	}
	if hasExts && !readExtensions(c, exts) {
		return nil, errMalformed
	}
	// The signature: its algorithm and value.
	var outerAlg cryptobyte.String
	var sig asn1.BitString
	if !cert.ReadASN1(&outerAlg, cbasn1.SEQUENCE) || !cert.ReadASN1BitString(&sig) {
		return nil, errMalformed
	}
	c.Signature = sig.RightAlign()
	return c, nil
}

func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, errMalformed
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, errMalformed
		}
	default:
		return t, errMalformed
	}
	return t.UTC(), nil
}

func fillName(n *pkix.Name, raw []byte) bool {
	var seq pkix.RDNSequence
	rest, err := asn1.Unmarshal(raw, &seq)
	if err != nil || len(rest) != 0 {
		return false
	}
	n.FillFromRDNSequence(&seq)
	return true
}

func signatureAlgorithm(alg cryptobyte.String) x509.SignatureAlgorithm {
	var oid asn1.ObjectIdentifier
	if !alg.ReadASN1ObjectIdentifier(&oid) {
		return x509.UnknownSignatureAlgorithm
	}
	for _, s := range signatureAlgorithms {
		if oid.Equal(s.oid) {
			return s.alg
		}
	}
	return x509.UnknownSignatureAlgorithm
}

// KeyOf describes a DER SubjectPublicKeyInfo (RFC 5280, 4.1.2.7) without
// making a usable key of it. ok is false when it is not one.
func KeyOf(spki []byte) (k Key, ok bool) {
	s := cryptobyte.String(spki)
	var info, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	var bits asn1.BitString
	if !s.ReadASN1(&info, cbasn1.SEQUENCE) || !info.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) {
		return k, false
	}
	params := alg
	if !info.ReadASN1BitString(&bits) {
		return k, false
	}
	switch {
	case oid.Equal(oidRSA):
		k.Algorithm = x509.RSA
		// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
		key := cryptobyte.String(bits.RightAlign())
		var seq cryptobyte.String
		n := new(big.Int)
		if key.ReadASN1(&seq, cbasn1.SEQUENCE) && seq.ReadASN1Integer(n) {
			k.Bits = n.BitLen()
		}
	case oid.Equal(oidDSA):
		k.Algorithm = x509.DSA
		// Dss-Parms ::= SEQUENCE { p INTEGER, q INTEGER, g INTEGER }
		var seq cryptobyte.String
		p := new(big.Int)
		if params.ReadASN1(&seq, cbasn1.SEQUENCE) && seq.ReadASN1Integer(p) {
			k.Bits = p.BitLen()
		}
	case oid.Equal(oidEd25519):
		k.Algorithm, k.Bits = x509.Ed25519, 256
	case oid.Equal(oidECKey):
		k.Algorithm = x509.ECDSA
		switch {
		case params.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER):
			var curve asn1.ObjectIdentifier
			if params.ReadASN1ObjectIdentifier(&curve) {
				for _, nc := range namedCurves {
					if curve.Equal(nc.oid) {
						k.Curve, k.Bits = nc.name, nc.bits
					}
				}
			}
		case params.PeekASN1Tag(cbasn1.SEQUENCE):
			// ECParameters ::= SEQUENCE { version INTEGER,
			//   fieldID SEQUENCE { fieldType OID, parameters ANY }, ... }
			// (SEC 1, C.2); for prime fields the parameter is the prime p.
			k.Explicit, k.Curve = true, "explicit"
			var ecp, field cryptobyte.String
			var v int64
			var ft asn1.ObjectIdentifier
			p := new(big.Int)
			if params.ReadASN1(&ecp, cbasn1.SEQUENCE) && ecp.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) &&
				ecp.ReadASN1(&field, cbasn1.SEQUENCE) && field.ReadASN1ObjectIdentifier(&ft) &&
				field.ReadASN1Integer(p) {
				k.Bits = p.BitLen()
			}
		}
	default:
		k.Algorithm = x509.UnknownPublicKeyAlgorithm
	}
	return k, true
}

// readExtensions reads subjectAltName's DNS names and basicConstraints;
// other extensions are skipped.
func readExtensions(c *x509.Certificate, exts cryptobyte.String) bool {
	var list cryptobyte.String
	if !exts.ReadASN1(&list, cbasn1.SEQUENCE) {
		return false
	}
	for !list.Empty() {
		var ext, value cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !list.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) ||
			!ext.SkipOptionalASN1(cbasn1.BOOLEAN) || !ext.ReadASN1(&value, cbasn1.OCTET_STRING) {
			return false
		}
		switch {
		case oid.Equal(oidSAN):
			var names cryptobyte.String
			if !value.ReadASN1(&names, cbasn1.SEQUENCE) {
				return false
			}
			for !names.Empty() {
				var name cryptobyte.String
				var tag cbasn1.Tag
				if !names.ReadAnyASN1(&name, &tag) {
					return false
				}
				if tag == cbasn1.Tag(2).ContextSpecific() { // dNSName
					c.DNSNames = append(c.DNSNames, string(name))
				}
			}
		case oid.Equal(oidBasicConstraints):
			var bc cryptobyte.String
			if !value.ReadASN1(&bc, cbasn1.SEQUENCE) {
				return false
			}
			c.BasicConstraintsValid = true
			if bc.PeekASN1Tag(cbasn1.BOOLEAN) && !bc.ReadASN1Boolean(&c.IsCA) {
				return false
			}
		}
	}
	return true
}
