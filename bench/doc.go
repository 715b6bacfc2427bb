// Package bench compares wxpay with the other Go WeChat Pay SDKs.
package bench
