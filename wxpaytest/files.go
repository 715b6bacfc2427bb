package wxpaytest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wxpay-chain/wxpay/rsaenc"
)

// Names of the files WriteFiles writes.
const (
	// ConfigFile is the client configuration.
	ConfigFile = "wxpay.json"
	// MerchantKeyFile is the merchant API private key (PKCS#8 PEM).
	MerchantKeyFile = "apiclient_key.pem"
	// platform public keys are written as <serial>.pem and, for the
	// emulator only, their private halves as <serial>.key.pem.
	platformKeySuffix = ".key.pem"
)

// FileConfig is the content of the wxpay.json file WriteFiles writes: what a
// client needs to talk to the emulator, with keys given by file path.
type FileConfig struct {
	MchID      string            `json:"mchid"`
	Serial     string            `json:"serial"`
	PrivateKey string            `json:"private_key"`
	Certs      map[string]string `json:"certs"`
	APIv3Key   string            `json:"apiv3_key"`
	BaseURL    string            `json:"base_url"`
}

// WriteFiles writes what a client needs to talk to the server into dir,
// creating dir if needed: the merchant private key as apiclient_key.pem
// (PKCS#8), each platform public key as <serial>.pem (SPKI), and the
// configuration wxpay.json naming them by absolute path (see FileConfig).
// It also writes each platform private key as <serial>.key.pem, which only
// ReadFiles uses, so that a standalone emulator can be restarted with the
// same keys. Every file is written with mode 0600. Call it after Start, so
// that base_url is set.
func (s *Server) WriteFiles(dir string) error {
	cfg := s.Config() // sets up the keys
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("wxpaytest: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return fmt.Errorf("wxpaytest: %w", err)
	}
	fc := FileConfig{
		MchID:      cfg.MchID,
		Serial:     cfg.Serial,
		PrivateKey: filepath.Join(abs, MerchantKeyFile),
		Certs:      map[string]string{},
		APIv3Key:   cfg.APIv3Key,
		BaseURL:    cfg.BaseURL,
	}
	if err := writePrivateKey(fc.PrivateKey, s.MerchantKey); err != nil {
		return err
	}
	for _, p := range s.Platform {
		path := filepath.Join(abs, p.Serial+".pem")
		der, err := x509.MarshalPKIXPublicKey(&p.Key.PublicKey)
		if err != nil {
			return fmt.Errorf("wxpaytest: encode platform key %s: %w", p.Serial, err)
		}
		if err := writeFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})); err != nil {
			return err
		}
		if err := writePrivateKey(filepath.Join(abs, p.Serial+platformKeySuffix), p.Key); err != nil {
			return err
		}
		fc.Certs[p.Serial] = path
	}
	data, err := json.MarshalIndent(fc, "", "  ")
	if err != nil {
		return fmt.Errorf("wxpaytest: encode %s: %w", ConfigFile, err)
	}
	return writeFile(filepath.Join(abs, ConfigFile), append(data, '\n'))
}

// ReadFiles sets the identities and keys of an unstarted server from the
// files WriteFiles wrote into dir, so that it accepts the same clients: MchID,
// MerchantSerial, MerchantKey, Platform (from the <serial>.key.pem files
// named by the certs of wxpay.json) and APIv3Key. It leaves Addr alone.
func (s *Server) ReadFiles(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return fmt.Errorf("wxpaytest: %w", err)
	}
	var fc FileConfig
	if err := json.Unmarshal(data, &fc); err != nil {
		return fmt.Errorf("wxpaytest: %s is not valid JSON", ConfigFile)
	}
	if fc.MchID == "" || fc.Serial == "" || len(fc.Certs) == 0 {
		return fmt.Errorf("wxpaytest: %s lacks mchid, serial or certs", ConfigFile)
	}
	mk, err := rsaenc.LoadPrivateKey(filepath.Join(dir, MerchantKeyFile))
	if err != nil {
		return fmt.Errorf("wxpaytest: %w", err)
	}
	var platform []PlatformKey
	for serial := range fc.Certs {
		if serial == "" || filepath.Base(serial) != serial {
			return fmt.Errorf("wxpaytest: %s names a bad serial %q", ConfigFile, serial)
		}
		k, err := rsaenc.LoadPrivateKey(filepath.Join(dir, serial+platformKeySuffix))
		if err != nil {
			return fmt.Errorf("wxpaytest: %w", err)
		}
		platform = append(platform, PlatformKey{Serial: serial, Key: k})
	}
	// The map has no order: sign with the public-key id if there is one,
	// else with the first serial in lexical order, every time.
	sortPlatform(platform)
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.started {
		return errors.New("wxpaytest: ReadFiles on a started server")
	}
	s.MchID, s.MerchantSerial, s.MerchantKey = fc.MchID, fc.Serial, mk
	s.Platform = platform
	s.APIv3Key = fc.APIv3Key
	s.ready = false
	return nil
}

// sortPlatform puts PUB_KEY_ID_ keys first, then orders by serial.
func sortPlatform(p []PlatformKey) {
	slices.SortFunc(p, func(a, b PlatformKey) int {
		ai, bi := strings.HasPrefix(a.Serial, "PUB_KEY_ID_"), strings.HasPrefix(b.Serial, "PUB_KEY_ID_")
		if ai != bi {
			if ai {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Serial, b.Serial)
	})
}

func writePrivateKey(path string, k *rsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return fmt.Errorf("wxpaytest: encode private key for %s: %w", filepath.Base(path), err)
	}
	return writeFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// writeFile writes data to path with mode 0600, also when the file exists
// with a wider mode.
func writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("wxpaytest: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("wxpaytest: %w", err)
	}
	return nil
}
