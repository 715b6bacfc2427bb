package wxpaytest

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"github.com/wxpay-chain/wxpay/catalog"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

// responseExamples caches the example answer of each operation, compacted,
// with all its sensitive fields, nil when the operation answers no JSON. The catalogue is read-only, so an
// example never changes.
var responseExamples sync.Map // *catalog.Operation -> []byte

func responseExample(op *catalog.Operation) []byte {
	if v, ok := responseExamples.Load(op); ok {
		return v.([]byte)
	}
	var ex []byte
	if op.Response != nil {
		ex = op.Response.Example()
		// The sensitive fields are there even where the description
		// gives no example, so that a client can try decrypting them.
		if sens := op.ResponseSensitive(); len(sens) > 0 {
			ex = fillPaths(ex, op.Response, sens)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, ex); err == nil {
			ex = buf.Bytes()
		}
	}
	responseExamples.Store(op, ex)
	return ex
}

// answer returns the body of the answer to in, a request to op: the example
// of op's response schema (every required field, and the optional ones the
// description gives an example for), with the request's values echoed where
// the answer has a field of the same name in the same place (a body field at
// its path, a query or path parameter at the top level, the path value
// winning), and the sensitive
// fields encrypted with the merchant's public key, as WeChat Pay encrypts
// them. It is nil for an operation that answers no body.
func (s *Server) answer(op *catalog.Operation, in *opRequest) []byte {
	ex := responseExample(op)
	if len(ex) == 0 {
		return nil
	}
	ans := bytes.Clone(ex)
	if op.Response.Type == "object" || len(op.Response.Properties) > 0 {
		if len(in.body) > 0 {
			ans = echoBody(ans, "", op.Response, gjson.ParseBytes(in.body), in.plain)
		}
		ans = echoParams(ans, op.Response, in) // the path names the resource: it wins
	}
	return s.encryptAnswer(op, s.localURLs(ans, in))
}

// echoParams copies the path and query values of in into the top-level
// fields of the same name. A sensitive query value goes only to a sensitive
// field, in plain text until encryptAnswer.
func echoParams(ans []byte, rs *catalog.Schema, in *opRequest) []byte {
	for _, p := range rs.Properties {
		if p.Schema == nil || !plainKey(p.Name) {
			continue
		}
		text, ok := in.values[p.Name]
		if !ok && in.query.Has(p.Name) {
			text, ok = in.query.Get(p.Name), true
			if pt, sensitive := in.plain["query:"+p.Name]; sensitive {
				text, ok = pt, p.Schema.Sensitive()
			}
		}
		if !ok {
			continue
		}
		if raw, fits := textValue(p.Schema, text); fits {
			ans, _ = sjson.SetRawBytes(ans, p.Name, raw)
		}
	}
	return ans
}

// echoBody copies the scalar fields of req, the request body's object at
// prefix, into the fields of the answer at the same path whose schema (in
// rs, the answer's schema there) takes them. It descends into an object only
// where the answer has one, so that no object appears without its required
// fields; arrays are left as the example has them.
func echoBody(ans []byte, prefix string, rs *catalog.Schema, req gjson.Result, plain map[string]string) []byte {
	req.ForEach(func(k, v gjson.Result) bool {
		p := property(rs, k.Str)
		if p == nil || p.Schema == nil || !plainKey(k.Str) {
			return true
		}
		path := prefix + k.Str
		switch {
		case v.IsObject():
			if gjson.GetBytes(ans, path).IsObject() {
				ans = echoBody(ans, path+".", p.Schema, v, plain)
			}
		case v.IsArray():
		default:
			if raw, fits := bodyValue(p.Schema, v, path, plain); fits {
				ans, _ = sjson.SetRawBytes(ans, path, raw)
			}
		}
		return true
	})
	return ans
}

// bodyValue returns the JSON value to echo for the request's field v at
// path into a field of schema s, and whether it fits there. A sensitive
// request field is echoed, decrypted, only into a sensitive field.
func bodyValue(s *catalog.Schema, v gjson.Result, path string, plain map[string]string) ([]byte, bool) {
	if pt, sensitive := plain[path]; sensitive {
		if !s.Sensitive() {
			return nil, false
		}
		return textValue(s, pt)
	}
	switch v.Type {
	case gjson.String:
		if s.Type != "string" && s.Type != "" {
			return nil, false
		}
		return []byte(v.Raw), inEnum(s, v.Str)
	case gjson.Number:
		if s.Type != "integer" && s.Type != "number" && s.Type != "" {
			return nil, false
		}
		return []byte(v.Raw), inEnum(s, v.Raw)
	case gjson.True, gjson.False:
		return []byte(v.Raw), s.Type == "boolean" || s.Type == ""
	}
	return nil, false
}

// textValue returns the JSON value of text, a path or query value or a
// decrypted field, for a field of schema s, and whether it fits there.
func textValue(s *catalog.Schema, text string) ([]byte, bool) {
	switch s.Type {
	case "string", "":
		return marshal(text), inEnum(s, text)
	case "integer", "number":
		if _, err := strconv.ParseInt(text, 10, 64); err != nil {
			return nil, false
		}
		return []byte(text), inEnum(s, text)
	case "boolean":
		return []byte(text), text == "true" || text == "false"
	}
	return nil, false
}

func inEnum(s *catalog.Schema, v string) bool {
	return len(s.Enum) == 0 || oneOf(v, s.Enum)
}

func property(s *catalog.Schema, name string) *catalog.Property {
	for i := range s.Properties {
		if s.Properties[i].Name == name {
			return &s.Properties[i]
		}
	}
	return nil
}

// plainKey reports whether name can be written in a gjson or sjson path as
// it is: letters, digits, '_' and '-'.
func plainKey(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// encryptAnswer replaces each sensitive field of ans by its RSA-OAEP
// encryption under the merchant's public key, which the merchant decrypts
// with its private key. A value longer than the key can encrypt (an example
// that is itself a ciphertext) is cut to fit.
func (s *Server) encryptAnswer(op *catalog.Operation, ans []byte) []byte {
	sens := op.ResponseSensitive()
	if len(sens) == 0 {
		return ans
	}
	pub := &s.MerchantKey.PublicKey
	max := pub.Size() - 2*sha1.Size - 2
	for _, path := range catalog.ExpandPaths(ans, sens) {
		v := gjson.GetBytes(ans, path)
		if v.Type != gjson.String {
			continue
		}
		ct, err := rsaenc.Encrypt(pub, truncate(v.Str, max))
		if err != nil {
			// Only a broken key fails; no plain text goes out as a
			// ciphertext.
			ct = ""
		}
		ans, _ = sjson.SetBytes(ans, path, ct)
	}
	return ans
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// fillPaths returns doc, a JSON value of schema s, with a value at each of
// paths, gjson paths of plain keys where '#' stands for every item of an
// array (as catalog.Operation.Sensitive gives them): what doc lacks on the
// way is added as its schema's example, so an object added has its
// required fields, and an array added has one item.
func fillPaths(doc []byte, s *catalog.Schema, paths []string) []byte {
	for _, p := range paths {
		doc = fillPath(doc, s, strings.Split(p, "."), "")
	}
	return doc
}

func fillPath(doc []byte, s *catalog.Schema, comps []string, at string) []byte {
	if len(comps) == 0 || s == nil {
		return doc
	}
	if comps[0] == "#" {
		if at == "" || !gjson.GetBytes(doc, at).IsArray() {
			return doc
		}
		n := int(gjson.GetBytes(doc, at+".#").Int())
		for i := range n {
			doc = fillPath(doc, s.Items, comps[1:], at+"."+strconv.Itoa(i))
		}
		return doc
	}
	p := property(s, comps[0])
	if p == nil || !plainKey(p.Name) {
		return doc
	}
	path := p.Name
	if at != "" {
		path = at + "." + p.Name
	}
	if !gjson.GetBytes(doc, path).Exists() {
		var err error
		if doc, err = sjson.SetRawBytes(doc, path, p.Schema.Example()); err != nil {
			return doc
		}
	}
	return fillPath(doc, p.Schema, comps[1:], path)
}
