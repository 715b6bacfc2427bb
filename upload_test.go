package wxpay_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/wxpaytest"
)

// fakeImage returns n bytes that start like a PNG file.
func fakeImage(n int) []byte {
	b := bytes.Repeat([]byte{0x5a}, n)
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}

func TestUploadByPath(t *testing.T) {
	srv, c := setup(t)
	data := fakeImage(10 << 10)
	path := filepath.Join(t.TempDir(), "logo.png")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Chain("v3/merchant/media/upload").Post(wxpay.Opts{"file": wxpay.File{Path: path}})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Verified {
		t.Errorf("upload answer not verified")
	}
	id := resp.Get("media_id").String()
	m, ok := srv.Media(id)
	if !ok {
		t.Fatalf("the emulator holds no media %q", id)
	}
	if m.Filename != "logo.png" || m.ContentType != "image/png" || !bytes.Equal(m.Data, data) {
		t.Errorf("emulator got %q (%s, %d bytes), want logo.png (image/png, %d bytes)", m.Filename, m.ContentType, len(m.Data), len(data))
	}

	// The request: multipart with meta first, signed over meta (the
	// emulator checked that), meta naming the file's SHA-256.
	r, _ := srv.LastRequest()
	if !r.Authenticated {
		t.Errorf("upload not authenticated")
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type = %q", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "meta" || part.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("first part: %v, name %q", err, part.FormName())
	}
	metaRaw, _ := io.ReadAll(part)
	sum := sha256.Sum256(data)
	if want := `{"filename":"logo.png","sha256":"` + hex.EncodeToString(sum[:]) + `"}`; string(metaRaw) != want {
		t.Errorf("meta = %s, want %s", metaRaw, want)
	}
	part, err = mr.NextPart()
	if err != nil || part.FormName() != "file" || part.FileName() != "logo.png" {
		t.Fatalf("second part: %v", err)
	}
}

func TestUploadByReader(t *testing.T) {
	srv, c := setup(t)
	tests := []struct {
		path, name, field, ctype string
		size                     int
	}{
		{"v3/merchant/media/upload", "a.JPG", "media_id", "image/jpeg", 2 << 20},
		{"v3/merchant/media/video_upload", "clip.mp4", "media_id", "video/mp4", 5 << 20},
		{"v3/marketing/favor/media/image-upload", "coupon.bmp", "media_url", "image/bmp", 1000},
		{"v3/merchant-service/images/upload", "proof \"1\".jpeg", "media_id", "image/jpeg", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			data := fakeImage(tt.size)
			resp, err := c.Chain(tt.path).Post(wxpay.Opts{"file": &wxpay.File{Name: tt.name, Reader: bytes.NewReader(data)}})
			if err != nil {
				t.Fatal(err)
			}
			id := resp.Get(tt.field).String()
			m, ok := srv.Media(id)
			if !ok || !bytes.Equal(m.Data, data) || m.Filename != tt.name || m.ContentType != tt.ctype {
				t.Errorf("%s %q: emulator has %v %q %q %d bytes", tt.field, id, ok, m.Filename, m.ContentType, len(m.Data))
			}
		})
	}
}

// Mistakes are refused before anything is sent.
func TestUploadRefusedBeforeSending(t *testing.T) {
	srv, c := setup(t)
	small := fakeImage(100)
	tests := []struct {
		name string
		path string
		opts wxpay.Opts
	}{
		{"bad extension", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Name: "a.gif", Reader: bytes.NewReader(small)}}},
		{"no extension", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Name: "photo", Reader: bytes.NewReader(small)}}},
		{"video to the image API", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Name: "a.mp4", Reader: bytes.NewReader(small)}}},
		{"image to the video API", "v3/merchant/media/video_upload", wxpay.Opts{"file": wxpay.File{Name: "a.png", Reader: bytes.NewReader(small)}}},
		{"image too large", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Name: "a.png", Reader: bytes.NewReader(fakeImage(2<<20 + 1))}}},
		{"video too large", "v3/merchant/media/video_upload", wxpay.Opts{"file": wxpay.File{Name: "a.mp4", Reader: bytes.NewReader(fakeImage(5<<20 + 1))}}},
		{"empty", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Name: "a.png", Reader: bytes.NewReader(nil)}}},
		{"no such file", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Path: filepath.Join(t.TempDir(), "none.png")}}},
		{"neither path nor reader", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Name: "a.png"}}},
		{"directory in name", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Name: "../a.png", Reader: bytes.NewReader(small)}}},
		{"line break in name", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Name: "a\r\n.png", Reader: bytes.NewReader(small)}}},
		// The meta JSON would name "a\ufffd.png", the file part "a\xff.png".
		{"name not UTF-8", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Name: "a\xff.png", Reader: bytes.NewReader(small)}}},
		{"wrong type", "v3/merchant/media/upload", wxpay.Opts{"file": "a.png"}},
		{"with json", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Name: "a.png", Reader: bytes.NewReader(small)}, "json": `{}`}},
		{"with a Content-Type", "v3/merchant/media/upload", wxpay.Opts{"file": wxpay.File{Name: "a.png", Reader: bytes.NewReader(small)}, "headers": wxpay.Opts{"Content-Type": "image/png"}}},
		{"unknown API, unknown type", "v3/some/upload", wxpay.Opts{"file": wxpay.File{Name: "a.xyz", Reader: bytes.NewReader(small)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.RequestCount()
			_, err := c.Chain(tt.path).Post(tt.opts)
			if !errors.Is(err, wxpay.ErrInvalidOption) {
				t.Errorf("err = %v, want ErrInvalidOption", err)
			}
			if n := srv.RequestCount() - before; n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
		})
	}
	// A large file on disk is refused from its size, before it is read.
	big := filepath.Join(t.TempDir(), "big.png")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 30)
	f.Close()
	_, err = c.Chain("v3/merchant/media/upload").Post(wxpay.Opts{"file": wxpay.File{Path: big}})
	if !errors.Is(err, wxpay.ErrInvalidOption) || !strings.Contains(err.Error(), "1073741824 bytes") {
		t.Errorf("1 GiB image: err = %v", err)
	}
	// GET has no body.
	if _, err := c.Chain("v3/merchant/media/upload").Get(wxpay.Opts{"file": wxpay.File{Name: "a.png", Reader: bytes.NewReader(small)}}); !errors.Is(err, wxpay.ErrInvalidOption) {
		t.Errorf("GET with file: err = %v", err)
	}
}

// A retried upload is signed afresh over the same meta and sends the same
// body.
func TestUploadRetried(t *testing.T) {
	srv, _ := setup(t)
	cfg := srv.Config()
	cfg.Retry = &wxpay.RetryPolicy{MinWait: time.Millisecond, MaxWait: time.Millisecond}
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Inject(wxpaytest.Fault{Kind: wxpaytest.FaultError, PathPrefix: "/v3/merchant/media/"})
	data := fakeImage(1000)
	resp, err := c.Chain("v3/merchant/media/upload").Post(wxpay.Opts{"file": wxpay.File{Name: "a.png", Reader: bytes.NewReader(data)}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Attempts != 2 {
		t.Errorf("Attempts = %d, want 2", resp.Attempts)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || !bytes.Equal(reqs[0].Body, reqs[1].Body) || reqs[0].Header.Get("Authorization") == reqs[1].Header.Get("Authorization") {
		t.Errorf("want two attempts with the same body and fresh signatures")
	}
}

// The emulator refuses a file whose SHA-256 is not the one in meta: here
// one byte of the file is changed on the wire, after the client made meta.
func TestUploadTamperedFileRefused(t *testing.T) {
	srv, _ := setup(t)
	cfg := srv.Config()
	cfg.Transport = &fasthttp.Client{
		DisablePathNormalizing:    true,
		MaxIdemponentCallAttempts: 1,
		Dial: func(addr string) (net.Conn, error) {
			conn, err := fasthttp.Dial(addr)
			if err != nil {
				return nil, err
			}
			return &tamperConn{Conn: conn}, nil
		},
	}
	c, err := wxpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Chain("v3/merchant/media/upload").Post(wxpay.Opts{"file": wxpay.File{Name: "a.png", Reader: bytes.NewReader(fakeImage(1000))}})
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "PARAM_ERROR" || !strings.Contains(apiErr.Message, "sha256") {
		t.Errorf("tampered upload: err = %v, want 400 PARAM_ERROR about meta.sha256", err)
	}
	if r, _ := srv.LastRequest(); !r.Authenticated {
		t.Errorf("the tampered upload should still pass authentication: only meta is signed")
	}
}

// tamperConn changes one byte of the first run of 'Z' (the fake image's
// filler) written to it.
type tamperConn struct {
	net.Conn
	done bool
}

func (c *tamperConn) Write(p []byte) (int, error) {
	if i := bytes.Index(p, []byte("ZZZZZZZZ")); !c.done && i >= 0 {
		q := bytes.Clone(p)
		q[i+4] = 'Y'
		c.done = true
		return c.Conn.Write(q)
	}
	return c.Conn.Write(p)
}

// The file option uploads an image: multipart/form-data, signed over the
// meta JSON.
func ExampleFile() {
	srv := wxpaytest.NewServer()
	defer srv.Close()
	client, _ := wxpay.New(srv.Config())

	resp, err := client.Chain("v3/merchant/media/upload").Post(wxpay.Opts{
		"file": wxpay.File{Name: "logo.png", Reader: bytes.NewReader([]byte("\x89PNG\r\n\x1a\n..."))},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := srv.Media(resp.Get("media_id").String())
	fmt.Println(resp.Verified, m.Filename, m.ContentType)

	_, err = client.Chain("v3/merchant/media/upload").Post(wxpay.Opts{
		"file": wxpay.File{Name: "logo.gif", Reader: bytes.NewReader([]byte("GIF89a"))},
	})
	fmt.Println(err)
	// Output:
	// true logo.png image/png
	// wxpay: invalid option: file: v3/merchant/media/upload takes an image (.jpg, .jpeg, .png, .bmp), not "logo.gif"
}
