package wxpay

// This file is the body stage of an APIv3 request (do.go): the json and
// body options. The file option, which also makes the body, is read after
// the headers (upload.go).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tidwall/gjson"
)

// setBody reads the json and body options, at most one of them, and never
// for a GET: the json value encoded (or checked, when it is already JSON)
// and sent as application/json, or the raw body as given.
func (p *prepared) setBody(opts Opts) error {
	jv, hasJSON := option(opts, "json")
	bv, hasBody := option(opts, "body")
	if hasJSON && hasBody {
		return fmt.Errorf("%w: give json or body, not both", ErrInvalidOption)
	}
	if (hasJSON || hasBody) && p.method == http.MethodGet {
		return fmt.Errorf("%w: a GET request has no body; put parameters in query", ErrInvalidOption)
	}
	if hasJSON {
		b, err := jsonBody(jv)
		if err != nil {
			return err
		}
		p.body, p.contentType, p.fromJSON = b, "application/json", true
	}
	if hasBody {
		switch b := bv.(type) {
		case []byte:
			p.body = b
		case string:
			p.body = []byte(b)
		default:
			return fmt.Errorf("%w: body is %T, want []byte or string", ErrInvalidOption, bv)
		}
		p.raw = true
	}
	return nil
}

// jsonBody returns the body the json option gives: v encoded, or its bytes
// when v is already JSON. Every WeChat Pay APIv3 request body is a JSON
// object, so a nil value (a nil pointer, map or slice given with its type)
// and anything that is not an object (null, an array, a string...) are
// refused: a signed POST of "null" can only fail, or do harm.
func jsonBody(v any) ([]byte, error) {
	if isTypedNil(v) {
		return nil, fmt.Errorf("%w: json is a nil %T, want a JSON object (leave json out to send no body)", ErrInvalidOption, v)
	}
	var raw []byte
	switch b := v.(type) {
	case []byte:
		raw = b
	case json.RawMessage:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("%w: json: %v", ErrInvalidOption, err)
		}
		raw = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		return raw, checkJSONObject(v, raw)
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("%w: json: the %T given is not valid JSON", ErrInvalidOption, v)
	}
	if err := checkJSONObject(v, raw); err != nil {
		return nil, err
	}
	// Raw JSON may hold a name twice in one object (an encoded map or
	// struct cannot): which value WeChat Pay reads is not certain.
	if k, dup := duplicateKey(gjson.ParseBytes(raw)); dup {
		return nil, fmt.Errorf("%w: json: the %T given has the name %q twice in one object; which value WeChat Pay reads is not certain", ErrInvalidOption, v, k)
	}
	return raw, nil
}

// checkJSONObject refuses valid JSON that is not an object.
func checkJSONObject(v any, raw []byte) error {
	b := bytes.TrimLeft(raw, " \t\r\n")
	if len(b) > 0 && b[0] == '{' {
		return nil
	}
	what := "a number"
	switch {
	case len(b) == 0:
		what = "nothing"
	case b[0] == 'n':
		what = "null"
	case b[0] == '[':
		what = "an array"
	case b[0] == '"':
		what = "a string"
	case b[0] == 't' || b[0] == 'f':
		what = "a boolean"
	}
	return fmt.Errorf("%w: json: the %T given is %s, want a JSON object, as every WeChat Pay APIv3 request body is (send anything else with the body option)", ErrInvalidOption, v, what)
}
