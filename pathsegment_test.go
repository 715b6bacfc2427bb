package wxpay

import (
	"errors"
	"testing"
)

func TestNormalizeSegment(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v3", "v3"},
		{"V3", "v3"},
		{"WeChatPay", "we-chat-pay"},
		{"applyAbnormalRefund", "apply-abnormal-refund"},
		{"combineTransactions", "combine-transactions"},
		{"complaintsV2", "complaints-v2"},
		{"With_underline", "with_underline"},
		{"applyment4sub", "applyment4sub"},
		{"video_upload", "video_upload"},
		{"apply-abnormal-refund", "apply-abnormal-refund"},
		{"_appid_", "{appid}"},
		{"_refund_id_", "{refund_id}"},
		{"_outTradeNo_", "{outTradeNo}"},
		{"__x__", "{_x_}"},
		{"_x", "_x"},
		{"x_", "x_"},
		{"_", "_"},
		{"$out_trade_no$", "{out_trade_no}"},
		{"{refund_id}", "{refund_id}"},
		{"{+path}", "{+path}"},
		{"{outTradeNo}", "{outTradeNo}"},
		{"<refund_id>", "{refund_id}"},
		{"{id}.jpg", "{id}.jpg"},
		{"out-trade-no", "out-trade-no"},
		{"a%2Fb", "a%2Fb"},
		{"Marketing", "marketing"},
		{"anyDepths", "any-depths"},
		{"ABC", "a-b-c"},
	}
	for _, tt := range tests {
		got, err := NormalizeSegment(tt.in)
		if err != nil {
			t.Errorf("NormalizeSegment(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("NormalizeSegment(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeSegmentErrors(t *testing.T) {
	for _, in := range []string{
		"", ".", "..", "a b", "a?b", "a#b", "退款", "a\x00", "a/b", "%zz", "%4", "{}", "{a", "<a", "__", "$$",
		"%2e%2E", "%2E", ".%2e", "{a-b}", "{json}", "_query_", "{+}", "a\\b", "a\"b",
	} {
		got, err := NormalizeSegment(in)
		if !errors.Is(err, ErrInvalidPath) {
			t.Errorf("NormalizeSegment(%q) = %q, %v; want an ErrInvalidPath", in, got, err)
		}
	}
}

func TestAppendPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund", "v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund"},
		{"/v3/pay/transactions/native", "v3/pay/transactions/native"},
		{"v3/refund/domestic/refunds/_refund_id_/applyAbnormalRefund", "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"},
		{"what_ever_endpoints/with-anyDepths_segments/also/contains/{uri_template}/{blah}/blah/", "what_ever_endpoints/with-any-depths_segments/also/contains/{uri_template}/{blah}/blah/"},
	}
	for _, tt := range tests {
		got, err := appendPath(nil, tt.in, true)
		if err != nil || string(got) != tt.want {
			t.Errorf("appendPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"v3//pay", "v3/../pay", "v3/./pay", "//v3", ""} {
		if got, err := appendPath(nil, in, true); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("appendPath(%q) = %q, %v; want an ErrInvalidPath", in, got, err)
		}
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestExpand(t *testing.T) {
	tests := []struct {
		tmpl string
		opts Opts
		want string
	}{
		{"v3/refund/domestic/refunds/{out_refund_no}", Opts{"out_refund_no": "1217752501201407033233368018"}, "v3/refund/domestic/refunds/1217752501201407033233368018"},
		{"a/{x}", Opts{"x": "a b/c?d#e%f"}, "a/a%20b%2Fc%3Fd%23e%25f"},
		{"a/{x}", Opts{"x": "-._~AZaz09"}, "a/-._~AZaz09"},
		{"a/{x}", Opts{"x": "微信"}, "a/%E5%BE%AE%E4%BF%A1"},
		{"a/{+x}", Opts{"x": "b/c d"}, "a/b/c%20d"},
		{"a/{x}", Opts{"x": 42}, "a/42"},
		{"a/{x}", Opts{"x": int64(-7)}, "a/-7"},
		{"a/{x}", Opts{"x": uint32(9)}, "a/9"},
		{"a/{x}", Opts{"x": stringer("s t")}, "a/s%20t"},
		{"a/{x}/{y}.jpg", Opts{"x": "1", "y": "2"}, "a/1/2.jpg"},
	}
	for _, tt := range tests {
		got, err := expand(nil, tt.tmpl, tt.opts)
		if err != nil || string(got) != tt.want {
			t.Errorf("expand(%q, %v) = %q, %v; want %q", tt.tmpl, tt.opts, got, err, tt.want)
		}
	}
}

func TestExpandErrors(t *testing.T) {
	tests := []struct {
		tmpl string
		opts Opts
		want error
	}{
		{"a/{x}", Opts{}, ErrMissingParam},
		{"a/{x}", Opts{"x": nil}, ErrMissingParam},
		{"a/{x}", Opts{"x": ""}, ErrMissingParam},
		{"a/{x}", Opts{"x": 1.5}, ErrInvalidOption},
		{"a/{x}", Opts{"x": true}, ErrInvalidOption},
		{"a/{x}", Opts{"x": ".."}, ErrInvalidOption},
		{"a/{x}", Opts{"x": "."}, ErrInvalidOption},
		{"a/{+x}", Opts{"x": "b/../c"}, ErrInvalidOption},
		{"a/{+x}", Opts{"x": "/etc"}, ErrInvalidOption},
		{"a/{+x}", Opts{"x": "b//c"}, ErrInvalidOption},
	}
	for _, tt := range tests {
		got, err := expand(nil, tt.tmpl, tt.opts)
		if !errors.Is(err, tt.want) {
			t.Errorf("expand(%q, %v) = %q, %v; want %v", tt.tmpl, tt.opts, got, err, tt.want)
		}
	}
}

// TestEmptySegment: the PHP typings spell a trailing slash as the segment
// _empty_ ($instance->v3->applyment4sub->applyment->_empty_ is
// v3/applyment4sub/applyment/); it ends a path and nothing else.
func TestEmptySegment(t *testing.T) {
	if got, err := NormalizeSegment("_empty_"); got != "" || err != nil {
		t.Errorf("NormalizeSegment(%q) = %q, %v; want \"\", nil", "_empty_", got, err)
	}
	c := &Client{}
	for _, tt := range []struct {
		segs []string
		want string
	}{
		{[]string{"V3", "Applyment4sub", "Applyment", "_empty_"}, "v3/applyment4sub/applyment/"},
		{[]string{"v3/applyment4sub/applyment/_empty_"}, "v3/applyment4sub/applyment/"},
		{[]string{"v3/ecommerce/applyments", "_empty_"}, "v3/ecommerce/applyments/"},
		{[]string{"v3/ecommerce/applyments/", "_empty_"}, "v3/ecommerce/applyments/"},
		{[]string{"v3", "_empty_"}, "v3/"},
		{[]string{"v3", "_Empty_"}, "v3/{Empty}"}, // only the PHP spelling
		{[]string{"v3", "{empty}"}, "v3/{empty}"}, // a placeholder called empty
		{[]string{"v3", "$empty$"}, "v3/{empty}"},
	} {
		if got := c.Chain(tt.segs...); got.Err() != nil || got.String() != tt.want {
			t.Errorf("Chain(%q) = %q, %v; want %q", tt.segs, got.String(), got.Err(), tt.want)
		}
	}
	for _, segs := range [][]string{
		{"_empty_"},        // nothing before the slash
		{"/_empty_"},       // nor here
		{"v3/_empty_/pay"}, // an empty segment inside a path
		{"v3/_empty_/"},    // two slashes
		{"v3", "_empty_/"}, // the same, in two arguments
		{"v3", "_empty_/_empty_"},
	} {
		if got := c.Chain(segs...); !errors.Is(got.Err(), ErrInvalidPath) {
			t.Errorf("Chain(%q) = %q, %v; want an ErrInvalidPath", segs, got.String(), got.Err())
		}
	}
}
