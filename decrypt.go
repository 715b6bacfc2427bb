package wxpay

// This file is DecryptResponse: the sensitive fields of an answer, which
// WeChat Pay encrypts with the merchant's public key, decrypted with the
// merchant's private key.

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

// DecryptResponse returns a copy of resp's JSON body in which sensitive
// fields are replaced by their plain text, decrypted with the merchant
// private key (RSA-OAEP; Config.PrivateKey must be an *rsa.PrivateKey).
// WeChat Pay encrypts some fields of its answers (names, ID and bank
// account numbers) with the public key of the merchant's API certificate.
//
// paths name the fields as the encrypt option does, by keys and array
// indexes joined by dots ("legal_representative.legal_representative_name",
// "beneficial_owner.0.beneficial_owner_name"); each must hold a non-empty
// string. With no paths, the fields are those Config.Checker finds
// sensitive in this answer (catalog.Checker: every field the catalogue
// marks that the answer holds, an empty string left as it is); without a
// Checker that is an error, as it is for a Response that no call of this
// client returned.
//
// resp is left as received, its Body the bytes whose signature was
// verified. A field that does not decrypt is an error naming it, and no
// body is returned, so a ciphertext is never taken for plain text. The body
// returned holds personal data: keep it out of logs.
func (c *Client) DecryptResponse(resp *Response, paths ...string) ([]byte, error) {
	if resp == nil {
		return nil, fmt.Errorf("%w: DecryptResponse: nil *Response", ErrInvalidOption)
	}
	if c.merchant == nil {
		return nil, fmt.Errorf("%w: DecryptResponse needs Config.PrivateKey to be an *rsa.PrivateKey", ErrInvalidConfig)
	}
	if !gjson.ValidBytes(resp.Body) {
		return nil, fmt.Errorf("%w: DecryptResponse: the answer is not JSON", ErrInvalidOption)
	}
	if len(paths) == 0 {
		var err error
		if paths, err = c.responseSensitive(resp); err != nil {
			return nil, err
		}
	}
	fields, err := locateFields(resp.Body, paths, "decrypt") // encrypt.go
	if err != nil {
		return nil, err
	}
	for i := range fields {
		f := &fields[i]
		f.cipher = f.text
		if f.plain, err = rsaenc.Decrypt(c.merchant, f.cipher); err != nil {
			return nil, fmt.Errorf("wxpay: decrypt %q with the merchant private key: %w", f.path, err)
		}
	}
	out := spliceFields(resp.Body, fields, func(f encField) string { return jsonString(f.plain) })
	if err := checkReplaced(out, fields, "decrypt", "plain text", func(f encField) string { return f.plain }); err != nil {
		return nil, err
	}
	return out, nil
}

// responseSensitive returns the paths of the sensitive fields of resp that
// hold a string to decrypt, as the client's Checker finds them.
func (c *Client) responseSensitive(resp *Response) ([]string, error) {
	switch {
	case c.checker == nil:
		return nil, fmt.Errorf("%w: DecryptResponse: name the fields to decrypt, or set Config.Checker (such as catalog.Checker()) to find them", ErrInvalidOption)
	case resp.sent == nil:
		return nil, fmt.Errorf("%w: DecryptResponse: the Response is not the answer to a call of this client; name the fields to decrypt", ErrInvalidOption)
	}
	s := resp.sent
	found, err := c.checker.ResponseSensitive(s.method, s.template, s.target, resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: DecryptResponse: %w", ErrInvalidOption, err)
	}
	paths := make([]string, 0, len(found))
	for _, p := range found {
		if r := gjson.GetBytes(resp.Body, p); r.Type == gjson.String && r.Str == "" {
			continue // nothing was encrypted
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// jsonString returns s as a JSON string, without HTML escaping.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes (invalid UTF-8 as U+FFFD, which checkReplaced then refuses)
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
