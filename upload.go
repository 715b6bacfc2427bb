package wxpay

// This file is the file option of an APIv3 request, the stage after the
// headers (do.go): File, the upload APIs' rules, and the multipart body
// whose meta JSON is signed.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// File is a file to upload with the "file" option, for the media upload
// APIs (v3/merchant/media/upload, v3/merchant/media/video_upload,
// v3/marketing/favor/media/image-upload, v3/merchant-service/images/upload
// and the like):
//
//	resp, err := client.Chain("v3/merchant/media/upload").Post(wxpay.Opts{
//		"file": wxpay.File{Path: "logo.png"},
//	})
//	mediaID := resp.Get("media_id").String()
//
// The request body is multipart/form-data with a "meta" part, the JSON
// {"filename":...,"sha256":...} (the hexadecimal SHA-256 of the file), and a
// "file" part holding the file. As WeChat Pay requires, the request is signed
// over the meta JSON rather than over the whole body.
type File struct {
	// Name is the file name sent in meta and in the file part. Its
	// extension gives the content type and must be one the API accepts
	// (.jpg, .jpeg, .png, .bmp for images; .mp4, .avi, .mov, ... for
	// videos). It must be UTF-8, without a directory or a control
	// character. If empty, the base name of Path is used.
	Name string
	// Path is the file to upload. It is read when the call is made.
	Path string
	// Reader, if set, is read to the end for the content instead of Path.
	// A call reads it once: retries send the same bytes again.
	Reader io.Reader
	// ContentType is the Content-Type of the file part. If empty, it
	// follows the extension of Name.
	ContentType string
}

// Upload size limits WeChat Pay sets, checked before anything is sent.
const (
	// MaxImageUpload is the largest image the image upload APIs accept.
	MaxImageUpload = 2 << 20
	// MaxVideoUpload is the largest video v3/merchant/media/video_upload
	// accepts.
	MaxVideoUpload = 5 << 20
	// MaxUpload bounds a file sent to any other API with the "file"
	// option: the multipart body is built in memory.
	MaxUpload = 10 << 20
)

// uploadContentTypes gives the content type of the extensions WeChat Pay
// accepts for media.
var uploadContentTypes = map[string]string{
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".bmp":  "image/bmp",
	".avi":  "video/x-msvideo",
	".wmv":  "video/x-ms-wmv",
	".mpeg": "video/mpeg",
	".mp4":  "video/mp4",
	".mov":  "video/quicktime",
	".mkv":  "video/x-matroska",
	".flv":  "video/x-flv",
	".f4v":  "video/x-f4v",
	".m4v":  "video/x-m4v",
	".rmvb": "application/vnd.rn-realmedia-vbr",
}

var (
	imageExts = []string{".jpg", ".jpeg", ".png", ".bmp"}
	videoExts = []string{".avi", ".wmv", ".mpeg", ".mp4", ".mov", ".mkv", ".flv", ".f4v", ".m4v", ".rmvb"}
)

// uploadRule is what an upload API accepts.
type uploadRule struct {
	what string
	exts []string
	max  int64
}

// uploadRules are the upload APIs whose limits WeChat Pay documents, by
// path below the base URL.
var uploadRules = map[string]uploadRule{
	"v3/merchant/media/upload":              {"an image", imageExts, MaxImageUpload},
	"v3/merchant/media/video_upload":        {"a video", videoExts, MaxVideoUpload},
	"v3/marketing/favor/media/image-upload": {"an image", imageExts, MaxImageUpload},
	"v3/merchant-service/images/upload":     {"an image", imageExts, MaxImageUpload},
}

// setFile reads the file option, the stage after the headers of an APIv3
// request (do.go): the body becomes multipart/form-data with the file, and
// what is signed is its meta JSON. It takes a POST with neither json, body
// nor a Content-Type header.
func (p *prepared) setFile(opts Opts) error {
	fv, ok := option(opts, "file")
	if !ok {
		return nil
	}
	if p.fromJSON || p.raw || p.method != http.MethodPost || p.contentType != "" {
		return fmt.Errorf("%w: file needs a POST without json, body or a Content-Type header", ErrInvalidOption)
	}
	var err error
	p.body, p.signBody, p.contentType, err = uploadBody(p.pathOnly, fv)
	return err
}

// uploadBody builds the multipart body of the "file" option v for the API
// at path (below the base URL), and returns it with the meta JSON, which is
// what gets signed, and the body's Content-Type. Every check (name,
// extension, size) is made before the file is read in full.
func uploadBody(path string, v any) (body, meta []byte, contentType string, err error) {
	f, err := fileOption(v)
	if err != nil {
		return nil, nil, "", err
	}
	path, _, _ = strings.Cut(path, "?")
	name, ctype, rule, err := checkFile(f, path)
	if err != nil {
		return nil, nil, "", err
	}
	data, err := readFile(f, name, path, rule)
	if err != nil {
		return nil, nil, "", err
	}
	if meta, err = fileMeta(name, data); err != nil {
		return nil, nil, "", err
	}
	body, contentType, err = multipartBody(meta, name, ctype, data)
	if err != nil {
		return nil, nil, "", err
	}
	return body, meta, contentType, nil
}

// badFile reports a problem with the file option.
func badFile(format string, a ...any) error {
	return fmt.Errorf("%w: file: "+format, append([]any{ErrInvalidOption}, a...)...)
}

// fileOption returns the File the file option v holds.
func fileOption(v any) (File, error) {
	switch x := v.(type) {
	case File:
		return x, nil
	case *File:
		if x == nil {
			return File{}, fmt.Errorf("%w: file is a nil *File", ErrInvalidOption)
		}
		return *x, nil
	}
	return File{}, fmt.Errorf("%w: file is %T, want wxpay.File", ErrInvalidOption, v)
}

// checkFile checks the name of f and its extension against what the API
// at path takes, and returns the name, the file part's content type and
// the API's rule.
func checkFile(f File, path string) (name, ctype string, rule uploadRule, err error) {
	name = f.Name
	if name == "" && f.Path != "" {
		name = filepath.Base(f.Path)
	}
	switch {
	case f.Reader == nil && f.Path == "":
		return "", "", rule, badFile("give a Path or a Reader")
	case name == "":
		return "", "", rule, badFile("give a Name")
	case strings.ContainsAny(name, "/\\") || name == "." || name == "..":
		return "", "", rule, badFile("Name %q must be a file name without a directory", name)
	case strings.IndexFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0:
		return "", "", rule, badFile("Name %q holds a control character", name)
	case !utf8.ValidString(name):
		// The meta JSON would carry U+FFFD where the file part has the byte.
		return "", "", rule, badFile("Name %q is not UTF-8", name)
	}
	ext := strings.ToLower(filepath.Ext(name))
	rule, known := uploadRules[path]
	if !known {
		rule = uploadRule{what: "a file", max: MaxUpload}
	}
	if rule.exts != nil && !slices.Contains(rule.exts, ext) {
		return "", "", rule, badFile("%s takes %s (%s), not %q", path, rule.what, strings.Join(rule.exts, ", "), name)
	}
	ctype = f.ContentType
	if ctype == "" {
		ctype = uploadContentTypes[ext]
	}
	if ctype == "" {
		return "", "", rule, badFile("cannot tell the content type of %q: give ContentType", name)
	}
	if strings.ContainsAny(ctype, "\r\n") {
		return "", "", rule, badFile("ContentType holds a line break")
	}
	return name, ctype, rule, nil
}

// readFile reads the content of f, of at most rule.max bytes: a regular
// file larger than that is refused before it is read.
func readFile(f File, name, path string, rule uploadRule) ([]byte, error) {
	src := f.Reader
	if src == nil {
		fh, err := os.Open(f.Path)
		if err != nil {
			return nil, badFile("%v", err)
		}
		defer fh.Close()
		if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > rule.max {
			return nil, badFile("%s is %d bytes; %s takes %s of at most %d bytes (%d MiB)", name, fi.Size(), path, rule.what, rule.max, rule.max>>20)
		}
		src = fh
	}
	data, err := io.ReadAll(io.LimitReader(src, rule.max+1))
	if err != nil {
		return nil, badFile("read %s: %v", name, err)
	}
	if int64(len(data)) > rule.max {
		return nil, badFile("%s is larger than %d bytes; %s takes %s of at most %d MiB", name, rule.max, path, rule.what, rule.max>>20)
	}
	if len(data) == 0 {
		return nil, badFile("%s is empty", name)
	}
	return data, nil
}

// fileMeta returns the meta JSON of an upload: the file name and the
// hexadecimal SHA-256 of data.
func fileMeta(name string, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	var mb bytes.Buffer
	enc := json.NewEncoder(&mb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Filename string `json:"filename"`
		SHA256   string `json:"sha256"`
	}{name, hex.EncodeToString(sum[:])}); err != nil {
		return nil, badFile("%v", err)
	}
	return bytes.TrimSuffix(mb.Bytes(), []byte("\n")), nil
}

// multipartBody returns the multipart/form-data body of an upload, its
// "meta" part then its "file" part, and its Content-Type.
func multipartBody(meta []byte, name, ctype string, data []byte) ([]byte, string, error) {
	var buf bytes.Buffer
	buf.Grow(len(data) + len(meta) + 512)
	mw := multipart.NewWriter(&buf)
	var rnd [16]byte
	rand.Read(rnd[:])
	if err := mw.SetBoundary("wxpay-" + hex.EncodeToString(rnd[:])); err != nil {
		return nil, "", badFile("%v", err)
	}
	mh := textproto.MIMEHeader{}
	mh.Set("Content-Disposition", `form-data; name="meta"`)
	mh.Set("Content-Type", "application/json")
	pw, _ := mw.CreatePart(mh)
	pw.Write(meta)
	fhdr := textproto.MIMEHeader{}
	fhdr.Set("Content-Disposition", `form-data; name="file"; filename="`+filenameEscaper.Replace(name)+`"`)
	fhdr.Set("Content-Type", ctype)
	pw, _ = mw.CreatePart(fhdr)
	pw.Write(data)
	if err := mw.Close(); err != nil {
		return nil, "", badFile("%v", err)
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}

var filenameEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)
