package rsabackend

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/fips140"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// testKey returns the fixed test key in testdata/key.pem.
func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile("testdata/key.pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("testdata/key.pem: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

type vector struct {
	name string
	msg  []byte
	sig  []byte
}

// goldenVectors reads testdata/golden.txt, made by gen-golden.sh with the
// openssl command-line tool.
func goldenVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open("testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			t.Fatalf("golden.txt: malformed line %q", sc.Text())
		}
		var msg []byte
		if fs[1] != "-" {
			if msg, err = hex.DecodeString(fs[1]); err != nil {
				t.Fatal(err)
			}
		}
		sig, err := base64.StdEncoding.DecodeString(fs[2])
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, vector{fs[0], msg, sig})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 5 {
		t.Fatalf("golden.txt: only %d vectors", len(vs))
	}
	return vs
}

// backends returns the backends usable here: always "go", and "openssl"
// when it loads.
func backends(t testing.TB) []string {
	if err := Available(); err != nil {
		t.Logf("testing only the go backend: %v", err)
		return []string{Go}
	}
	return []string{Go, OpenSSL}
}

// use switches to backend name for the rest of the test.
func use(t testing.TB, name string) {
	t.Helper()
	prev := Name()
	prevForced := forced.Load()
	if err := Use(name); err != nil {
		t.Fatal(err)
	}
	if got := Name(); name != Auto && got != name {
		t.Fatalf("after Use(%q), Name() = %q", name, got)
	}
	t.Cleanup(func() {
		if prevForced || prev == Go {
			_ = Use(prev)
		} else {
			_ = Use(Auto)
		}
	})
}

// Description names the backend in use: crypto/rsa for go, and for
// openssl the library's version and FIPS mode, which the bench's machine
// line and `wxpay` report.
func TestDescription(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be, func(t *testing.T) {
			use(t, be)
			d := Description()
			want := Go + " (crypto/rsa"
			if be == OpenSSL {
				want = OpenSSL + " (OpenSSL "
			}
			if !strings.HasPrefix(d, want) {
				t.Errorf("Description() = %q, want it to start with %q", d, want)
			}
			if be == OpenSSL && !strings.Contains(d, "FIPS mode ") {
				t.Errorf("Description() = %q, want the FIPS mode", d)
			}
		})
	}
}

func TestGolden(t *testing.T) {
	priv := testKey(t)
	vs := goldenVectors(t)
	pemPub, err := os.ReadFile("testdata/pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemPub)
	if blk == nil {
		t.Fatal("testdata/pub.pem: no PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.PublicKey.Equal(pub) {
		t.Fatal("testdata/pub.pem is not the public half of testdata/key.pem")
	}
	for _, be := range backends(t) {
		t.Run(be, func(t *testing.T) {
			use(t, be)
			k, err := NewSigningKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			if k.Backend() != be {
				t.Fatalf("key backend %q, want %q", k.Backend(), be)
			}
			for _, v := range vs {
				d := sha256.Sum256(v.msg)
				sig, err := k.SignSHA256(d[:])
				if err != nil {
					t.Fatalf("%s: SignSHA256: %v", v.name, err)
				}
				if !bytes.Equal(sig, v.sig) {
					t.Errorf("%s: SignSHA256 = %x, want %x", v.name, sig, v.sig)
				}
				sig, err = k.SignMessage(v.msg)
				if err != nil {
					t.Fatalf("%s: SignMessage: %v", v.name, err)
				}
				if !bytes.Equal(sig, v.sig) {
					t.Errorf("%s: SignMessage = %x, want %x", v.name, sig, v.sig)
				}
				if err := VerifySHA256(&priv.PublicKey, d[:], v.sig); err != nil {
					t.Errorf("%s: VerifySHA256: %v", v.name, err)
				}
			}
		})
	}
}

// TestCrossVerify signs under each backend and verifies under every backend
// and with crypto/rsa directly.
func TestCrossVerify(t *testing.T) {
	priv := testKey(t)
	bes := backends(t)
	msgs := [][]byte{nil, []byte("x"), bytes.Repeat([]byte("wxpay"), 1000)}
	for _, signer := range bes {
		for _, verifier := range bes {
			t.Run(signer+"-"+verifier, func(t *testing.T) {
				use(t, signer)
				k, err := NewSigningKey(priv)
				if err != nil {
					t.Fatal(err)
				}
				var sigs [][]byte
				for _, m := range msgs {
					d := sha256.Sum256(m)
					sig, err := k.SignSHA256(d[:])
					if err != nil {
						t.Fatal(err)
					}
					sigs = append(sigs, sig)
				}
				use(t, verifier)
				for i, m := range msgs {
					d := sha256.Sum256(m)
					if err := VerifySHA256(&priv.PublicKey, d[:], sigs[i]); err != nil {
						t.Errorf("message %d: %v", i, err)
					}
					if err := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, d[:], sigs[i]); err != nil {
						t.Errorf("message %d: crypto/rsa: %v", i, err)
					}
				}
			})
		}
	}
}

func TestRejects(t *testing.T) {
	priv := testKey(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n")
	d := sha256.Sum256(msg)
	good, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	tamperedMsg := sha256.Sum256(append([]byte{}, msg[:len(msg)-1]...))
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		return c
	}
	nBytes := priv.N.FillBytes(make([]byte, priv.Size()))
	cases := []struct {
		name   string
		pub    *rsa.PublicKey
		digest []byte
		sig    []byte
	}{
		{"tampered message", &priv.PublicKey, tamperedMsg[:], good},
		{"flipped digest bit", &priv.PublicKey, flip(d[:], 31), good},
		{"flipped first sig bit", &priv.PublicKey, d[:], flip(good, 0)},
		{"flipped middle sig bit", &priv.PublicKey, d[:], flip(good, 128)},
		{"flipped last sig bit", &priv.PublicKey, d[:], flip(good, len(good)-1)},
		{"truncated sig", &priv.PublicKey, d[:], good[:len(good)-1]},
		{"sig with leading zero", &priv.PublicKey, d[:], append([]byte{0}, good...)},
		{"sig with trailing byte", &priv.PublicKey, d[:], append(bytes.Clone(good), 0)},
		{"empty sig", &priv.PublicKey, d[:], nil},
		{"zero sig", &priv.PublicKey, d[:], make([]byte, len(good))},
		{"sig equal to modulus", &priv.PublicKey, d[:], nBytes},
		{"sig all ones", &priv.PublicKey, d[:], bytes.Repeat([]byte{0xff}, len(good))},
		{"short digest", &priv.PublicKey, d[:31], good},
		{"long digest", &priv.PublicKey, append(bytes.Clone(d[:]), 0), good},
		{"empty digest", &priv.PublicKey, nil, good},
		{"wrong key", &other.PublicKey, d[:], good},
	}
	for _, be := range backends(t) {
		t.Run(be, func(t *testing.T) {
			use(t, be)
			if err := VerifySHA256(&priv.PublicKey, d[:], good); err != nil {
				t.Fatalf("good signature: %v", err)
			}
			for _, c := range cases {
				err := VerifySHA256(c.pub, c.digest, c.sig)
				if err == nil {
					t.Errorf("%s: accepted", c.name)
				} else if !errors.Is(err, rsa.ErrVerification) {
					t.Errorf("%s: error %v, want rsa.ErrVerification", c.name, err)
				}
				if rsa.VerifyPKCS1v15(c.pub, crypto.SHA256, c.digest, c.sig) == nil {
					t.Errorf("%s: crypto/rsa accepts it", c.name)
				}
			}
			if err := VerifySHA256(nil, d[:], good); err == nil {
				t.Error("nil key accepted")
			}
			k, err := NewSigningKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{0, 31, 33} {
				if _, err := k.SignSHA256(make([]byte, n)); err == nil {
					t.Errorf("SignSHA256 of a %d-byte digest: no error", n)
				}
			}
		})
	}
}

func TestUse(t *testing.T) {
	use(t, Go)
	if err := Use("boring"); err == nil {
		t.Error("Use(boring): no error")
	}
	if Name() != Go {
		t.Errorf("failed Use changed the backend to %q", Name())
	}
	if err := Available(); err != nil {
		err2 := Use(OpenSSL)
		if err2 == nil {
			t.Fatal("Use(openssl) succeeded with OpenSSL unavailable")
		}
		t.Logf("Use(openssl): %v", err2)
		if Name() != Go {
			t.Errorf("failed Use changed the backend to %q", Name())
		}
		return
	}
	if err := Use(OpenSSL); err != nil {
		t.Fatal(err)
	}
	if Name() != OpenSSL {
		t.Errorf("Name() = %q after Use(openssl)", Name())
	}
	// A key made under one backend follows a switch to the other.
	k, err := NewSigningKey(testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := Use(Go); err != nil {
		t.Fatal(err)
	}
	if k.Backend() != Go {
		t.Errorf("key backend %q after Use(go)", k.Backend())
	}
	if err := Use(Auto); err != nil {
		t.Fatal(err)
	}
	if k.Backend() != Name() {
		t.Errorf("key backend %q, package backend %q", k.Backend(), Name())
	}
}

// TestEnv runs the test binary again with WXPAY_CRYPTO set, to check the
// setting read at init.
func TestEnv(t *testing.T) {
	if os.Getenv("RSABACKEND_ENV_CHILD") != "" {
		t.Skip("child")
	}
	if testing.Short() {
		t.Skip("short")
	}
	avail := Available() == nil
	auto := Go
	if avail && !(fips140.Enabled() && !opensslFIPS()) {
		auto = OpenSSL
	}
	cases := []struct {
		env      string
		wantName string
		wantErr  bool // NewSigningKey fails
	}{
		{"go", Go, false},
		{"auto", auto, false},
		{"", auto, false},
		{"openssl", map[bool]string{true: OpenSSL, false: Go}[avail], !avail},
		{"boring", Go, true},
	}
	for _, c := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvChild$", "-test.v")
		cmd.Env = append(os.Environ(), "RSABACKEND_ENV_CHILD=1", EnvVar+"="+c.env)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s=%q: %v\n%s", EnvVar, c.env, err, out)
		}
		want := "name=" + c.wantName + " keyerr=" + map[bool]string{true: "yes", false: "no"}[c.wantErr]
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("%s=%q: output does not contain %q:\n%s", EnvVar, c.env, want, out)
		}
	}
}

func TestEnvChild(t *testing.T) {
	if os.Getenv("RSABACKEND_ENV_CHILD") == "" {
		t.Skip("run by TestEnv")
	}
	_, err := NewSigningKey(testKey(t))
	keyErr := "no"
	if err != nil {
		keyErr = "yes"
		t.Logf("NewSigningKey: %v", err)
	}
	// Verification works whatever the setting.
	priv := testKey(t)
	v := goldenVectors(t)[0]
	d := sha256.Sum256(v.msg)
	if err := VerifySHA256(&priv.PublicKey, d[:], v.sig); err != nil {
		t.Errorf("VerifySHA256: %v", err)
	}
	t.Logf("name=%s keyerr=%s", Name(), keyErr)
}

// TestMultiPrime checks that a key OpenSSL is not given is signed with Go.
func TestMultiPrime(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	//lint:ignore SA1019 a multi-prime key is what is being tested
	priv, err := rsa.GenerateMultiPrimeKey(rand.Reader, 3, 2048)
	if err != nil {
		t.Skipf("cannot make a 3-prime key: %v", err)
	}
	if err := Available(); err == nil {
		use(t, Auto)
	}
	k, err := NewSigningKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if k.Backend() != Go {
		t.Errorf("3-prime key signs with %s", k.Backend())
	}
	d := sha256.Sum256([]byte("m"))
	sig, err := k.SignSHA256(d[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifySHA256(&priv.PublicKey, d[:], sig); err != nil {
		t.Fatal(err)
	}
	if Available() == nil {
		use(t, OpenSSL)
		if _, err := NewSigningKey(priv); err == nil {
			t.Error("forced openssl accepted a 3-prime key")
		}
	}
}

// TestPubCache fills the public-key cache past its bound.
func TestPubCache(t *testing.T) {
	if Available() != nil {
		t.Skip("openssl unavailable")
	}
	use(t, OpenSSL)
	priv := testKey(t)
	v := goldenVectors(t)[1]
	d := sha256.Sum256(v.msg)
	for i := range pubCacheSize * 2 {
		// Same modulus, other exponents: distinct cache entries.
		pub := &rsa.PublicKey{N: priv.N, E: 3 + 2*i}
		if pub.E == priv.E {
			continue
		}
		if err := VerifySHA256(pub, d[:], v.sig); err == nil {
			t.Fatalf("signature verifies under exponent %d", pub.E)
		}
		if n := pubCacheLen(); n > pubCacheSize {
			t.Fatalf("cache holds %d keys, bound %d", n, pubCacheSize)
		}
		// A fresh copy of the real key still verifies.
		real := &rsa.PublicKey{N: new(big.Int).Set(priv.N), E: priv.E}
		if err := VerifySHA256(real, d[:], v.sig); err != nil {
			t.Fatal(err)
		}
	}
	if n := pubCacheLen(); n != pubCacheSize {
		t.Errorf("cache holds %d keys, want %d", n, pubCacheSize)
	}
}

// TestConcurrent signs and verifies from many goroutines while the backend
// switches; run it with -race.
func TestConcurrent(t *testing.T) {
	priv := testKey(t)
	vs := goldenVectors(t)
	bes := backends(t)
	use(t, bes[len(bes)-1])
	k, err := NewSigningKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	others := make([]*rsa.PublicKey, 4)
	for i := range others {
		others[i] = &rsa.PublicKey{N: priv.N, E: 3 + 2*i}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := Use(bes[i%len(bes)]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var workers sync.WaitGroup
	for g := range 8 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range 20 {
				v := vs[(g+i)%len(vs)]
				d := sha256.Sum256(v.msg)
				sig, err := k.SignSHA256(d[:])
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(sig, v.sig) {
					t.Errorf("%s: wrong signature", v.name)
				}
				if err := VerifySHA256(&priv.PublicKey, d[:], sig); err != nil {
					t.Error(err)
				}
				if VerifySHA256(others[i%len(others)], d[:], sig) == nil {
					t.Error("verified under a wrong exponent")
				}
			}
		}()
	}
	workers.Wait()
	close(stop)
	wg.Wait()
}
