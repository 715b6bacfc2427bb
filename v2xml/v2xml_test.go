package v2xml

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The example of WeChat Pay's APIv2 signing guide.
var (
	docParams = map[string]string{
		"appid":       "wxd930ea5d5a258f4f",
		"mch_id":      "10000100",
		"device_info": "1000",
		"body":        "test",
		"nonce_str":   "ibuaiVcKdpRxkhJA",
	}
	docSecret = "192006250b4c09247ec02edce69f6a2d"
)

// Golden signs, computed apart from this package:
//
//	printf '%s' 'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d' | openssl dgst -md5
//	printf '%s' '...same...' | openssl dgst -sha256 -hmac 192006250b4c09247ec02edce69f6a2d
const (
	goldenMessage = "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d"
	goldenMD5     = "9A0A8659F005D6984697E2CA0A9CF3B7"
	goldenHMAC    = "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
)

func TestAppendMessage(t *testing.T) {
	m := clone(docParams)
	m["sign"] = "ignored"
	m["attach"] = "" // empty values are left out
	if got := string(AppendMessage(nil, m, docSecret)); got != goldenMessage {
		t.Errorf("AppendMessage = %q, want %q", got, goldenMessage)
	}
}

func TestSignGolden(t *testing.T) {
	for _, tc := range []struct{ typ, want string }{
		{"", goldenMD5},
		{MD5, goldenMD5},
		{HMACSHA256, goldenHMAC},
	} {
		got, err := Sign(docParams, tc.typ, docSecret)
		if err != nil || got != tc.want {
			t.Errorf("Sign(%q) = %q, %v; want %q", tc.typ, got, err, tc.want)
		}
	}
	if _, err := Sign(docParams, "SHA1", docSecret); !errors.Is(err, ErrSignType) {
		t.Errorf("Sign(SHA1) error = %v, want ErrSignType", err)
	}
}

func TestVerify(t *testing.T) {
	with := func(sign string) map[string]string {
		m := clone(docParams)
		m["sign"] = sign
		return m
	}
	for _, tc := range []struct {
		name string
		m    map[string]string
		typ  string
		want error
	}{
		{"md5 by length", with(goldenMD5), "", nil},
		{"hmac by length", with(goldenHMAC), "", nil},
		{"lower case", with(strings.ToLower(goldenHMAC)), "", nil},
		{"md5 named", with(goldenMD5), MD5, nil},
		{"hmac named", with(goldenHMAC), HMACSHA256, nil},
		{"md5 where hmac named", with(goldenMD5), HMACSHA256, ErrBadSign},
		{"flipped digit", with("8" + goldenMD5[1:]), "", ErrBadSign},
		{"not hex", with(strings.Repeat("Z", 32)), "", ErrBadSign},
		{"no sign", clone(docParams), "", ErrNoSign},
		{"empty sign", with(""), "", ErrNoSign},
		{"unknown type", with(goldenMD5), "RSA", ErrSignType},
	} {
		err := Verify(tc.m, tc.typ, docSecret)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}
	m := with(goldenMD5)
	m["body"] = "tampered"
	if err := Verify(m, "", docSecret); !errors.Is(err, ErrBadSign) {
		t.Errorf("tampered value: Verify = %v, want ErrBadSign", err)
	}
	if err := Verify(with(goldenMD5), "", "another key"); !errors.Is(err, ErrBadSign) {
		t.Errorf("other key: Verify = %v, want ErrBadSign", err)
	}
}

func TestEncode(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    map[string]string
		want string
	}{
		{"empty", map[string]string{}, "<xml></xml>"},
		{"sorted, digits plain", map[string]string{"total_fee": "1", "body": "test", "attach": ""},
			"<xml><attach></attach><body><![CDATA[test]]></body><total_fee>1</total_fee></xml>"},
		{"markup in CDATA", map[string]string{"a": `<b>&"'`}, `<xml><a><![CDATA[<b>&"']]></a></xml>`},
		{"]]> split", map[string]string{"a": "x]]>y"}, "<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a></xml>"},
		{"two ]]>", map[string]string{"a": "]]>]]>"}, "<xml><a><![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]></a></xml>"},
		{"carriage return escaped", map[string]string{"a": "x\r\n<"}, "<xml><a>x&#xD;&#xA;&lt;</a></xml>"},
		{"unicode", map[string]string{"body": "腾讯充值中心-QQ会员充值"}, "<xml><body><![CDATA[腾讯充值中心-QQ会员充值]]></body></xml>"},
	} {
		got, err := Encode(tc.m)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: Encode = %q, %v; want %q", tc.name, got, err, tc.want)
			continue
		}
		back, err := Decode(got)
		if err != nil {
			t.Errorf("%s: Decode(Encode) error %v", tc.name, err)
			continue
		}
		if d := cmp.Diff(tc.m, back); d != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", tc.name, d)
		}
	}
}

func TestEncodeInvalid(t *testing.T) {
	for _, m := range []map[string]string{
		{"": "x"},
		{"1a": "x"},
		{"a b": "x"},
		{"a:b": "x"},
		{"<a>": "x"},
		{"a": "\x00"},
		{"a": "\x1b[0m"},
		{"a": "\xff"},
		{"a": "\uFFFE"},
	} {
		if got, err := Encode(m); !errors.Is(err, ErrInvalid) {
			t.Errorf("Encode(%q) = %q, %v; want ErrInvalid", m, got, err)
		}
	}
	if _, err := AppendEncode(nil, "1", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("AppendEncode(root 1) error = %v, want ErrInvalid", err)
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want map[string]string
	}{
		{"answer", `<xml><return_code><![CDATA[SUCCESS]]></return_code>
   <return_msg><![CDATA[OK]]></return_msg>
   <refund_fee>1</refund_fee>
</xml>`, map[string]string{"return_code": "SUCCESS", "return_msg": "OK", "refund_fee": "1"}},
		{"declaration, comments, BOM-less", `<?xml version="1.0" encoding="UTF-8"?><!-- c --><xml><a>1<!-- in -->2</a></xml><!-- after -->` + "\n",
			map[string]string{"a": "12"}},
		{"entities and references", `<xml><a>&lt;&amp;&gt;&quot;&apos;&#20013;&#x6587;</a></xml>`, map[string]string{"a": `<&>"'中文`}},
		{"split CDATA", `<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a></xml>`, map[string]string{"a": "x]]>y"}},
		{"attributes ignored, empty", `<xml><a k="v"/><b></b></xml>`, map[string]string{"a": "", "b": ""}},
		{"other root", `<root><out_refund_no>1</out_refund_no></root>`, map[string]string{"out_refund_no": "1"}},
		{"empty root", `<xml/>`, map[string]string{}},
	} {
		got, err := Decode([]byte(tc.doc))
		if err != nil {
			t.Errorf("%s: Decode error %v", tc.name, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s: Decode (-want +got):\n%s", tc.name, d)
		}
	}
}

// billionLaughs would expand to 10^9 "lol"s in a parser that expands
// internal entities.
const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><return_code>&lol9;</return_code></xml>`

const externalEntity = `<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><return_code>&xxe;</return_code></xml>`

func TestDecodeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want error
	}{
		{"billion laughs", billionLaughs, ErrDeclaration},
		{"external entity", externalEntity, ErrDeclaration},
		{"bare doctype", `<!DOCTYPE xml><xml></xml>`, ErrDeclaration},
		{"doctype after root", `<xml></xml><!DOCTYPE xml>`, ErrDeclaration},
		{"undeclared entity", `<xml><a>&xxe;</a></xml>`, ErrMalformed},
		{"nested", `<xml><a><b>1</b></a></xml>`, ErrMalformed},
		{"duplicate key", `<xml><a>1</a><a>2</a></xml>`, ErrMalformed},
		{"text in root", `<xml>x<a>1</a></xml>`, ErrMalformed},
		{"two roots", `<xml></xml><xml></xml>`, ErrMalformed},
		{"text after root", `<xml></xml>x`, ErrMalformed},
		{"unclosed", `<xml><a>1</a>`, ErrMalformed},
		{"mismatched", `<xml><a>1</b></xml>`, ErrMalformed},
		{"empty", ``, ErrMalformed},
		{"not xml", `{"code":"SYSTEM_ERROR"}`, ErrMalformed},
		{"gbk", `<?xml version="1.0" encoding="GBK"?><xml></xml>`, ErrMalformed},
		{"late declaration", `<xml></xml><?xml version="1.0"?>`, ErrMalformed},
		{"processing instruction", `<xml><?php echo 1 ?></xml>`, ErrMalformed},
		{"namespace", `<xml><a:b xmlns:a="u">1</a:b></xml>`, ErrMalformed},
		{"invalid utf-8", "<xml><a>\xff</a></xml>", ErrMalformed},
		{"too large", "<xml><a>" + strings.Repeat("x", MaxSize) + "</a></xml>", ErrTooLarge},
	} {
		m, err := Decode([]byte(tc.doc))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Decode = %v, %v; want %v", tc.name, m, err, tc.want)
		}
		if m != nil {
			t.Errorf("%s: Decode returned a map with the error", tc.name)
		}
	}
}

// Golden req_info, encrypted apart from this package:
//
//	K=$(printf '%s' d96eb16afdd491fa1e705096edbc2205 | xxd -p -c 64)  # md5 of docSecret, as ASCII
//	printf '%s' '<root><out_refund_no><![CDATA[R20240101]]></out_refund_no><refund_fee>88</refund_fee><refund_status><![CDATA[SUCCESS]]></refund_status></root>' |
//		openssl enc -aes-256-ecb -K $K -nosalt | base64 -w0
const goldenReqInfo = "WBzGpzQuNpcFxIlFjUUD9BfnwwNUlVAs7bwvgHME4/Tv+vFNRpKVQoAa8XuDBwiUMdRxTtpTbL3BoVDCPCeLJP4h0ajcqSCl7aoJoH5ie2z77Y+KN7WM+3eL9CsA/Df7+w2pDxBn9CoYbsvsW3brM4lPwooa0hCFCT9qpStv1qyPcuk0XIOQ+7vHxtwravwW"

func TestDecryptReqInfoGolden(t *testing.T) {
	got, err := DecryptReqInfo(goldenReqInfo, docSecret)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"out_refund_no": "R20240101", "refund_fee": "88", "refund_status": "SUCCESS"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("DecryptReqInfo (-want +got):\n%s", d)
	}
	// EncryptReqInfo writes the same document, so the same ciphertext.
	enc, err := EncryptReqInfo(want, docSecret)
	if err != nil || enc != goldenReqInfo {
		t.Errorf("EncryptReqInfo = %q, %v; want the golden value", enc, err)
	}
}

func TestDecryptReqInfoRefuses(t *testing.T) {
	good, err := EncryptReqInfo(map[string]string{"a": strings.Repeat("x", 15)}, docSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, in, secret string
		want             error
	}{
		{"wrong key", good, "another key", ErrDecrypt},
		{"not base64", "***", docSecret, ErrDecrypt},
		{"empty", "", docSecret, ErrDecrypt},
		{"partial block", "AAAA", docSecret, ErrDecrypt},
		{"truncated", good[:len(good)-24], docSecret, ErrDecrypt},
	} {
		m, err := DecryptReqInfo(tc.in, tc.secret)
		if !errors.Is(err, tc.want) || m != nil {
			t.Errorf("%s: DecryptReqInfo = %v, %v; want %v", tc.name, m, err, tc.want)
		}
	}
	// A well-padded plaintext that is not XML.
	bad, _ := EncryptReqInfo(nil, docSecret)
	if _, err := DecryptReqInfo(bad, docSecret); err != nil {
		t.Errorf("empty <root/>: %v", err)
	}
}

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`<xml><return_code><![CDATA[SUCCESS]]></return_code><a>1</a></xml>`,
		`<?xml version="1.0"?><xml><a>&lt;&#x4e2d;</a></xml>`,
		billionLaughs, externalEntity,
		`<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a></xml>`,
		`<xml><a><b/></a></xml>`, `<xml/>`, ``, `<`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		m, err := Decode(doc)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if bytes.Contains(doc, []byte("<!")) && !bytes.Contains(doc, []byte("<![CDATA[")) && !bytes.Contains(doc, []byte("<!--")) {
			t.Fatalf("accepted a declaration: %q", doc)
		}
		// What decodes re-encodes (when XML can carry it) to the same map.
		enc, err := Encode(m)
		if err != nil {
			return
		}
		back, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(%q)) error %v", m, err)
		}
		if d := cmp.Diff(m, back); d != "" {
			t.Fatalf("round trip (-first +second):\n%s", d)
		}
	})
}
