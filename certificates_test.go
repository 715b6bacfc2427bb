package wxpay_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// certSerial is a platform certificate serial, for the certificate-mode key.
const certSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"

var (
	certKeyOnce sync.Once
	certKey     *rsa.PrivateKey
	certKeyErr  error
)

// migration starts an emulator with two platform keys, the public-key id
// platformSerial and the certificate serial certSerial, signing by default
// with the first of order, and a client trusting only the serials in trust.
func migration(t testing.TB, order []string, trust ...string) (*wxpaytest.Server, *wxpay.Client) {
	t.Helper()
	certKeyOnce.Do(func() { certKey, certKeyErr = wxpaytest.GenerateKey() })
	if certKeyErr != nil {
		t.Fatal(certKeyErr)
	}
	mk, err := rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	pk, err := rsaenc.LoadPrivateKey("testdata/platform_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]*rsa.PrivateKey{platformSerial: pk, certSerial: certKey}
	srv := wxpaytest.NewUnstartedServer()
	srv.MerchantKey = mk
	for _, s := range order {
		srv.Platform = append(srv.Platform, wxpaytest.PlatformKey{Serial: s, Key: keys[s]})
	}
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := srv.Config()
	cfg.Timeout = 5 * time.Second
	cfg.Certs = map[string]*rsa.PublicKey{}
	for _, s := range trust {
		cfg.Certs[s] = &keys[s].PublicKey
	}
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func queryFixture(c *wxpay.Client, serial string) (*wxpay.Response, error) {
	return c.Chain("v3/refund/domestic/refunds/{out_refund_no}").Get(wxpay.Opts{
		"out_refund_no": fixtureOutNo,
		"headers":       wxpay.Opts{"Wechatpay-Serial": serial},
	})
}

// During a migration the client trusts a public key and a platform
// certificate at once, and answers signed with either verify.
func TestBothKeyKindsAtOnce(t *testing.T) {
	_, c := migration(t, []string{platformSerial, certSerial}, platformSerial, certSerial)
	for _, serial := range []string{platformSerial, certSerial} {
		resp, err := queryFixture(c, serial)
		if err != nil {
			t.Fatalf("answer signed with %s: %v", serial, err)
		}
		if !resp.Verified || resp.Serial != serial {
			t.Errorf("answer verified %v with %q, want %s", resp.Verified, resp.Serial, serial)
		}
	}
	// A client that trusts only the public key refuses the certificate's
	// signature.
	_, pubOnly := migration(t, []string{platformSerial, certSerial}, platformSerial)
	if _, err := queryFixture(pubOnly, certSerial); !errors.Is(err, wxpay.ErrUnknownSerial) {
		t.Errorf("certificate-signed answer to a public-key client: err = %v, want ErrUnknownSerial", err)
	}
}

func TestDownloadCertificates(t *testing.T) {
	srv, c := migration(t, []string{platformSerial, certSerial}, platformSerial)
	certs, err := c.DownloadCertificates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Only the certificate-mode key has a certificate.
	if len(certs) != 1 || certs[0].Serial != certSerial {
		t.Fatalf("got %d certificates %v, want one, %s", len(certs), certs, certSerial)
	}
	ct := certs[0]
	if !ct.PublicKey().Equal(&certKey.PublicKey) {
		t.Errorf("certificate key is not the emulator's platform key")
	}
	now := time.Now()
	if !ct.EffectiveTime.Before(now) || !ct.ExpireTime.After(now) {
		t.Errorf("validity %v to %v does not cover now", ct.EffectiveTime, ct.ExpireTime)
	}
	if _, serial, err := rsaenc.ParseCertificate(ct.PEM); err != nil || serial != certSerial {
		t.Errorf("PEM: serial %q, %v", serial, err)
	}
	if pem, ok := srv.PlatformCertificate(certSerial); !ok || string(pem) != string(ct.PEM) {
		t.Errorf("downloaded certificate differs from the emulator's")
	}

	// A client without the APIv3 key cannot decrypt.
	cfg := srv.Config()
	cfg.APIv3Key = ""
	noKey, _ := wxpay.New(cfg)
	if _, err := noKey.DownloadCertificates(context.Background()); !errors.Is(err, wxpay.ErrNoAPIv3Key) {
		t.Errorf("no APIv3 key: err = %v, want ErrNoAPIv3Key", err)
	}
	if _, _, err := noKey.DownloadCertificatesTOFU(context.Background()); !errors.Is(err, wxpay.ErrNoAPIv3Key) {
		t.Errorf("no APIv3 key, TOFU: err = %v, want ErrNoAPIv3Key", err)
	}
	// A wrong APIv3 key does not decrypt.
	cfg = srv.Config()
	cfg.APIv3Key = "0123456789abcdef0123456789abcdef"
	wrong, _ := wxpay.New(cfg)
	if _, err := wrong.DownloadCertificates(context.Background()); !errors.Is(err, wxpay.ErrDecryptFailed) || !strings.Contains(fmt.Sprint(err), certSerial) {
		t.Errorf("wrong APIv3 key: err = %v, want ErrDecryptFailed naming %s", err, certSerial)
	}
	// An answer that fails verification is refused before decryption.
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultCorruptSignature, PathPrefix: "/v3/certificates"})
	if _, err := c.DownloadCertificates(context.Background()); !errors.Is(err, wxpay.ErrBadSignature) {
		t.Errorf("corrupt signature: err = %v, want ErrBadSignature", err)
	}
}

// Trust on first use: the answer is signed with a certificate the client
// does not trust yet, and verifies with the certificate it carries.
func TestDownloadCertificatesTOFU(t *testing.T) {
	srv, c := migration(t, []string{certSerial, platformSerial}, platformSerial)
	if _, err := c.DownloadCertificates(context.Background()); !errors.Is(err, wxpay.ErrUnknownSerial) {
		t.Fatalf("DownloadCertificates: err = %v, want ErrUnknownSerial", err)
	}
	certs, tofu, err := c.DownloadCertificatesTOFU(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !tofu || len(certs) != 1 || certs[0].Serial != certSerial {
		t.Errorf("tofu = %v, %d certificates, want TOFU and %s", tofu, len(certs), certSerial)
	}

	// A client that already trusts the signing key is not in TOFU mode.
	_, trusted := migration(t, []string{certSerial, platformSerial}, platformSerial, certSerial)
	if _, tofu, err := trusted.DownloadCertificatesTOFU(context.Background()); err != nil || tofu {
		t.Errorf("trusted client: tofu = %v, err = %v; want a verified answer", tofu, err)
	}

	// TOFU never accepts a bad signature, nor a serial that names none of
	// the certificates.
	for _, f := range []wxpaytest.Fault{
		{Kind: wxpaytest.FaultCorruptSignature},
		{Kind: wxpaytest.FaultUnknownSerial, Serial: "1234ABCD"},
		{Kind: wxpaytest.FaultProbeSignature},
	} {
		f.PathPrefix = "/v3/certificates"
		srv.Inject(f)
		_, _, err := c.DownloadCertificatesTOFU(context.Background())
		var ve *wxpay.VerifyError
		if !errors.As(err, &ve) {
			t.Errorf("%v: err = %v, want a *VerifyError", f.Kind, err)
		}
	}
}

// The refresher adds the certificate a trusted answer lists, never drops
// a configured key, never adds from an answer that failed verification, and
// stops cleanly; calls run concurrently with refreshes.
func TestCertificateRefresher(t *testing.T) {
	srv, c := migration(t, []string{platformSerial, certSerial}, platformSerial)
	if _, err := queryFixture(c, certSerial); !errors.Is(err, wxpay.ErrUnknownSerial) {
		t.Fatalf("before refresh: err = %v, want ErrUnknownSerial", err)
	}

	// A refresh from an answer that does not verify adds nothing.
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultCorruptSignature, PathPrefix: "/v3/certificates"})
	r := c.StartCertificateRefresher(time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for r.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !errors.Is(r.Err(), wxpay.ErrBadSignature) {
		t.Errorf("refresh from a corrupt answer: Err() = %v, want ErrBadSignature", r.Err())
	}
	if got := c.Serials(); len(got) != 1 || got[0] != platformSerial {
		t.Errorf("after a failed refresh the client trusts %v", got)
	}
	r.Stop()

	r = c.StartCertificateRefresher(10 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 4; i++ {
		wg.Go(func() {
			for j := 0; j < 10; j++ {
				if _, err := queryFixture(c, platformSerial); err != nil {
					errs <- err
				}
				if _, err := r.Refresh(context.Background()); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call: %v", err)
	}
	r.Stop()
	r.Stop() // harmless
	if err := r.Err(); err != nil {
		t.Errorf("Err() = %v", err)
	}
	if got := c.Serials(); len(got) != 2 {
		t.Errorf("after refresh the client trusts %v, want both keys", got)
	}
	if resp, err := queryFixture(c, certSerial); err != nil || resp.Serial != certSerial {
		t.Errorf("after refresh, an answer signed with the certificate: %v", err)
	}
	// No refresher goroutine is left behind. Stop returns once the
	// goroutine's last statement has run; on a loaded machine it may still
	// be on the stack for a moment after, so allow it a generous while.
	running := func() bool {
		buf := make([]byte, 1<<20)
		return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "CertificateRefresher).run")
	}
	for deadline := time.Now().Add(5 * time.Second); running() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if running() {
		t.Errorf("a refresher goroutine is still running 5 s after Stop")
	}
}

// Decrypt reverses the RSA-OAEP encryption WeChat Pay applies to sensitive
// answer fields under the merchant's public key.
func TestDecrypt(t *testing.T) {
	srv, c := setup(t)
	for _, plain := range []string{"张三", "6222020200001234", "a"} {
		ct, err := rsaenc.Encrypt(&srv.MerchantKey.PublicKey, plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decrypt(ct)
		if err != nil || got != plain {
			t.Errorf("Decrypt = %q, %v; want %q", got, err, plain)
		}
	}
	if _, err := c.Decrypt("bm90IGEgY2lwaGVydGV4dA=="); !errors.Is(err, rsaenc.ErrDecrypt) {
		t.Errorf("Decrypt of garbage: err = %v, want rsaenc.ErrDecrypt", err)
	}
}

// A merchant that trusts the WeChat Pay public key lists the platform
// certificates, during a migration or to keep them on file.
func ExampleClient_DownloadCertificates() {
	srv := wxpaytest.NewUnstartedServer()
	srv.Platform = []wxpaytest.PlatformKey{
		{Serial: wxpaytest.DefaultPlatformSerial},            // public-key mode, signs the answers
		{Serial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"}, // certificate mode
	}
	srv.Start()
	defer srv.Close()
	client, _ := wxpay.New(srv.Config())

	certs, err := client.DownloadCertificates(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range certs {
		fmt.Println(c.Serial, c.ExpireTime.After(time.Now()))
	}
	// Output: 5157F09EFDC096DE15EBE81A47057A7232F1B8E1 true
}

// A merchant with no WeChat Pay key at all can bootstrap, in explicit trust
// on first use; New alone refuses such a config.
func TestBootstrapCertificates(t *testing.T) {
	srv, _ := migration(t, []string{certSerial}, certSerial)
	cfg := srv.Config()
	cfg.Certs = nil
	if _, err := wxpay.New(cfg); !errors.Is(err, wxpay.ErrInvalidConfig) {
		t.Fatalf("New without certs: %v, want ErrInvalidConfig", err)
	}
	certs, tofu, err := wxpay.BootstrapCertificates(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !tofu || len(certs) != 1 || certs[0].Serial != certSerial || !certs[0].PublicKey().Equal(&certKey.PublicKey) {
		t.Errorf("tofu = %v, certs = %+v; want the emulator's certificate in TOFU", tofu, certs)
	}
	cfg.Certs = map[string]*rsa.PublicKey{certSerial: &certKey.PublicKey}
	if _, tofu, err := wxpay.BootstrapCertificates(context.Background(), cfg); err != nil || tofu {
		t.Errorf("with the key configured: tofu = %v, err = %v; want an ordinary verified download", tofu, err)
	}
	cfg.Certs, cfg.APIv3Key = nil, ""
	if _, _, err := wxpay.BootstrapCertificates(context.Background(), cfg); !errors.Is(err, wxpay.ErrInvalidConfig) || !errors.Is(err, wxpay.ErrNoAPIv3Key) {
		t.Errorf("without an APIv3 key: %v", err)
	}
}

// Certificate serials of a rotation: the certificate in use, its
// successor, and one issued for later.
const (
	oldCertSerial    = "4A5C1E0F6B3D2C1A0B9F8E7D6C5B4A3928171605"
	newCertSerial    = "6E2F1D0C9B8A79685746352413021F0E0D0C0B0A"
	futureCertSerial = "7F0102030405060708090A0B0C0D0E0F10111213"
)

// rotation starts an emulator holding three platform certificates (the
// old one, signing by default; the new one, in force since yesterday; one
// valid only from next week) and a client that trusts only the old one, as
// configured before WeChat Pay rotated its certificate.
func rotation(t *testing.T) (*wxpaytest.Server, *wxpay.Client) {
	t.Helper()
	pk, err := rsaenc.LoadPrivateKey("testdata/platform_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	certKeyOnce.Do(func() { certKey, certKeyErr = wxpaytest.GenerateKey() })
	if certKeyErr != nil {
		t.Fatal(certKeyErr)
	}
	futureKey, err := wxpaytest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	srv := wxpaytest.NewUnstartedServer()
	srv.MerchantKey, err = rsaenc.LoadPrivateKey("testdata/merchant_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	srv.Platform = []wxpaytest.PlatformKey{
		{Serial: oldCertSerial, Key: pk, NotBefore: now.AddDate(-4, -11, 0), NotAfter: now.AddDate(0, 1, 0)},
		{Serial: newCertSerial, Key: certKey, NotBefore: now.Add(-24 * time.Hour), NotAfter: now.AddDate(5, 0, 0)},
		{Serial: futureCertSerial, Key: futureKey, NotBefore: now.AddDate(0, 0, 7), NotAfter: now.AddDate(5, 0, 7)},
	}
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := srv.Config()
	cfg.Timeout = 5 * time.Second
	cfg.Certs = map[string]*rsa.PublicKey{oldCertSerial: &pk.PublicKey}
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// After the refresher has added WeChat Pay's new platform certificates,
// the encrypt option keeps working without being told a serial: it uses
// the newest certificate in force, as WeChat Pay expects, not the old one
// and not one that is not valid yet.
func TestEncryptAfterCertificateRotation(t *testing.T) {
	srv, c := rotation(t)
	abnormal := func() (string, error) {
		t.Helper()
		if err := srv.SetRefundStatus(fixtureRefund, "ABNORMAL"); err != nil {
			t.Fatal(err)
		}
		_, err := c.Chain("v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund").Post(wxpay.Opts{
			"refund_id": fixtureRefund, "json": abnormalJSON("USER_BANK_CARD"), "encrypt": []string{"bank_account", "real_name"},
		})
		r, _ := srv.LastRequest()
		return r.Header.Get("Wechatpay-Serial"), err
	}
	if serial, err := abnormal(); err != nil || serial != oldCertSerial {
		t.Fatalf("before the rotation: Wechatpay-Serial %q, %v; want %s", serial, err, oldCertSerial)
	}

	r := c.StartCertificateRefresher(time.Hour)
	defer r.Stop()
	if _, err := r.Refresh(context.Background()); err != nil { // the refresher may have been first
		t.Fatal(err)
	}
	if got := c.Serials(); len(got) != 3 {
		t.Fatalf("after a refresh the client trusts %v, want all three certificates", got)
	}
	// The configured key learnt its dates from the list.
	if k := c.Verifier().TrustedKeys()[oldCertSerial]; !k.Dated() || !k.NotAfter.After(time.Now()) {
		t.Errorf("the configured certificate after a refresh: %+v, want its dates", k)
	}
	if serial, err := abnormal(); err != nil || serial != newCertSerial {
		t.Errorf("after the rotation: Wechatpay-Serial %q, %v; want the newest certificate in force, %s", serial, err, newCertSerial)
	}
	if _, serial, err := c.Encrypt("6222020200001234", ""); err != nil || serial != newCertSerial {
		t.Errorf("Encrypt chose %q, %v; want %s", serial, err, newCertSerial)
	}
	// Naming a serial still picks that key.
	if _, serial, err := c.Encrypt("6222020200001234", oldCertSerial); err != nil || serial != oldCertSerial {
		t.Errorf("Encrypt with the old serial chose %q, %v", serial, err)
	}
}

// Which key Encrypt (and the encrypt option) picks when no serial is named,
// and when it asks for one.
func TestEncryptKeyChoice(t *testing.T) {
	_, c := setup(t)
	pub, _ := c.Verifier().Key(platformSerial)
	now := time.Now()
	undated := verifier.TrustedKey{PublicKey: pub}
	dated := func(from, to time.Duration) verifier.TrustedKey {
		return verifier.TrustedKey{PublicKey: pub, NotBefore: now.Add(from), NotAfter: now.Add(to)}
	}
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	for _, tc := range []struct {
		name string
		keys map[string]verifier.TrustedKey
		want string // the serial chosen, or text of the error
		ok   bool
	}{
		{"the only key", map[string]verifier.TrustedKey{"A": undated}, "A", true},
		{"a public key before any certificate", map[string]verifier.TrustedKey{"A": dated(-day, year), "PUB_KEY_ID_1": undated, "B": undated}, "PUB_KEY_ID_1", true},
		{"two public keys", map[string]verifier.TrustedKey{"PUB_KEY_ID_1": undated, "PUB_KEY_ID_2": undated, "A": dated(-day, year)}, "PUB_KEY_ID_1, PUB_KEY_ID_2", false},
		{"the newest in force", map[string]verifier.TrustedKey{"OLD": dated(-4*year, 30*day), "NEW": dated(-day, 5*year), "SOON": dated(7*day, 5*year)}, "NEW", true},
		{"the old one until the new takes effect", map[string]verifier.TrustedKey{"OLD": dated(-4*year, 30*day), "SOON": dated(7*day, 5*year)}, "OLD", true},
		{"not an expired one", map[string]verifier.TrustedKey{"OLD": dated(-5*year, -day), "NEW": dated(-2*year, 3*year)}, "NEW", true},
		{"a dated one in force before an undated one", map[string]verifier.TrustedKey{"A": undated, "B": dated(-day, year)}, "B", true},
		{"the undated one when no dated one is in force", map[string]verifier.TrustedKey{"A": undated, "B": dated(day, year)}, "A", true},
		{"two of the same age", map[string]verifier.TrustedKey{"A": dated(-day, year), "B": dated(-day, 2*year)}, "A and B", false},
		{"two undated", map[string]verifier.TrustedKey{"A": undated, "B": undated}, "A, B", false},
		{"none in force", map[string]verifier.TrustedKey{"OLD": dated(-year, -day), "SOON": dated(day, year)}, "no WeChat Pay key is in force", false},
		{"the only key, expired", map[string]verifier.TrustedKey{"OLD": dated(-year, -day)}, "no WeChat Pay key is in force", false},
	} {
		if err := c.Verifier().SetTrustedKeys(tc.keys); err != nil {
			t.Fatalf("%s: SetTrustedKeys: %v", tc.name, err)
		}
		_, serial, err := c.Encrypt("6222020200001234", "")
		switch {
		case tc.ok && (err != nil || serial != tc.want):
			t.Errorf("%s: Encrypt chose %q, %v; want %s", tc.name, serial, err, tc.want)
		case !tc.ok && (!errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Wechatpay-Serial")):
			t.Errorf("%s: Encrypt = %q, %v; want ErrInvalidOption naming %s and asking for a Wechatpay-Serial", tc.name, serial, err, tc.want)
		}
	}
}
