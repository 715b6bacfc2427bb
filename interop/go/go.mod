module github.com/wxpay-chain/wxpay/interop/go

go 1.26.8

require (
	github.com/wechatpay-apiv3/wechatpay-go v0.2.21
	github.com/wxpay-chain/wxpay v0.0.0
)

require (
	github.com/golang-fips/openssl/v2 v2.0.3 // indirect
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/molecule-man/go-brrr v1.0.1 // indirect
	github.com/tidwall/gjson v1.18.0 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
	github.com/tidwall/sjson v1.2.5 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasthttp v1.74.0 // indirect
)

// The interop checks run against the library in this repository.
replace github.com/wxpay-chain/wxpay => ../..
