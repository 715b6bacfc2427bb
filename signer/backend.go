package signer

import "github.com/wxpay-chain/wxpay/internal/rsabackend"

// Backend returns the name of the RSA implementation that signs with
// *rsa.PrivateKey keys and checks signatures in package verifier: "openssl"
// when the program is built with cgo and OpenSSL's libcrypto (1.0.2, 1.1 or
// 3) is loaded at run time, else "go" (crypto/rsa). Both make identical
// signatures; OpenSSL is faster.
//
// The WXPAY_CRYPTO environment variable, read at start-up, selects it: "auto"
// (the default) uses OpenSSL when it can be loaded, "go" always uses
// crypto/rsa, and "openssl" requires OpenSSL, making New fail with the
// reason when it cannot be loaded. Keys that are not *rsa.PrivateKey values,
// such as HSM handles, sign through their own Sign method whatever the
// backend.
func Backend() string { return rsabackend.Name() }
