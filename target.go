package wxpay

// This file is the path and query stage of an APIv3 request (do.go): the
// target, path and query, exactly as it is sent and signed.

import (
	"bytes"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// appendPath appends the path of ch to target: below the base URL with
// its placeholders filled from opts, or, for a chain that starts with a
// full URL, the URL's path and query, on a host signed requests may go to.
func (c *Client) appendPath(p *prepared, ch Chain, opts Opts, target []byte) ([]byte, error) {
	if ch.origin != "" {
		if !c.allowed[ch.origin] {
			return nil, fmt.Errorf("%w: %s: signed requests go only to %s", ErrHostNotAllowed, ch.origin, strings.Join(c.allowedList(), ", "))
		}
		p.origin = ch.origin
		target = append(target, '/')
		target = append(target, ch.tmpl...)
		p.pathOnly = ch.tmpl
		return target, nil
	}
	p.origin = c.scheme + "://" + c.host
	target = append(target, c.basePath...)
	start := len(target)
	var err error
	if target, err = expand(target, ch.tmpl, opts); err != nil {
		return nil, fmt.Errorf("%w (path %s)", err, ch.tmpl)
	}
	p.pathOnly = string(target[start:])
	return target, nil
}

// appendQuery appends the query option to target, after the query a full
// URL may already hold.
func appendQuery(target []byte, opts Opts) ([]byte, error) {
	q, ok := option(opts, "query")
	if !ok {
		return target, nil
	}
	vals, err := queryValues(q)
	if err != nil {
		return nil, err
	}
	if enc := vals.Encode(); enc != "" {
		if bytes.IndexByte(target, '?') >= 0 {
			target = append(target, '&')
		} else {
			target = append(target, '?')
		}
		target = append(target, enc...)
	}
	return target, nil
}

func (c *Client) allowedList() []string {
	l := make([]string, 0, len(c.allowed))
	for h := range c.allowed {
		l = append(l, h)
	}
	sort.Strings(l)
	return l
}

func queryValues(q any) (url.Values, error) {
	switch m := q.(type) {
	case url.Values:
		return m, nil
	case map[string][]string:
		return url.Values(m), nil
	case map[string]string:
		vals := url.Values{}
		for k, v := range m {
			vals.Set(k, v)
		}
		return vals, nil
	case Opts:
		return queryFromAny(m)
	case map[string]any:
		return queryFromAny(m)
	}
	return nil, fmt.Errorf("%w: query is %T, want url.Values, map[string]string or Opts", ErrInvalidOption, q)
}

func queryFromAny(m map[string]any) (url.Values, error) {
	vals := url.Values{}
	for k, v := range m {
		if s, ok := scalar(v); ok {
			vals.Set(k, s)
			continue
		}
		if ss, ok := v.([]string); ok {
			vals[k] = ss
			continue
		}
		return nil, fmt.Errorf("%w: query %q is %T, want a string, number or bool", ErrInvalidOption, k, v)
	}
	return vals, nil
}
