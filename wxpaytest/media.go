package wxpaytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
)

// rawRoute is an emulated API that the JSON pipeline of serveHTTP does not
// fit, a streamed file or a multipart upload: its handler reads the request
// and writes the answer itself.
type rawRoute struct {
	method string
	path   string
	handle func(s *Server, x *exchange)
}

var rawRoutes = []rawRoute{
	{http.MethodGet, "/v3/billdownload/file", (*Server).serveBillFile},
	{http.MethodPost, "/v3/merchant/media/upload", uploadHandler(imageUpload)},
	{http.MethodPost, "/v3/merchant/media/video_upload", uploadHandler(videoUpload)},
	{http.MethodPost, "/v3/marketing/favor/media/image-upload", uploadHandler(marketingImageUpload)},
	{http.MethodPost, "/v3/merchant-service/images/upload", uploadHandler(imageUpload)},
}

// serveRaw answers r if it is for a raw route or an upload to a catalogued
// multipart operation, and reports whether it was.
// It records the request and applies the injected faults that make sense
// for it (delay, reset, error answer; the signature faults apply to the
// JSON answers).
func (s *Server) serveRaw(w http.ResponseWriter, r *http.Request) bool {
	var rt *rawRoute
	for i := range rawRoutes {
		if rawRoutes[i].path == r.URL.EscapedPath() {
			rt = &rawRoutes[i]
			break
		}
	}
	if rt == nil {
		return s.serveOperationUpload(w, r) // see genericfile.go
	}
	x, ok := s.begin(w, r, nil)
	if !ok {
		return true
	}
	defer x.recoverPanic()
	if r.Method != rt.method {
		x.fail(methodNotAllowed(r.Method, []string{rt.method}))
		return true
	}
	rt.handle(s, x)
	return true
}

// setRecordBody stores the start of a raw request's body in its record.
func (s *Server) setRecordBody(rec *Request, body []byte) {
	if len(body) > maxRequestBody {
		body = body[:maxRequestBody]
	}
	s.recMu.Lock()
	rec.Body = bytes.Clone(body)
	s.recMu.Unlock()
}

// Media is a file uploaded to one of the media upload APIs.
type Media struct {
	// MediaID is the media_id answered (for the marketing image upload,
	// the id inside the media_url answered).
	MediaID string
	// Filename is the filename of the meta part.
	Filename string
	// ContentType is the Content-Type of the file part.
	ContentType string
	// Data is the uploaded file.
	Data []byte
}

// mediaURLPrefix starts the media_url answered by the marketing image
// upload; the media id and "/0" follow.
const mediaURLPrefix = "https://wxpaylogo.qpic.cn/wxpaylogo/"

// Media returns the file uploaded under a media_id or media_url the server
// answered, and false when there is none.
func (s *Server) Media(id string) (Media, bool) {
	id = strings.TrimSuffix(strings.TrimPrefix(id, mediaURLPrefix), "/0")
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	m, ok := s.files.media[id]
	if ok {
		m.Data = bytes.Clone(m.Data)
	}
	return m, ok
}

// downloadMedia is GET /v3/merchant-service/images/{media_id}: the image
// uploaded under media_id to one of the upload APIs, with the content type
// it was uploaded with, or a 404 for a media_id the server never answered.
func (s *Server) downloadMedia(c *call) (any, *apiError) {
	m, ok := s.Media(c.params[0])
	if !ok {
		return nil, newError(http.StatusNotFound, CodeResourceNotExists, "no media with media_id "+c.params[0])
	}
	ct := m.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return fileAnswer{contentType: ct, data: m.Data}, nil
}

// uploadKind describes one upload API: the extensions and size it accepts
// and whether it answers a media_url rather than a media_id.
type uploadKind struct {
	exts     []string
	max      int64
	what     string
	mediaURL bool
}

var (
	imageExts            = []string{".jpg", ".jpeg", ".bmp", ".png"}
	imageUpload          = uploadKind{exts: imageExts, max: 2 << 20, what: "image"}
	marketingImageUpload = uploadKind{exts: imageExts, max: 2 << 20, what: "image", mediaURL: true}
	videoUpload          = uploadKind{
		exts: []string{".avi", ".wmv", ".mpeg", ".mp4", ".mov", ".mkv", ".flv", ".f4v", ".m4v", ".rmvb"},
		max:  5 << 20, what: "video",
	}
)

// maxUploadBody bounds the multipart bodies the emulator reads for the
// media uploads: the largest file accepted and room for the meta part and
// the framing.
const maxUploadBody = 5<<20 + 64<<10

// formPart is one part of a multipart/form-data body.
type formPart struct {
	data        []byte
	contentType string
}

// readForm reads the multipart/form-data body of x's request, at most max
// bytes, records it, and returns its parts by form name (a repeated name
// keeps the last).
func (s *Server) readForm(x *exchange, max int64) (map[string]formPart, *apiError) {
	r := x.r
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	s.setRecordBody(x.rec, body)
	if err != nil {
		return nil, invalidRequest("request body could not be read")
	}
	if int64(len(body)) > max {
		return nil, invalidRequest("request body is larger than the largest upload accepted")
	}
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, invalidRequest("Content-Type must be multipart/form-data with a boundary, got " + quoteOrEmpty(ct))
	}
	parts := map[string]formPart{}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return parts, nil
		}
		if err != nil {
			return nil, invalidRequest("multipart body is malformed: " + err.Error())
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, invalidRequest("multipart body is malformed: " + err.Error())
		}
		parts[p.FormName()] = formPart{data: data, contentType: p.Header.Get("Content-Type")}
	}
}

func uploadHandler(k uploadKind) func(s *Server, x *exchange) {
	return func(s *Server, x *exchange) { s.upload(x, k) }
}

// upload handles a multipart/form-data upload as WeChat Pay does: the
// request is signed over the meta part (its JSON, not the whole body), and
// meta's sha256 must be the SHA-256 of the file part.
func (s *Server) upload(x *exchange, k uploadKind) {
	parts, e := s.readForm(x, maxUploadBody)
	if e != nil {
		x.fail(e)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(parts)) {
		if name != "meta" && name != "file" {
			x.fail(paramError("body", name, nil, "is not a part of this upload: want meta and file"))
			return
		}
	}
	metaPart, haveMeta := parts["meta"]
	filePart, haveFile := parts["file"]
	meta, file, partType := metaPart.data, filePart.data, filePart.contentType
	if !haveMeta {
		x.fail(paramError("body", "meta", nil, "is required: the JSON {\"filename\",\"sha256\"} the request is signed over"))
		return
	}
	if !x.admit(meta, uploadSigned) {
		return
	}
	var m struct {
		Filename string `json:"filename"`
		SHA256   string `json:"sha256"`
	}
	if err := json.Unmarshal(meta, &m); err != nil {
		x.fail(paramError("body", "meta", nil, "is not a JSON object"))
		return
	}
	if m.Filename == "" {
		x.fail(paramError("body", "meta.filename", nil, "is required"))
		return
	}
	ext := strings.ToLower(path.Ext(m.Filename))
	if !oneOf(ext, k.exts) {
		x.fail(paramError("body", "meta.filename", shortValue(m.Filename), "must end in one of "+joinComma(k.exts)+" for "+k.what+" uploads"))
		return
	}
	if !haveFile {
		x.fail(paramError("body", "file", nil, "is required"))
		return
	}
	if int64(len(file)) > k.max {
		x.fail(invalidRequest("file is larger than the " + sizeText(k.max) + " allowed for " + k.what + " uploads"))
		return
	}
	sum := sha256.Sum256(file)
	if !strings.EqualFold(m.SHA256, hex.EncodeToString(sum[:])) {
		x.fail(paramError("body", "meta.sha256", shortValue(m.SHA256), "does not match the SHA-256 of the file uploaded"))
		return
	}
	id := randomString(64, alnum)
	s.files.mu.Lock()
	if s.files.media == nil {
		s.files.media = map[string]Media{}
	}
	s.files.media[id] = Media{MediaID: id, Filename: m.Filename, ContentType: partType, Data: file}
	s.files.mu.Unlock()
	if k.mediaURL {
		x.ok(map[string]string{"media_url": mediaURLPrefix + id + "/0"})
		return
	}
	x.ok(map[string]string{"media_id": id})
}

func sizeText(n int64) string { return strconv.FormatInt(n>>20, 10) + " MiB" }
