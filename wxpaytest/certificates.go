package wxpaytest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// platformCerts are the self-signed certificates of the certificate-mode
// platform keys, made once.
type platformCerts struct {
	list []platformCert
	err  error
}

// platformCert is one platform certificate.
type platformCert struct {
	serial    string
	notBefore time.Time
	notAfter  time.Time
	pem       []byte
}

// PlatformCertificate returns the PEM-encoded X.509 certificate the server
// serves at GET /v3/certificates for the platform key with the given
// serial, and false when that key has none: public-key ids (PUB_KEY_ID_...)
// and serials that are not upper-case hexadecimal have no certificate.
func (s *Server) PlatformCertificate(serial string) ([]byte, bool) {
	certs, err := s.platformCertificates()
	if err != nil {
		return nil, false
	}
	for _, c := range certs {
		if c.serial == serial {
			return append([]byte(nil), c.pem...), true
		}
	}
	return nil, false
}

// platformCertificates makes, once, a self-signed certificate for each
// platform key whose serial is a certificate serial, valid from the key's
// NotBefore to its NotAfter (by default from a day before the first call to
// five years after).
func (s *Server) platformCertificates() ([]platformCert, error) {
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	if s.files.certs != nil {
		return s.files.certs.list, s.files.certs.err
	}
	pc := &platformCerts{}
	s.files.certs = pc
	now := s.now()
	for _, p := range s.Platform {
		n, ok := new(big.Int).SetString(p.Serial, 16)
		if strings.HasPrefix(p.Serial, "PUB_KEY_ID_") || !ok || n.Sign() <= 0 || strings.ToUpper(n.Text(16)) != p.Serial {
			continue
		}
		if p.NotBefore.IsZero() {
			p.NotBefore = now.Add(-24 * time.Hour)
		}
		if p.NotAfter.IsZero() {
			p.NotAfter = now.AddDate(5, 0, 0)
		}
		p.NotBefore, p.NotAfter = p.NotBefore.UTC().Truncate(time.Second), p.NotAfter.UTC().Truncate(time.Second)
		tmpl := &x509.Certificate{
			SerialNumber: n,
			Subject: pkix.Name{
				Country:            []string{"CN"},
				Organization:       []string{"wxpaytest emulator"},
				OrganizationalUnit: []string{"WeChat Pay platform certificate (test only)"},
				CommonName:         "wxpaytest platform " + p.Serial,
			},
			NotBefore:             p.NotBefore,
			NotAfter:              p.NotAfter,
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			BasicConstraintsValid: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.Key.PublicKey, p.Key)
		if err != nil {
			pc.err = fmt.Errorf("wxpaytest: make platform certificate %s: %w", p.Serial, err)
			return nil, pc.err
		}
		pc.list = append(pc.list, platformCert{
			serial:    p.Serial,
			notBefore: tmpl.NotBefore,
			notAfter:  tmpl.NotAfter,
			pem:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		})
	}
	return pc.list, nil
}

// certificateEntry is one member of the data of GET /v3/certificates.
type certificateEntry struct {
	SerialNo           string               `json:"serial_no"`
	EffectiveTime      string               `json:"effective_time"`
	ExpireTime         string               `json:"expire_time"`
	EncryptCertificate encryptedCertificate `json:"encrypt_certificate"`
}

// encryptedCertificate is a certificate encrypted with the APIv3 key.
type encryptedCertificate struct {
	Algorithm      string `json:"algorithm"`
	Nonce          string `json:"nonce"`
	AssociatedData string `json:"associated_data"`
	Ciphertext     string `json:"ciphertext"`
}

// listCertificates is GET /v3/certificates: the platform certificates,
// each encrypted with AEAD_AES_256_GCM under the APIv3 key with a fresh
// nonce and the associated data "certificate".
func (s *Server) listCertificates(c *call) (any, *apiError) {
	certs, err := s.platformCertificates()
	if err != nil {
		return nil, newError(500, CodeSystemError, "emulator could not make its platform certificates")
	}
	block, err := aes.NewCipher([]byte(s.APIv3Key))
	if err != nil {
		return nil, newError(500, CodeSystemError, "emulator APIv3 key is unusable")
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, newError(500, CodeSystemError, "emulator APIv3 key is unusable")
	}
	data := make([]certificateEntry, 0, len(certs))
	for _, pc := range certs {
		nonce := randomString(12, alnum)
		ad := "certificate"
		ct := gcm.Seal(nil, []byte(nonce), pc.pem, []byte(ad))
		data = append(data, certificateEntry{
			SerialNo:      pc.serial,
			EffectiveTime: pc.notBefore.In(cst).Format(time.RFC3339),
			ExpireTime:    pc.notAfter.In(cst).Format(time.RFC3339),
			EncryptCertificate: encryptedCertificate{
				Algorithm:      "AEAD_AES_256_GCM",
				Nonce:          nonce,
				AssociatedData: ad,
				Ciphertext:     base64.StdEncoding.EncodeToString(ct),
			},
		})
	}
	return map[string]any{"data": data}, nil
}
