package wxpay

// This file is the headers stage of an APIv3 request (do.go): the headers
// option, and the Accept header the client adds.

import (
	"fmt"
	"net/http"
)

// setHeaders reads the headers option (headerList, values.go). Each header
// is sent as given, but a Content-Type replaces the body's; a
// Wechatpay-Serial also names the key the encrypt option encrypts with
// (headerSerial). A raw body must have its Content-Type here.
func (p *prepared) setHeaders(opts Opts) error {
	if hv, ok := option(opts, "headers"); ok {
		hs, err := headerList(hv)
		if err != nil {
			return err
		}
		for _, h := range hs {
			if http.CanonicalHeaderKey(h[0]) == "Content-Type" {
				p.contentType = h[1]
				continue
			}
			p.headers = append(p.headers, h)
		}
	}
	if p.raw && p.contentType == "" {
		return fmt.Errorf("%w: a raw body needs its Content-Type in headers", ErrInvalidOption)
	}
	return nil
}

// The Accept headers of APIv3 requests. A call answered with JSON asks for
// application/json, as WeChat Pay's API pages say; the files of the unsigned
// download endpoints (bills, media, e-invoices) come as gzip, octet-stream,
// images or PDF, and WeChat Pay's media download page asks for */*. A caller's
// own Accept in the headers option replaces either.
const (
	acceptJSON = "application/json"
	acceptFile = "*/*"
)

// accept returns the Accept header of an APIv3 request of method to path.
func accept(method, path string) string {
	if unsigned(method, path) {
		return acceptFile
	}
	return acceptJSON
}

// headerSerial returns the Wechatpay-Serial the headers option gave (the
// last one, if several), "" if none.
func (p *prepared) headerSerial() string {
	serial := ""
	for _, h := range p.headers {
		if http.CanonicalHeaderKey(h[0]) == "Wechatpay-Serial" {
			serial = h[1]
		}
	}
	return serial
}
