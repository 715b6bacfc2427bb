package catalog

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay/catalog/internal/wire"
)

// decodeWire decodes the catalogue's JSON. It reads what encoding/json
// would into a wire.File (a test holds them equal), a few times faster:
// the first use of the catalogue pays for it.
func decodeWire(raw []byte) (*wire.File, error) {
	if !gjson.ValidBytes(raw) {
		return nil, errors.New("not JSON")
	}
	root := gjson.ParseBytes(raw)
	f := &wire.File{Generated: root.Get("generated").Str, Source: root.Get("source").Str}
	var err error
	schemas, ops := root.Get("schemas"), root.Get("ops")
	f.Schemas = make([]wire.Schema, 0, schemas.Get("#").Int())
	f.Ops = make([]wire.Op, 0, ops.Get("#").Int())
	schemas.ForEach(func(_, v gjson.Result) bool {
		var s wire.Schema
		s, err = decodeSchema(v)
		f.Schemas = append(f.Schemas, s)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	ops.ForEach(func(_, v gjson.Result) bool {
		var op wire.Op
		op, err = decodeOp(v)
		f.Ops = append(f.Ops, op)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

func decodeSchema(v gjson.Result) (wire.Schema, error) {
	var s wire.Schema
	var err error
	v.ForEach(func(k, x gjson.Result) bool {
		switch k.Str {
		case "t":
			s.Type = x.Str
		case "f":
			s.Format = x.Str
		case "e":
			s.Enum = strArray(x)
		case "r":
			s.Required = strArray(x)
		case "pn":
			s.PropNames = strArray(x)
		case "pi":
			x.ForEach(func(_, i gjson.Result) bool {
				s.PropIdx = append(s.PropIdx, int(i.Int()))
				return true
			})
		case "i":
			s.Items = int(x.Int())
		case "j":
			s.JSON = int(x.Int())
		case "nl":
			s.MinLength = int(x.Int())
		case "xl":
			s.MaxLength = int(x.Int())
		case "ni":
			s.MinItems = int(x.Int())
		case "xi":
			s.MaxItems = int(x.Int())
		case "nv":
			f := x.Float()
			s.Minimum = &f
		case "xv":
			f := x.Float()
			s.Maximum = &f
		case "pa":
			s.Pattern = x.Str
		case "x":
			s.Example = json.RawMessage(x.Raw)
		default:
			err = fmt.Errorf("unknown schema key %q", k.Str)
		}
		return err == nil
	})
	return s, err
}

func decodeOp(v gjson.Result) (wire.Op, error) {
	var op wire.Op
	var err error
	v.ForEach(func(k, x gjson.Result) bool {
		switch k.Str {
		case "m":
			op.Method = x.Str
		case "t":
			op.Template = x.Str
		case "n":
			op.Name = x.Str
		case "r":
			op.Roles = strArray(x)
		case "g":
			op.Tags = strArray(x)
		case "d":
			op.Deprecated = x.Bool()
		case "u":
			op.BaseURL = x.Str
		case "p":
			x.ForEach(func(_, p gjson.Result) bool {
				op.Params = append(op.Params, wire.Param{
					Name: p.Get("n").Str, In: p.Get("i").Str, Required: p.Get("r").Bool(), Schema: int(p.Get("s").Int()),
				})
				return true
			})
		case "b":
			op.Body = int(x.Int())
		case "br":
			op.BodyReq = x.Bool()
		case "mp":
			op.Multipart = x.Bool()
		case "s":
			op.Status = int(x.Int())
		case "o":
			op.Response = int(x.Int())
		case "pr":
			op.Produces = strArray(x)
		default:
			err = fmt.Errorf("unknown operation key %q", k.Str)
		}
		return err == nil
	})
	return op, err
}

// strArray decodes an array of strings.
func strArray(v gjson.Result) []string {
	var out []string
	v.ForEach(func(_, s gjson.Result) bool {
		out = append(out, s.Str)
		return true
	})
	return out
}
