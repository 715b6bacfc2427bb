package wxpaytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// FaultsPath is the emulator's own endpoint for the faults of a running
// server, for `wxpay emulator` and clients in other languages that cannot
// call Inject:
//
//   - POST it fault specs (see ParseFault), one per line, blank lines and
//     lines starting with '#' skipped, to inject them in order: all of them,
//     or none when one does not parse (400, the message naming the line);
//   - GET it for a JSON array of the faults not yet used up, each written
//     by Fault.String with the count it has left;
//   - DELETE it to remove them all (ClearFaults).
//
// Like InspectPath it is not a WeChat Pay API, needs no signature and is
// not itself recorded.
const FaultsPath = "/_wxpaytest/faults"

// maxFaultsBody bounds the body of a POST to FaultsPath.
const maxFaultsBody = 64 << 10

// serveFaults answers FaultsPath.
func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, maxFaultsBody+1))
		if err != nil || len(body) > maxFaultsBody {
			http.Error(w, "wxpaytest: the fault specs could not be read (at most 64 KiB)", http.StatusBadRequest)
			return
		}
		faults, err := parseFaultLines(string(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, f := range faults {
			s.Inject(f)
		}
	case http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		http.Error(w, "use GET, POST or DELETE", http.StatusMethodNotAllowed)
		return
	}
	pending := s.pendingFaults()
	out := make([]string, len(pending))
	for i, f := range pending {
		out[i] = f.String()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// parseFaultLines parses one fault spec per line.
func parseFaultLines(text string) ([]Fault, error) {
	var faults []Fault
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f, err := ParseFault(line)
		if err != nil {
			return nil, fmt.Errorf("wxpaytest: line %d: %s", i+1, strings.TrimPrefix(err.Error(), "wxpaytest: "))
		}
		faults = append(faults, f)
	}
	if len(faults) == 0 {
		return nil, fmt.Errorf("wxpaytest: no fault given: want lines such as POST v3/refund/domestic/refunds=500*2")
	}
	return faults, nil
}

// pendingFaults returns the faults not yet used up, in order, each with
// Times set to the uses it has left.
func (s *Server) pendingFaults() []Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, e := range s.faults {
		out[i] = e.f
		out[i].Times = e.left
	}
	return out
}
