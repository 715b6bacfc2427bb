package wxpaytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

func TestWriteAndReadFiles(t *testing.T) {
	s := newServer(t, withTwoPlatformKeys)
	dir := filepath.Join(t.TempDir(), "emu")
	if err := s.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	var names []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		names = append(names, e.Name())
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %o, want 600", e.Name(), perm)
		}
	}
	sort.Strings(names)
	want := []string{
		DefaultPlatformSerial + ".key.pem", DefaultPlatformSerial + ".pem",
		certSerial + ".key.pem", certSerial + ".pem",
		MerchantKeyFile, ConfigFile,
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("files (-want +got)\n%s", diff)
	}

	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var fc FileConfig
	if err := json.Unmarshal(data, &fc); err != nil {
		t.Fatal(err)
	}
	wantFC := FileConfig{
		MchID: DefaultMchID, Serial: DefaultMerchantSerial,
		PrivateKey: filepath.Join(dir, MerchantKeyFile),
		Certs: map[string]string{
			DefaultPlatformSerial: filepath.Join(dir, DefaultPlatformSerial+".pem"),
			certSerial:            filepath.Join(dir, certSerial+".pem"),
		},
		APIv3Key: s.APIv3Key, BaseURL: s.URL,
	}
	if diff := cmp.Diff(wantFC, fc); diff != "" {
		t.Errorf("%s (-want +got)\n%s", ConfigFile, diff)
	}
	mk, err := rsaenc.LoadPrivateKey(fc.PrivateKey)
	if err != nil || !mk.Equal(merchantKey) {
		t.Errorf("merchant key file: %v", err)
	}
	for _, p := range s.Platform {
		pk, err := rsaenc.LoadPublicKey(fc.Certs[p.Serial])
		if err != nil || !pk.Equal(&p.Key.PublicKey) {
			t.Errorf("public key file of %s: %v", p.Serial, err)
		}
	}

	// A new server from the files accepts the same client.
	u := NewUnstartedServer()
	if err := u.ReadFiles(dir); err != nil {
		t.Fatal(err)
	}
	if err := u.StartErr(); err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if u.Platform[0].Serial != DefaultPlatformSerial || len(u.Platform) != 2 || u.APIv3Key != s.APIv3Key {
		t.Errorf("read back %d platform keys, first %s", len(u.Platform), u.Platform[0].Serial)
	}
	c := newClient(t, u)
	c.signer = newClient(t, s).signer
	r := c.get(refundsPath + "/" + FixtureOutRefundNo)
	if r.status != 200 {
		t.Fatalf("server from files: %d %s", r.status, r.body)
	}
	if err := r.verify(s); err != nil {
		t.Errorf("answer of the server from files does not verify with the original keys: %v", err)
	}
	if err := u.ReadFiles(dir); err == nil {
		t.Error("ReadFiles on a started server succeeded")
	}
	if err := NewUnstartedServer().ReadFiles(t.TempDir()); err == nil {
		t.Error("ReadFiles of an empty directory succeeded")
	}
}
