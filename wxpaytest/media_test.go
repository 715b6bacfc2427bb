package wxpaytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
)

// upload is a multipart upload to build, with knobs to spoil it.
type upload struct {
	filename string // meta.filename
	data     []byte // the file part
	sha256   string // meta.sha256; if empty, that of data
	noMeta   bool
	noFile   bool
	extra    string // name of an extra part
}

// build returns the body, the meta JSON and the Content-Type.
func (u upload) build(t *testing.T) ([]byte, []byte, string) {
	t.Helper()
	sum := u.sha256
	if sum == "" {
		h := sha256.Sum256(u.data)
		sum = hex.EncodeToString(h[:])
	}
	meta, _ := json.Marshal(map[string]string{"filename": u.filename, "sha256": sum})
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if !u.noMeta {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="meta"`)
		h.Set("Content-Type", "application/json")
		w, _ := mw.CreatePart(h)
		w.Write(meta)
	}
	if !u.noFile {
		w, _ := mw.CreateFormFile("file", u.filename)
		w.Write(u.data)
	}
	if u.extra != "" {
		w, _ := mw.CreateFormField(u.extra)
		w.Write([]byte("x"))
	}
	mw.Close()
	return b.Bytes(), meta, mw.FormDataContentType()
}

// send posts u to target, signed over meta unless signWhole.
func (u upload) send(t *testing.T, c *tclient, target string, signWhole bool) *resp {
	t.Helper()
	body, meta, ct := u.build(t)
	q := req{method: http.MethodPost, target: target, body: body, signBody: meta, header: map[string]string{"Content-Type": ct}}
	if signWhole {
		q.signBody = nil
	}
	return c.do(q)
}

func TestUpload(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	img := bytes.Repeat([]byte{0xff, 0xd8}, 500)
	tests := []struct {
		target, filename, field string
	}{
		{"/v3/merchant/media/upload", "a.jpg", "media_id"},
		{"/v3/merchant/media/video_upload", "a.MP4", "media_id"},
		{"/v3/marketing/favor/media/image-upload", "a.png", "media_url"},
		{"/v3/merchant-service/images/upload", "a.bmp", "media_id"},
	}
	for _, tt := range tests {
		r := upload{filename: tt.filename, data: img}.send(t, c, tt.target, false)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", tt.target, r.status, r.body)
		}
		if err := r.verify(s); err != nil {
			t.Errorf("%s: answer not signed: %v", tt.target, err)
		}
		id, _ := r.json(t)[tt.field].(string)
		m, ok := s.Media(id)
		if !ok || !bytes.Equal(m.Data, img) || m.Filename != tt.filename {
			t.Errorf("%s: Media(%q) = %v, %v", tt.target, id, m.Filename, ok)
		}
		if tt.field == "media_url" && !strings.HasPrefix(id, "https://") {
			t.Errorf("media_url = %q", id)
		}
	}
}

func TestUploadErrors(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	img := []byte("not really an image")
	const target = "/v3/merchant/media/upload"
	tests := []struct {
		name      string
		u         upload
		target    string
		signWhole bool
		want      errorSummary
	}{
		{"tampered file", upload{filename: "a.png", data: img, sha256: strings.Repeat("0", 64)}, target, false, errorSummary{400, CodeParamError, "meta.sha256", "body"}},
		{"signed over the whole body", upload{filename: "a.png", data: img}, target, true, errorSummary{401, CodeSignError, "", ""}},
		{"bad extension", upload{filename: "a.gif", data: img}, target, false, errorSummary{400, CodeParamError, "meta.filename", "body"}},
		{"video to the image API", upload{filename: "a.mp4", data: img}, target, false, errorSummary{400, CodeParamError, "meta.filename", "body"}},
		{"image too large", upload{filename: "a.png", data: make([]byte, 2<<20+1)}, target, false, errorSummary{400, CodeInvalidRequest, "", ""}},
		{"no meta", upload{filename: "a.png", data: img, noMeta: true}, target, false, errorSummary{400, CodeParamError, "meta", "body"}},
		{"no file", upload{filename: "a.png", data: img, noFile: true}, target, false, errorSummary{400, CodeParamError, "file", "body"}},
		{"extra part", upload{filename: "a.png", data: img, extra: "other"}, target, false, errorSummary{400, CodeParamError, "other", "body"}},
	}
	for _, tt := range tests {
		if got := tt.u.send(t, c, tt.target, tt.signWhole).summary(t); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	// Not multipart.
	r := c.post(target, map[string]string{"filename": "a.png"})
	if got := r.summary(t); got.Code != CodeInvalidRequest {
		t.Errorf("JSON body: %+v", got)
	}
	// A GET is not allowed.
	if r := c.get(target); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", r.status)
	}
}
