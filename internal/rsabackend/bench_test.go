package rsabackend

import (
	"crypto/sha256"
	"testing"
)

// benchMessage is a typical APIv3 request signing message.
var benchMessage = []byte("POST\n/v3/pay/transactions/jsapi\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n" +
	`{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔",` +
	`"out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php",` +
	`"amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}` + "\n")

// benchBackends runs f as a sub-benchmark for each usable backend.
func benchBackends(b *testing.B, f func(b *testing.B)) {
	for _, be := range backends(b) {
		b.Run(be, func(b *testing.B) {
			use(b, be)
			f(b)
		})
	}
}

// BenchmarkSign signs a SHA-256 digest, as signer.Signer does.
func BenchmarkSign(b *testing.B) {
	priv := testKey(b)
	d := sha256.Sum256(benchMessage)
	benchBackends(b, func(b *testing.B) {
		k, err := NewSigningKey(priv)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.SignSHA256(d[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSignMessage hashes and signs a message: for OpenSSL in one call
// (EVP_DigestSign), to compare with hashing in Go and calling SignSHA256.
func BenchmarkSignMessage(b *testing.B) {
	priv := testKey(b)
	benchBackends(b, func(b *testing.B) {
		k, err := NewSigningKey(priv)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("oneshot", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.SignMessage(benchMessage); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("digest", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d := sha256.Sum256(benchMessage)
				if _, err := k.SignSHA256(d[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkSignParallel signs from GOMAXPROCS goroutines with one key.
func BenchmarkSignParallel(b *testing.B) {
	priv := testKey(b)
	d := sha256.Sum256(benchMessage)
	benchBackends(b, func(b *testing.B) {
		k, err := NewSigningKey(priv)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := k.SignSHA256(d[:]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkVerify verifies a signature, as verifier.Verifier does.
func BenchmarkVerify(b *testing.B) {
	priv := testKey(b)
	d := sha256.Sum256(benchMessage)
	k, err := NewSigningKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	sig, err := k.SignSHA256(d[:])
	if err != nil {
		b.Fatal(err)
	}
	benchBackends(b, func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := VerifySHA256(&priv.PublicKey, d[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyUncached builds the OpenSSL public key for every
// verification: what the cache saves.
func BenchmarkVerifyUncached(b *testing.B) {
	if err := Available(); err != nil {
		b.Skip(err)
	}
	priv := testKey(b)
	d := sha256.Sum256(benchMessage)
	k, err := NewSigningKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	sig, err := k.SignSHA256(d[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		np, err := newNativePub(&priv.PublicKey)
		if err != nil {
			b.Fatal(err)
		}
		if err := np.verifySHA256(d[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewSigningKey prepares a key; for OpenSSL this builds the
// library's key object.
func BenchmarkNewSigningKey(b *testing.B) {
	priv := testKey(b)
	for _, be := range backends(b) {
		b.Run(be, func(b *testing.B) {
			use(b, be)
			b.ReportAllocs()
			for b.Loop() {
				k, err := NewSigningKey(priv)
				if err != nil {
					b.Fatal(err)
				}
				if be == OpenSSL {
					if _, err := k.nativeKey(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
