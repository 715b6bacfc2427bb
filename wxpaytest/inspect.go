package wxpaytest

import (
	"encoding/json"
	"net/http"
)

// InspectPath is the emulator's own endpoint that lists the requests it
// received, for clients in other languages (PHP, Node) that cannot call
// Requests: GET it for a JSON array of {"method", "request_uri",
// "authenticated", "status"}; DELETE it to clear the log, as ResetRequests
// does (the log keeps every request, so a long-running emulator's memory
// grows until it is cleared). It is not a WeChat Pay API, needs no
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
	switch r.Method {
	case http.MethodGet:
	case http.MethodDelete:
		s.ResetRequests()
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, DELETE")
		http.Error(w, "use GET, or DELETE to clear the log", http.StatusMethodNotAllowed)
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
