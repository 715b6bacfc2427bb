package wxpaytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/wxpay-chain/wxpay/catalog"
)

// Files in and out of the schema-driven operations: uploads to the
// multipart operations without a hand-written endpoint, and the downloads
// (a PDF, an image, a statement).

// maxGenericUpload bounds the multipart bodies of the schema-driven
// uploads: the largest file a client sends (wxpay.MaxUpload) and room for
// the meta part and the framing.
const maxGenericUpload = 10<<20 + 64<<10

// serveOperationUpload answers r if it is an upload to a catalogued
// multipart operation without a hand-written endpoint, and reports whether
// it was.
func (s *Server) serveOperationUpload(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	op, vals, ok := matchOperation(r.Method, r.URL.EscapedPath())
	if !ok || !op.Multipart {
		return false
	}
	x, ok := s.begin(w, r, nil)
	if !ok {
		return true
	}
	defer x.recoverPanic()
	s.uploadOperation(x, op, vals)
	return true
}

// uploadOperation handles an upload to op as WeChat Pay handles uploads:
// the request is signed over the meta part; meta is checked against op's
// body schema and every required form part must be there. The file's digest
// is not checked (some operations name it in SM3): only the hand-written
// media uploads check it.
func (s *Server) uploadOperation(x *exchange, op *catalog.Operation, vals map[string]string) {
	parts, e := s.readForm(x, maxGenericUpload)
	if e != nil {
		x.fail(e)
		return
	}
	meta, ok := parts["meta"]
	if !ok {
		x.fail(paramError("body", "meta", nil, "is required: the JSON the request is signed over"))
		return
	}
	if !x.admit(meta.data, uploadSigned) {
		return
	}
	for _, p := range op.Params {
		if p.In == "formData" && p.Required && len(parts[p.Name].data) == 0 {
			x.fail(paramError("body", p.Name, nil, "is required"))
			return
		}
	}
	if m := bytes.TrimSpace(meta.data); len(m) == 0 || m[0] != '{' || !json.Valid(m) {
		x.fail(paramError("body", "meta", nil, "is not a JSON object"))
		return
	}
	query, err := url.ParseQuery(x.r.URL.RawQuery)
	if err != nil {
		x.fail(paramError("query", "query", nil, "malformed query string"))
		return
	}
	in, e := s.checkOperation(x.r, op, vals, query, meta.data)
	if e != nil {
		x.fail(e)
		return
	}
	answer := s.answer(op, in)
	if x.fault != nil && x.fault.Kind == FaultResetAfterApply {
		x.reset()
		return
	}
	x.reply(op.Status, answer)
}

// isFileAnswer reports whether op answers a file rather than JSON: it names
// the media types it produces, or it succeeds with 200 and no JSON schema
// (the image and statement downloads).
func isFileAnswer(op *catalog.Operation) bool {
	return len(op.Produces) > 0 || (op.Status == http.StatusOK && op.Response == nil)
}

// serveFileAnswer answers a download: a file, signed as the JSON answers
// are (a client that does not check the signature of a download, as
// wxpay.Client does not for the bills, statements and media WeChat Pay
// leaves unsigned, loses nothing).
func (s *Server) serveFileAnswer(x *exchange, op *catalog.Operation, in *opRequest) {
	ctype, data := s.fileFor(op, in)
	if x.fault != nil && x.fault.Kind == FaultResetAfterApply {
		x.reset()
		return
	}
	x.replyType(http.StatusOK, ctype, data)
}

// fileFor returns the file a download answers and its content type: a
// small PNG for an image (an uploaded one comes from the hand-written
// downloadMedia), a one-page PDF for a PDF, else a small CSV statement.
func (s *Server) fileFor(op *catalog.Operation, in *opRequest) (string, []byte) {
	if _, ok := in.values["media_id"]; ok {
		return "image/png", placeholderPNG()
	}
	ct := "text/plain; charset=utf-8"
	if len(op.Produces) > 0 {
		ct = op.Produces[0]
	}
	if ct == "application/pdf" {
		return ct, placeholderPDF()
	}
	return ct, placeholderStatement(in.query.Get("date"))
}

// placeholderPNG is a 1×1 grey PNG image.
var placeholderPNG = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	img.Pix[0] = 0x80
	png.Encode(&buf, img) // writing to a bytes.Buffer does not fail
	return buf.Bytes()
})

// placeholderPDF is a valid one-page PDF, blank, of A4 size.
var placeholderPDF = sync.OnceValue(func() []byte {
	objs := []string{
		"<</Type/Catalog/Pages 2 0 R>>",
		"<</Type/Pages/Kids[3 0 R]/Count 1>>",
		"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
})

// placeholderStatement is a small statement in CSV, of the day date names.
func placeholderStatement(date string) []byte {
	var b strings.Builder
	b.WriteString("date,transaction_id,out_trade_no,amount,currency\r\n")
	for i := range 3 {
		fmt.Fprintf(&b, "`%s,`42000%023d,`%d,%d.00,CNY\r\n", date, i+1, i+1, i+1)
	}
	return []byte(b.String())
}
