package wxpaytest

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxpay-chain/wxpay/signer"
	"github.com/wxpay-chain/wxpay/verifier"
)

// Keys are slow to generate: every test of the binary shares these.
var (
	keysOnce     sync.Once
	keysErr      error
	merchantKey  *rsa.PrivateKey
	platformKey  *rsa.PrivateKey
	platformKey2 *rsa.PrivateKey
	strangerKey  *rsa.PrivateKey
)

// certSerial is a platform certificate serial in the upper-case hexadecimal
// form, for tests with a second platform key.
const certSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var ks [4]*rsa.PrivateKey
		var wg sync.WaitGroup
		errs := make([]error, len(ks))
		for i := range ks {
			wg.Go(func() { ks[i], errs[i] = GenerateKey() })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				keysErr = err
			}
		}
		merchantKey, platformKey, platformKey2, strangerKey = ks[0], ks[1], ks[2], ks[3]
	})
	if keysErr != nil {
		t.Fatalf("GenerateKey: %v", keysErr)
	}
}

// newServer starts a server with the shared keys, after letting adjust
// change its fields, and closes it when the test ends.
func newServer(t testing.TB, adjust ...func(*Server)) *Server {
	t.Helper()
	testKeys(t)
	s := NewUnstartedServer()
	s.MerchantKey = merchantKey
	s.Platform = []PlatformKey{{Serial: DefaultPlatformSerial, Key: platformKey}}
	for _, f := range adjust {
		f(s)
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// withTwoPlatformKeys adds a certificate-serial style second platform key.
func withTwoPlatformKeys(s *Server) {
	s.Platform = append(s.Platform, PlatformKey{Serial: certSerial, Key: platformKey2})
}

// tclient sends signed requests to a server with net/http.
type tclient struct {
	t      *testing.T
	s      *Server
	signer *signer.Signer
	hc     *http.Client
}

func newClient(t *testing.T, s *Server) *tclient {
	t.Helper()
	sg, err := signer.New(s.MchID, s.MerchantSerial, s.MerchantKey)
	if err != nil {
		t.Fatalf("signer.New: %v", err)
	}
	return &tclient{t: t, s: s, signer: sg, hc: &http.Client{Timeout: 20 * time.Second}}
}

// req describes a request, with knobs to spoil its signature.
type req struct {
	method string
	target string // path and query, starting with "/"
	body   []byte
	header map[string]string // extra headers; "Content-Type": "" removes it

	noAuth     bool
	auth       string         // replaces the Authorization value
	signer     *signer.Signer // signs instead of the client's signer
	signMethod string         // signed instead of method
	signTarget string         // signed instead of target
	signBody   []byte         // signed instead of body
	timestamp  int64          // signed instead of the server's now
	nonce      string         // used instead of a fresh nonce
}

// resp is an answer, read in full.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// jsonBody marshals v for a request.
func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return b
}

// authorization returns the Authorization value for q.
func (c *tclient) authorization(q req) string {
	c.t.Helper()
	sg := c.signer
	if q.signer != nil {
		sg = q.signer
	}
	method, target, body := q.method, q.target, q.body
	if q.signMethod != "" {
		method = q.signMethod
	}
	if q.signTarget != "" {
		target = q.signTarget
	}
	if q.signBody != nil {
		body = q.signBody
	}
	ts := q.timestamp
	if ts == 0 {
		ts = c.s.now().Unix()
	}
	nonce := q.nonce
	if nonce == "" {
		nonce = signer.Nonce()
	}
	a, err := sg.AppendAuthorization(nil, nil, method, target, body, ts, nonce)
	if err != nil {
		c.t.Fatalf("AppendAuthorization: %v", err)
	}
	return string(a)
}

// send performs q and returns the answer, or the transport error.
func (c *tclient) send(q req) (*resp, error) {
	c.t.Helper()
	var rd io.Reader
	if q.body != nil {
		rd = bytes.NewReader(q.body)
	}
	hr, err := http.NewRequest(q.method, strings.TrimSuffix(c.s.URL, "/")+q.target, rd)
	if err != nil {
		c.t.Fatalf("NewRequest: %v", err)
	}
	hr.Header.Set("Accept", "application/json")
	if q.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range q.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	switch {
	case q.noAuth:
	case q.auth != "":
		hr.Header.Set("Authorization", q.auth)
	default:
		hr.Header.Set("Authorization", c.authorization(q))
	}
	res, err := c.hc.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &resp{status: res.StatusCode, header: res.Header, body: b}, nil
}

// do is send failing the test on a transport error.
func (c *tclient) do(q req) *resp {
	c.t.Helper()
	r, err := c.send(q)
	if err != nil {
		c.t.Fatalf("%s %s: %v", q.method, q.target, err)
	}
	return r
}

func (c *tclient) get(target string) *resp {
	c.t.Helper()
	return c.do(req{method: http.MethodGet, target: target})
}

func (c *tclient) post(target string, body any, header ...string) *resp {
	c.t.Helper()
	q := req{method: http.MethodPost, target: target, body: jsonBody(c.t, body), header: map[string]string{}}
	for i := 0; i+1 < len(header); i += 2 {
		q.header[header[i]] = header[i+1]
	}
	return c.do(q)
}

// json decodes the answer as an object.
func (r *resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

// verifyWith checks the answer's signature with the server's platform keys.
func (r *resp) verify(s *Server) error {
	keys := map[string]*rsa.PublicKey{}
	for _, p := range s.Platform {
		keys[p.Serial] = &p.Key.PublicKey
	}
	v, err := verifier.New(keys)
	if err != nil {
		return err
	}
	v.Now = s.now
	return v.Verify(verifier.Headers{
		Timestamp: r.header.Get(verifier.HeaderTimestamp),
		Nonce:     r.header.Get(verifier.HeaderNonce),
		Signature: r.header.Get(verifier.HeaderSignature),
		Serial:    r.header.Get(verifier.HeaderSerial),
	}, r.body, nil)
}

// errorSummary is what the tests compare of an error answer.
type errorSummary struct {
	Status   int
	Code     string
	Field    string
	Location string
}

func (r *resp) summary(t *testing.T) errorSummary {
	t.Helper()
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Detail  *struct {
			Field    string `json:"field"`
			Location string `json:"location"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", r.status, err, r.body)
	}
	if r.status != http.StatusOK && e.Message == "" {
		t.Errorf("error answer %d without a message: %s", r.status, r.body)
	}
	s := errorSummary{Status: r.status, Code: e.Code}
	if e.Detail != nil {
		s.Field, s.Location = e.Detail.Field, e.Detail.Location
	}
	return s
}

// fixedClock returns a clock stuck at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// get reads a value of a decoded JSON object by a dotted path.
func get(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}
