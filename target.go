package wxpay

import (
	"fmt"
	"net/url"
	"sort"
)

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
