package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/wxpay-chain/wxpay/internal/rsabackend"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/signer"
)

// runChild sets up one client and measures it.
func runChild(name, dir, url string, conc, bodySize int, warm, d time.Duration, emuPID int) (result, error) {
	if dir == "" {
		return result{}, fmt.Errorf("-dir is required")
	}
	k, err := loadKeys(dir)
	if err != nil {
		return result{}, err
	}
	needURL := func() error {
		if url == "" {
			return fmt.Errorf("%s needs -url", name)
		}
		return nil
	}
	var c caller
	switch name {
	case "wxpay-openssl", "wxpay-go":
		want := rsabackend.OpenSSL
		if name == "wxpay-go" {
			want = rsabackend.Go
		}
		// The driver sets WXPAY_CRYPTO; make sure it took.
		if got := signer.Backend(); got != want {
			return result{}, fmt.Errorf("%s: crypto backend is %q (WXPAY_CRYPTO=%s wanted): %s", name, got, want, rsabackend.Description())
		}
		if err = needURL(); err == nil {
			c, err = newWxpay(k, url, bodySize)
		}
	case "wechatpay-go":
		if err = needURL(); err == nil {
			c, err = newWechatpayGo(k, url, bodySize, conc)
		}
	case "gopay":
		if err = needURL(); err == nil {
			c, err = newGopay(k, url, bodySize, conc)
		}
	case "floor-openssl", "floor-go":
		platform, perr := rsaenc.LoadPrivateKey(filepath.Join(dir, k.pubID+".key.pem"))
		if perr != nil {
			return result{}, perr
		}
		backend := rsabackend.OpenSSL
		if name == "floor-go" {
			backend = rsabackend.Go
		}
		c, err = newFloor(backend, k, bodySize, platform)
		emuPID = 0
	default:
		return result{}, fmt.Errorf("unknown client %q (want one of %v)", name, clientNames)
	}
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", name, err)
	}
	r := runLoad(c, conc, warm, d, emuPID)
	r.Client, r.Setup, r.Body = name, c.describe(), bodySize
	return r, nil
}
