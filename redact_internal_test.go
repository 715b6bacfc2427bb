package wxpay

import "testing"

func TestRedactQuery(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/v3/billdownload/file", "/v3/billdownload/file"},
		{"/v3/billdownload/file?token=SECRET", "/v3/billdownload/file?token=…"},
		{"https://api.mch.weixin.qq.com/v3/billdownload/file?token=SECRET&tartype=gzip", "https://api.mch.weixin.qq.com/v3/billdownload/file?token=…&tartype=…"},
		{"/x?SECRET", "/x?…"},
		{"/x?token=", "/x?token=…"},
		{"/x?", "/x?…"},
		{"/x?a=1&&b=2", "/x?a=…&…&b=…"},
		{"/x?SECRET%3D=1", "/x?…"},
		{"/x?token=a?b=c", "/x?token=…"},
		{"/x?0123456789012345678901234567890123=1", "/x?…"},
	} {
		if got := redactQuery(tc.in); got != tc.want {
			t.Errorf("redactQuery(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
