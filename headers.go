package wxpay

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
