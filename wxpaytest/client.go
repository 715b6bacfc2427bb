package wxpaytest

import "github.com/wxpay-chain/wxpay"

// Client returns a *wxpay.Client configured by Config to talk to the server
// and to trust its platform keys. Call it after Start.
func (s *Server) Client() (*wxpay.Client, error) {
	return wxpay.New(s.Config())
}
