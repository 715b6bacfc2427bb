package wxpaytest

import (
	"encoding/json"
	"net/http"
)

// InspectPath is the emulator's own endpoint that lists the requests it
// received, for clients in other languages (PHP, Node) that cannot call
// Requests: GET it for a JSON array of {"method", "request_uri",
// "authenticated", "status"}. It is not a WeChat Pay API, needs no
// signature, and is not itself recorded.
const InspectPath = "/_wxpaytest/requests"

type inspected struct {
	Method        string `json:"method"`
	RequestURI    string `json:"request_uri"`
	Authenticated bool   `json:"authenticated"`
	Status        int    `json:"status"`
}

// serveInspect answers InspectPath.
func (s *Server) serveInspect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	reqs := s.Requests()
	out := make([]inspected, len(reqs))
	for i, q := range reqs {
		out[i] = inspected{Method: q.Method, RequestURI: q.RequestURI, Authenticated: q.Authenticated, Status: q.Status}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
