package wxpaytest

import (
	"bytes"
	"net/http"
	"time"
)

// Request is the record of one request the server received, for tests to
// inspect with Server.Requests.
type Request struct {
	// Method is the HTTP method.
	Method string
	// RequestURI is the path and query exactly as received, the target the
	// client signed.
	RequestURI string
	// Header holds the request headers, Authorization included (it carries
	// a signature, not a key).
	Header http.Header
	// Body is the request body as received (up to 1 MiB).
	Body []byte
	// Time is when the request arrived, by the emulator's clock.
	Time time.Time
	// Authenticated reports whether the Authorization header passed every
	// check.
	Authenticated bool
	// Status is the HTTP status answered, or 0 when the connection was
	// reset or the server closed before an answer.
	Status int
}

// clone returns a deep copy of r.
func (r *Request) clone() Request {
	c := *r
	c.Header = r.Header.Clone()
	c.Body = bytes.Clone(r.Body)
	return c
}

// record stores a new record for r and returns it. The record's fields are
// only changed under recMu.
func (s *Server) record(r *http.Request, body []byte) *Request {
	rec := &Request{
		Method:     r.Method,
		RequestURI: r.RequestURI,
		Header:     r.Header.Clone(),
		Body:       bytes.Clone(body),
		Time:       s.now(),
	}
	s.recMu.Lock()
	s.records = append(s.records, rec)
	s.recMu.Unlock()
	return rec
}

// setAuthenticated marks rec as having passed authentication.
func (s *Server) setAuthenticated(rec *Request) {
	s.recMu.Lock()
	rec.Authenticated = true
	s.recMu.Unlock()
}

// finishRecord stores the status answered. It runs before the answer is
// written, so a client that has its answer finds it in Requests.
func (s *Server) finishRecord(rec *Request, status int) {
	s.recMu.Lock()
	rec.Status = status
	s.recMu.Unlock()
}

// Requests returns a copy of the records of every request received so far,
// oldest first.
func (s *Server) Requests() []Request {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	out := make([]Request, len(s.records))
	for i, r := range s.records {
		out[i] = r.clone()
	}
	return out
}

// LastRequest returns the record of the latest request received, and false
// when there is none.
func (s *Server) LastRequest() (Request, bool) {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if len(s.records) == 0 {
		return Request{}, false
	}
	return s.records[len(s.records)-1].clone(), true
}

// RequestCount returns the number of requests received so far, whatever
// their outcome.
func (s *Server) RequestCount() int {
	return int(s.count.Load())
}

// ResetRequests forgets the records kept so far and sets the count back to
// zero.
func (s *Server) ResetRequests() {
	s.recMu.Lock()
	s.records = nil
	s.count.Store(0)
	s.recMu.Unlock()
}
