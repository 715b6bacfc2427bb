package wxpay

import (
	"encoding/json"
	"net/http"

	"github.com/tidwall/gjson"
)

// Response is a 2xx answer from WeChat Pay. Its body is the raw JSON exactly
// as received; query it with Get (gjson syntax) or decode it with Unmarshal.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// Verified reports that the response signature was checked and valid.
	// It is false only for the download endpoints WeChat Pay does not sign
	// (bills, statements, ...), whose content is checked by digest instead.
	Verified bool
	// Serial is the platform key serial the response was verified with.
	Serial string
	// Attempts is how many attempts the call took (more than 1 only with a
	// RetryPolicy).
	Attempts int
}

// Get returns the value at path in the JSON body, in gjson path syntax
// ("amount.refund", "promotion_detail.0.promotion_id"). A missing value is
// the zero gjson.Result (check Exists).
func (r *Response) Get(path string) gjson.Result {
	return gjson.GetBytes(r.Body, path)
}

// JSON returns the whole body as a gjson.Result.
func (r *Response) JSON() gjson.Result { return gjson.ParseBytes(r.Body) }

// Unmarshal decodes the JSON body into v with encoding/json.
func (r *Response) Unmarshal(v any) error { return json.Unmarshal(r.Body, v) }

// String returns the body as a string.
func (r *Response) String() string { return string(r.Body) }
