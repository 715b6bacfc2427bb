module github.com/wxpay-chain/wxpay/bench

go 1.26.8

require github.com/wxpay-chain/wxpay v0.0.0

require (
	github.com/go-pay/gopay v1.5.115 // indirect
	github.com/wechatpay-apiv3/wechatpay-go v0.2.21 // indirect
)

replace github.com/wxpay-chain/wxpay => ../
