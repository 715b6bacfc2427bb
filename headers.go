package wxpay

// This file is the headers stage of an APIv3 request (do.go): the headers
// option merged over the client's default headers (Config.Headers), the
// Accept header the client adds, and how the headers of every request,
// APIv3, APIv2 or a download, are put on the wire.

import (
	"fmt"
	"net/http"

	"github.com/valyala/fasthttp"
)

// setHeaders reads the headers option (headerList, values.go) and merges
// the client's default headers under it: a default is sent unless the
// option names the same header, in any case. Each header is sent as given,
// every value of it, but a Content-Type replaces the body's; a
// Wechatpay-Serial also names the key the encrypt option encrypts with
// (headerSerial). A raw body must have its Content-Type here.
func (p *prepared) setHeaders(opts Opts, defaults [][2]string) error {
	var own [][2]string
	if hv, ok := option(opts, "headers"); ok {
		hs, err := headerList(hv)
		if err != nil {
			return err
		}
		if err := checkSingleValues(hs); err != nil {
			return err
		}
		for _, h := range hs {
			if http.CanonicalHeaderKey(h[0]) == "Content-Type" {
				p.contentType = h[1]
				continue
			}
			own = append(own, h)
		}
	}
	p.headers = mergeHeaders(defaults, own)
	p.ownAccept = hasHeader(p.headers, "Accept")
	if p.raw && p.contentType == "" {
		return fmt.Errorf("%w: a raw body needs its Content-Type in headers", ErrInvalidOption)
	}
	return nil
}

// mergeHeaders returns the defaults whose names own does not give, in any
// case, followed by own. With no own headers it returns defaults itself,
// capped so that an append copies it.
func mergeHeaders(defaults, own [][2]string) [][2]string {
	if len(own) == 0 {
		return defaults[:len(defaults):len(defaults)]
	}
	if len(defaults) == 0 {
		return own
	}
	out := make([][2]string, 0, len(defaults)+len(own))
	for _, d := range defaults {
		if !hasHeader(own, d[0]) {
			out = append(out, d)
		}
	}
	return append(out, own...)
}

// hasHeader reports whether hs holds a header named name, in any case.
func hasHeader(hs [][2]string, name string) bool {
	name = http.CanonicalHeaderKey(name)
	for _, h := range hs {
		if http.CanonicalHeaderKey(h[0]) == name {
			return true
		}
	}
	return false
}

// singleValued are the headers a request carries once: the body's type, the
// client's name, and the one key encrypted fields are encrypted with.
var singleValued = [...]string{"Content-Type", "User-Agent", "Wechatpay-Serial"}

// checkSingleValues refuses several values for a header of singleValued:
// sending only one of them would silently drop the others; and an empty
// one, which names nothing (an empty Wechatpay-Serial went out next to the
// one the encrypt option adds).
func checkSingleValues(hs [][2]string) error {
	for _, name := range singleValued {
		n := 0
		for _, h := range hs {
			if http.CanonicalHeaderKey(h[0]) == name {
				if h[1] == "" {
					return fmt.Errorf("%w: header %s is empty", ErrInvalidOption, name)
				}
				n++
			}
		}
		if n > 1 {
			return fmt.Errorf("%w: header %s is given %d values; it takes one value", ErrInvalidOption, name, n)
		}
	}
	return nil
}

// defaultHeaders checks Config.Headers and returns its header lines, for
// New. The rules are those of the headers option, and a Content-Type,
// which belongs to a body, is refused.
func defaultHeaders(h http.Header) ([][2]string, error) {
	if len(h) == 0 {
		return nil, nil
	}
	hs, err := headerList(h)
	if err != nil {
		return nil, fmt.Errorf("Headers: %v", err)
	}
	if err := checkSingleValues(hs); err != nil {
		return nil, fmt.Errorf("Headers: %v", err)
	}
	if hasHeader(hs, "Content-Type") {
		return nil, fmt.Errorf("Headers: Content-Type belongs to a body: give it in a call's headers option")
	}
	return hs, nil
}

// putHeaders sets the headers of a request on req: Accept (unless
// ownAccept: headers then hold the caller's), the client's User-Agent, then
// headers in order, each line added, so that a header given several values
// is sent with all of them. With normalizing disabled, a name goes out as
// spelled; fasthttp keeps one User-Agent and one Content-Type whatever
// their case, and the caller's replaces the client's.
func (c *Client) putHeaders(req *fasthttp.Request, accept string, ownAccept bool, headers [][2]string) {
	if !ownAccept {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("User-Agent", c.userAgent)
	for _, h := range headers {
		req.Header.Add(h[0], h[1])
	}
}

// The Accept headers of APIv3 requests. A call answered with JSON asks for
// application/json, as WeChat Pay's API pages say; the files of the unsigned
// download endpoints (bills, media, e-invoices) come as gzip, octet-stream,
// images or PDF, and WeChat Pay's media download page asks for */*. A caller's
// own Accept, in the headers option or Config.Headers, replaces either.
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

// headerSerial returns the Wechatpay-Serial the headers option or
// Config.Headers gave, "" if none.
func (p *prepared) headerSerial() string {
	for _, h := range p.headers {
		if http.CanonicalHeaderKey(h[0]) == "Wechatpay-Serial" {
			return h[1]
		}
	}
	return ""
}
