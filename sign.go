package wxpay

// This file is the signing stage of an APIv3 request (do.go), run afresh
// for each attempt: a new nonce and timestamp, and the Authorization header
// over the exact method, path, query and body bytes sent.

import (
	"fmt"

	"github.com/wxpay-chain/wxpay/signer"
)

// sign returns the Authorization header of one attempt of p, signed over
// target and the body (or, for an upload, its meta JSON). It is built in
// bufs, and good until the next attempt.
func (c *Client) sign(p *prepared, target string, bufs *buffers) ([]byte, error) {
	signed := p.body
	if p.signBody != nil {
		signed = p.signBody
	}
	auth, err := c.authorization(bufs.auth[:0], bufs.msg, p.method, target, signed)
	if err != nil {
		return nil, err
	}
	bufs.auth = auth[:0]
	return auth, nil
}

// authorization appends to dst the Authorization header of a request of
// method to target with body, under a fresh nonce and the current time;
// msg is room for the signed message.
func (c *Client) authorization(dst, msg []byte, method, target string, body []byte) ([]byte, error) {
	nonce := signer.AppendNonce(make([]byte, 0, signer.NonceLen))
	auth, err := c.signer.AppendAuthorization(dst, msg, method, target, body, c.now().Unix(), string(nonce))
	if err != nil {
		return nil, fmt.Errorf("wxpay: %s %s: sign: %w", method, redactQuery(target), err)
	}
	return auth, nil
}
