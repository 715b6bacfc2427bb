// Package configfile reads a wxpay config: the file wxpay.json that `wxpay
// emulator` writes and a merchant writes for production, the same settings
// as KEY=VALUE lines named like the WXPAY_* environment variables, or those
// variables themselves; and it loads the keys the settings name.
// wxpay.LoadConfig and the wxpay command share it, so they read the same
// format with the same errors.
//
// Relative key paths resolve against the directory of the file; a key
// setting may hold the key itself instead of a path (see rsaenc). Unknown
// keys and settings are refused with the name they probably misspell.
// Errors name the setting and the file, never a key or the APIv3 key.
package configfile

import (
	"bufio"
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/wxpay-chain/wxpay/internal/keytext"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

// The names of the settings in an env-style file and in the environment.
const (
	EnvMchID      = "WXPAY_MCHID"
	EnvSerial     = "WXPAY_SERIAL"
	EnvPrivateKey = "WXPAY_PRIVATE_KEY"
	EnvCerts      = "WXPAY_CERTS"
	EnvAPIv3Key   = "WXPAY_APIV3_KEY"
	EnvBaseURL    = "WXPAY_BASE_URL"
)

// EnvNames are the WXPAY_* names, in the order they are listed in messages.
var EnvNames = []string{EnvMchID, EnvSerial, EnvPrivateKey, EnvCerts, EnvAPIv3Key, EnvBaseURL}

// JSONKeys are the keys of a JSON config, in the same order.
var JSONKeys = []string{"mchid", "serial", "private_key", "certs", "apiv3_key", "base_url"}

// Settings are the values of a config as written: the key settings hold
// file names or key text, nothing is loaded yet.
type Settings struct {
	MchID      string            `json:"mchid"`
	Serial     string            `json:"serial"`
	PrivateKey string            `json:"private_key"`
	Certs      map[string]string `json:"certs"`
	APIv3Key   string            `json:"apiv3_key"`
	BaseURL    string            `json:"base_url"`

	dir    string // relative key paths resolve against it
	source string // where the settings came from, for messages
	json   bool   // the settings have their JSON names, not the WXPAY_* ones
}

// Loaded is a config with its keys loaded.
type Loaded struct {
	MchID      string
	Serial     string
	PrivateKey *rsa.PrivateKey
	Certs      map[string]*rsa.PublicKey
	APIv3Key   string
	BaseURL    string
}

// Error is a problem with a config. Its message names the file or the
// setting, never a key; it unwraps to the file system's cause when there
// is one, so errors.Is(err, fs.ErrNotExist) holds for a missing file.
type Error struct {
	msg string
	err error
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns the cause, or nil.
func (e *Error) Unwrap() error { return e.err }

func errorf(format string, a ...any) error { return &Error{msg: fmt.Sprintf(format, a...)} }

// Read reads a JSON or env-style config file. A file starting with '{' is
// JSON; a UTF-8 byte order mark before it is ignored.
func Read(path string) (*Settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &Error{msg: fmt.Sprintf("config file %s: %v", quote(path), err), err: err}
	}
	s := &Settings{dir: filepath.Dir(path), source: path}
	// The byte order mark some editors start UTF-8 with is no setting.
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		return nil, errorf("config %s: a JSON config is one object, {...}, not an array", path)
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		s.json = true
		if err := decodeJSON(t, s); err != nil {
			return nil, errorf("config %s: %v", path, err)
		}
		return s, nil
	}
	vars, err := parseEnvFile(data)
	if err != nil {
		if what, hint := keyFile(data); what != "" {
			return nil, errorf("config %s: the file looks like %s, not a config file (JSON, or KEY=VALUE lines); %s", path, what, hint)
		}
		return nil, errorf("config %s: %v", path, err)
	}
	if err := s.fromVars(func(k string) string { return vars[k] }); err != nil {
		return nil, errorf("config %s: %v", path, err)
	}
	return s, nil
}

// keyFile tells what key material data, a file that is no config, holds:
// a PEM block, its kind told from its label (never quoted), or a bare
// base64 DER body; and where such a file belongs in a config. It returns
// "" for anything else.
func keyFile(data []byte) (what, hint string) {
	for line := range strings.Lines(string(data)) {
		label, ok := strings.CutPrefix(strings.TrimSpace(line), "-----BEGIN ")
		if !ok {
			continue
		}
		switch {
		case strings.Contains(label, "PRIVATE KEY"):
			return "a PEM private key", "a config names the merchant key file in private_key (" + EnvPrivateKey + ")"
		case strings.Contains(label, "PUBLIC KEY"):
			return "a PEM public key", "a config names a WeChat Pay public key file in certs (" + EnvCerts + "), by its id"
		case strings.Contains(label, "CERTIFICATE"):
			return "a PEM certificate", "a config names a WeChat Pay platform certificate file in certs (" + EnvCerts + "), by its serial"
		}
		return "a PEM file", "a config names key files in private_key and certs"
	}
	if keytext.DERFromBase64(data) != nil {
		return "a key or certificate in base64", "a config names key files in private_key and certs"
	}
	return "", ""
}

// FromVars reads the settings from WXPAY_* variables looked up with get;
// source says where they come from in messages ("the environment").
// Relative key paths are used as they are.
func FromVars(source string, get func(string) string) (*Settings, error) {
	s := &Settings{source: source}
	if err := s.fromVars(get); err != nil {
		return nil, errorf("%v", err)
	}
	return s, nil
}

// decodeJSON fills s from a JSON config, refusing keys it does not know: a
// misspelt key would otherwise be ignored. Keys match in any case, as
// encoding/json matches them.
func decodeJSON(data []byte, s *Settings) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("not a wxpay JSON config: %v", JSONProblem(err))
	}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if !slices.ContainsFunc(JSONKeys, func(known string) bool { return strings.EqualFold(k, known) }) {
			return fmt.Errorf("unknown key %s; the keys are %s", UnknownName(k, JSONKeys), strings.Join(JSONKeys, ", "))
		}
	}
	if err := json.Unmarshal(data, s); err != nil {
		return fmt.Errorf("not a wxpay JSON config: %v", JSONProblem(err))
	}
	return nil
}

// JSONProblem describes a JSON decoding error without quoting the input.
func JSONProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s is a JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	return err.Error()
}

// parseEnvFile reads KEY=VALUE lines; blank lines and lines starting with
// '#' are skipped, "export " is allowed, and a value may be quoted.
func parseEnvFile(data []byte) (map[string]string, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: want KEY=VALUE", n)
		}
		if !slices.Contains(EnvNames, k) {
			return nil, fmt.Errorf("line %d: unknown setting %s; the settings are %s", n, UnknownName(k, EnvNames), strings.Join(EnvNames, ", "))
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vars[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return vars, nil
}

// fromVars fills s from WXPAY_* variables.
func (s *Settings) fromVars(get func(string) string) error {
	s.MchID = get(EnvMchID)
	s.Serial = get(EnvSerial)
	s.PrivateKey = get(EnvPrivateKey)
	s.APIv3Key = get(EnvAPIv3Key)
	s.BaseURL = get(EnvBaseURL)
	if v := get(EnvCerts); v != "" {
		s.Certs = map[string]string{}
		for _, pair := range strings.Split(v, ",") {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			id, p, ok := strings.Cut(pair, "=")
			if !ok || strings.TrimSpace(id) == "" || strings.TrimSpace(p) == "" {
				return fmt.Errorf("%s: want id=path pairs separated by commas", EnvCerts)
			}
			s.Certs[strings.TrimSpace(id)] = strings.TrimSpace(p)
		}
	}
	return nil
}

// Load checks that the settings are complete and loads the keys. Certs
// may be empty only when needCerts is false (a merchant downloading its
// first platform certificates, trusting them on first use).
func (s *Settings) Load(needCerts bool) (*Loaded, error) {
	var missing []string
	if s.MchID == "" {
		missing = append(missing, "mchid ("+EnvMchID+")")
	}
	if s.Serial == "" {
		missing = append(missing, "serial ("+EnvSerial+")")
	}
	if s.PrivateKey == "" {
		missing = append(missing, "private_key ("+EnvPrivateKey+")")
	}
	if len(s.Certs) == 0 && needCerts {
		missing = append(missing, "certs ("+EnvCerts+")")
	}
	if len(missing) > 0 {
		return nil, errorf("config from %s lacks %s", s.source, strings.Join(missing, ", "))
	}
	if n := len(s.APIv3Key); n != 0 && n != 32 {
		return nil, errorf("config from %s: %s is %d bytes, want 32 (the APIv3 key set on the merchant platform)", s.source, s.name("apiv3_key", EnvAPIv3Key), n)
	}
	key, err := rsaenc.LoadPrivateKey(s.keyValue(s.PrivateKey))
	if err != nil {
		return nil, s.keyError(s.name("private_key", EnvPrivateKey), err)
	}
	certs, err := s.certs()
	if err != nil {
		return nil, err
	}
	return &Loaded{
		MchID:      s.MchID,
		Serial:     s.Serial,
		PrivateKey: key,
		Certs:      certs,
		APIv3Key:   s.APIv3Key,
		BaseURL:    s.BaseURL,
	}, nil
}

// name returns the name of a setting as the user wrote it: its JSON key in
// a JSON config, its variable name otherwise.
func (s *Settings) name(jsonKey, env string) string {
	if s.json {
		return jsonKey
	}
	return env
}

// certs loads the WeChat Pay keys, by id.
func (s *Settings) certs() (map[string]*rsa.PublicKey, error) {
	certs := make(map[string]*rsa.PublicKey, len(s.Certs))
	for _, id := range slices.Sorted(maps.Keys(s.Certs)) {
		if !isKeyID(id) {
			return nil, errorf("config from %s: %s: an id is not a WeChat Pay public-key id (PUB_KEY_ID_...) or certificate serial (value not shown)", s.source, s.name("certs", EnvCerts))
		}
		pub, err := rsaenc.LoadPublicKey(s.keyValue(s.Certs[id]))
		if err != nil {
			return nil, s.keyError(s.name("certs", EnvCerts)+" "+id, err)
		}
		certs[id] = pub
	}
	return certs, nil
}

// keyValue returns the value of a key setting for rsaenc's loaders: key
// text as it is, a file name resolved against the config file's directory.
func (s *Settings) keyValue(v string) string {
	if keytext.IsKeyText(v) || s.dir == "" || filepath.IsAbs(v) {
		return v
	}
	return filepath.Join(s.dir, v)
}

// keyError reports a key that did not load. rsaenc's message never holds
// key text.
func (s *Settings) keyError(setting string, err error) error {
	return &Error{
		msg: fmt.Sprintf("config from %s: %s: %s", s.source, setting, strings.TrimPrefix(err.Error(), "rsaenc: ")),
		err: errors.Unwrap(err),
	}
}

// isKeyID reports whether id can be a WeChat Pay key id or certificate
// serial, so that it may be shown and used. A certificate serial is up to
// 40 hexadecimal digits and a public-key id PUB_KEY_ID_ and digits, runs
// keytext.Showable would take for a piece of a key; other ids must be
// showable.
func isKeyID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	hex := true
	for _, c := range id {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
		hex = hex && ('A' <= c && c <= 'F' || 'a' <= c && c <= 'f' || '0' <= c && c <= '9')
	}
	return hex && len(id) <= 40 || strings.HasPrefix(id, "PUB_KEY_ID_") || keytext.Showable(id)
}

// quote quotes a file name in a message, unless it may be key text or a
// secret pasted in the wrong place.
func quote(s string) string {
	if keytext.Showable(s) {
		return strconv.Quote(s)
	}
	return "(argument not shown)"
}
