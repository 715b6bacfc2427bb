package wxpay

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The default transport refuses anything older than TLS 1.2 and verifies
// certificates.
func TestTLSPolicy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		max     uint16
		trusted bool
		ok      bool
	}{
		{"TLS 1.1 server", tls.VersionTLS11, true, false},
		{"TLS 1.2 server", tls.VersionTLS12, true, true},
		{"untrusted certificate", tls.VersionTLS13, false, false},
	} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
		}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are the point
		srv.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tc.max}
		srv.StartTLS()
		c := fuzzClient(t)
		if err := c.setBase(srv.URL + "/"); err != nil {
			t.Fatal(err)
		}
		if c.hc.TLSConfig.MinVersion != tls.VersionTLS12 || c.hc.TLSConfig.InsecureSkipVerify {
			t.Fatalf("default TLS config %+v", c.hc.TLSConfig)
		}
		if tc.trusted {
			pool := x509.NewCertPool()
			pool.AddCert(srv.Certificate())
			c.hc.TLSConfig.RootCAs = pool
		}
		_, err := c.Chain("v3/x").Get()
		reachedServer := err != nil && strings.Contains(err.Error(), "wxpay: 404")
		if reachedServer != tc.ok {
			t.Errorf("%s: err = %v; want handshake ok = %v", tc.name, err, tc.ok)
		}
		srv.Close()
	}
}
