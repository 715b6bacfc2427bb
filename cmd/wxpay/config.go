package main

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
	"unicode"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/internal/keytext"
	"github.com/wxpay-chain/wxpay/rsaenc"
)

// The environment variables credentials are read from. A config file in
// env style uses the same names.
const (
	envMchID      = "WXPAY_MCHID"
	envSerial     = "WXPAY_SERIAL"
	envPrivateKey = "WXPAY_PRIVATE_KEY"
	envCerts      = "WXPAY_CERTS"
	envAPIv3Key   = "WXPAY_APIV3_KEY"
	envBaseURL    = "WXPAY_BASE_URL"
)

var envNames = []string{envMchID, envSerial, envPrivateKey, envCerts, envAPIv3Key, envBaseURL}

// fileConfig is the JSON config file, the format wxpay emulator writes:
//
//	{"mchid": "...", "serial": "...", "private_key": "apiclient_key.pem",
//	 "certs": {"PUB_KEY_ID_...": "PUB_KEY_ID_....pem"},
//	 "apiv3_key": "...", "base_url": "http://127.0.0.1:8090/"}
//
// Relative paths are relative to the directory of the file. private_key and
// each certs value may hold the key itself instead of a path (see
// rsaenc.LoadPrivateKey).
type fileConfig struct {
	MchID      string            `json:"mchid"`
	Serial     string            `json:"serial"`
	PrivateKey string            `json:"private_key"`
	Certs      map[string]string `json:"certs"`
	APIv3Key   string            `json:"apiv3_key"`
	BaseURL    string            `json:"base_url"`

	dir    string // paths are relative to it
	source string // where the settings came from, for messages
	json   bool   // the settings have their JSON names, not the WXPAY_* ones
}

// name returns the name of a setting as the user wrote it: its JSON key in
// a JSON config, its variable name otherwise.
func (fc *fileConfig) name(jsonKey, env string) string {
	if fc.json {
		return jsonKey
	}
	return env
}

// loadConfig reads the credentials from the file at path, or from the
// environment when path is empty, and loads the keys they name. Every
// problem is a usage error of cmd: nothing has been sent. Errors name the
// setting and the file but never a key or the APIv3 key.
func (m *Main) loadConfig(cmd, path string) (wxpay.Config, error) {
	var fc *fileConfig
	var err error
	if path != "" {
		fc, err = readConfigFile(path)
	} else {
		fc, err = m.envConfig(cmd)
	}
	var cfg wxpay.Config
	if err == nil {
		cfg, err = fc.build(cmd)
	}
	if err != nil {
		return wxpay.Config{}, asUsage(cmd, err)
	}
	return cfg, nil
}

// readConfigFile reads a JSON or env-style config file.
func readConfigFile(path string) (*fileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("config file %s: %v", quoteArg(path), err)
	}
	fc := &fileConfig{dir: filepath.Dir(path), source: path}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		fc.json = true
		if err := decodeJSONConfig(t, fc); err != nil {
			return nil, fmt.Errorf("config %s: %v", path, err)
		}
		return fc, nil
	}
	vars, err := parseEnvFile(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %v", path, err)
	}
	if err := fc.fromVars(func(k string) string { return vars[k] }); err != nil {
		return nil, fmt.Errorf("config %s: %v", path, err)
	}
	return fc, nil
}

// jsonKeys are the keys of a JSON config file.
var jsonKeys = []string{"mchid", "serial", "private_key", "certs", "apiv3_key", "base_url"}

// decodeJSONConfig fills fc from a JSON config, refusing keys it does not
// know: a misspelt key would otherwise be ignored. Keys match in any case,
// as encoding/json matches them.
func decodeJSONConfig(data []byte, fc *fileConfig) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("not a wxpay JSON config: %v", jsonProblem(err))
	}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if !slices.ContainsFunc(jsonKeys, func(known string) bool { return strings.EqualFold(k, known) }) {
			return fmt.Errorf("unknown key %s; the keys are %s", unknownName(k, jsonKeys), strings.Join(jsonKeys, ", "))
		}
	}
	if err := json.Unmarshal(data, fc); err != nil {
		return fmt.Errorf("not a wxpay JSON config: %v", jsonProblem(err))
	}
	return nil
}

// jsonProblem describes a JSON decoding error without quoting the input.
func jsonProblem(err error) string {
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
		if !isEnvName(k) {
			return nil, fmt.Errorf("line %d: unknown setting %s; the settings are %s", n, unknownName(k, envNames), strings.Join(envNames, ", "))
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

func isEnvName(k string) bool {
	for _, n := range envNames {
		if k == n {
			return true
		}
	}
	return false
}

// envConfig reads the settings from the environment.
func (m *Main) envConfig(cmd string) (*fileConfig, error) {
	set := false
	for _, n := range envNames {
		if m.getenv(n) != "" {
			set = true
		}
	}
	if !set {
		return nil, usagef(cmd, "no credentials: give --config FILE, or set %s, %s, %s and %s", envMchID, envSerial, envPrivateKey, envCerts)
	}
	fc := &fileConfig{source: "the environment"}
	if err := fc.fromVars(m.getenv); err != nil {
		return nil, err
	}
	return fc, nil
}

// fromVars fills fc from WXPAY_* variables.
func (fc *fileConfig) fromVars(get func(string) string) error {
	fc.MchID = get(envMchID)
	fc.Serial = get(envSerial)
	fc.PrivateKey = get(envPrivateKey)
	fc.APIv3Key = get(envAPIv3Key)
	fc.BaseURL = get(envBaseURL)
	if s := get(envCerts); s != "" {
		fc.Certs = map[string]string{}
		for _, pair := range strings.Split(s, ",") {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			id, p, ok := strings.Cut(pair, "=")
			if !ok || strings.TrimSpace(id) == "" || strings.TrimSpace(p) == "" {
				return fmt.Errorf("%s: want id=path pairs separated by commas", envCerts)
			}
			fc.Certs[strings.TrimSpace(id)] = strings.TrimSpace(p)
		}
	}
	return nil
}

// build checks the settings and loads the keys.
func (fc *fileConfig) build(cmd string) (wxpay.Config, error) {
	var missing []string
	if fc.MchID == "" {
		missing = append(missing, "mchid ("+envMchID+")")
	}
	if fc.Serial == "" {
		missing = append(missing, "serial ("+envSerial+")")
	}
	if fc.PrivateKey == "" {
		missing = append(missing, "private_key ("+envPrivateKey+")")
	}
	// "wxpay certificates --tofu" may run before any WeChat Pay key is known.
	if len(fc.Certs) == 0 && cmd != "certificates" {
		missing = append(missing, "certs ("+envCerts+")")
	}
	if len(missing) > 0 {
		return wxpay.Config{}, usagef(cmd, "config from %s lacks %s", fc.source, strings.Join(missing, ", "))
	}
	if n := len(fc.APIv3Key); n != 0 && n != 32 {
		return wxpay.Config{}, fmt.Errorf("config from %s: %s is %d bytes, want 32 (the APIv3 key set on the merchant platform)", fc.source, fc.name("apiv3_key", envAPIv3Key), n)
	}
	key, err := fc.privateKey()
	if err != nil {
		return wxpay.Config{}, err
	}
	certs, err := fc.certs()
	if err != nil {
		return wxpay.Config{}, err
	}
	return wxpay.Config{
		MchID:      fc.MchID,
		Serial:     fc.Serial,
		PrivateKey: key,
		Certs:      certs,
		APIv3Key:   fc.APIv3Key,
		BaseURL:    fc.BaseURL,
	}, nil
}

// privateKey loads the merchant key from its file, or from the key text
// the setting holds.
func (fc *fileConfig) privateKey() (*rsa.PrivateKey, error) {
	k, err := rsaenc.LoadPrivateKey(fc.keyValue(fc.PrivateKey))
	if err != nil {
		return nil, fc.keyError(fc.name("private_key", envPrivateKey), err)
	}
	return k, nil
}

// certs loads the WeChat Pay keys, by id.
func (fc *fileConfig) certs() (map[string]*rsa.PublicKey, error) {
	certs := make(map[string]*rsa.PublicKey, len(fc.Certs))
	for _, id := range slices.Sorted(maps.Keys(fc.Certs)) {
		if !isKeyID(id) {
			return nil, fmt.Errorf("config from %s: %s: an id is not a WeChat Pay public-key id (PUB_KEY_ID_...) or certificate serial (value not shown)", fc.source, fc.name("certs", envCerts))
		}
		pub, err := rsaenc.LoadPublicKey(fc.keyValue(fc.Certs[id]))
		if err != nil {
			return nil, fc.keyError(fc.name("certs", envCerts)+" "+id, err)
		}
		certs[id] = pub
	}
	return certs, nil
}

// keyValue returns the value of a key setting for rsaenc's loaders: key
// text as it is, a file name resolved against the config file's directory.
func (fc *fileConfig) keyValue(v string) string {
	if keytext.IsKeyText(v) {
		return v
	}
	return fc.path(v)
}

// keyError reports a key that did not load. rsaenc's message never holds
// key text.
func (fc *fileConfig) keyError(setting string, err error) error {
	return fmt.Errorf("config from %s: %s: %s", fc.source, setting, strings.TrimPrefix(err.Error(), "rsaenc: "))
}

// isKeyID reports whether id can be a WeChat Pay key id or certificate
// serial, so that it may be shown and used.
func isKeyID(id string) bool {
	if id == "" || len(id) > 64 || !keytext.Showable(id) {
		return false
	}
	for _, c := range id {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// quoteArg quotes a command-line argument in a message, unless it may be
// key text or a secret pasted in the wrong place.
func quoteArg(s string) string {
	if keytext.Showable(s) {
		return strconv.Quote(s)
	}
	return "(argument not shown)"
}

// unknownName quotes an unknown setting name, with the known name it was
// probably meant to be. A name that might be a piece of key text (long, or
// in mixed case with nothing it resembles) is not shown.
func unknownName(k string, known []string) string {
	guess := suggest(k, known)
	if !nameShown(k, guess != "") {
		return "(name not shown)"
	}
	if guess != "" {
		return fmt.Sprintf("%q (did you mean %q?)", k, guess)
	}
	return strconv.Quote(k)
}

func nameShown(k string, resembles bool) bool {
	if len(k) > 64 || !keytext.Showable(k) {
		return false
	}
	for _, c := range k {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return resembles || strings.ToUpper(k) == k || strings.ToLower(k) == k
}

// suggest returns the name of known that k most likely misspells, or "".
// Names are compared in lower case without '_', '-' and '.': equal, one
// within two edits of the other, or one holding the other.
func suggest(k string, known []string) string {
	nk := normName(k)
	if len(nk) < 3 || len(nk) > 40 {
		return ""
	}
	best, bestDist := "", 3
	for _, name := range known {
		n := normName(name)
		d := editDistance(nk, n)
		if d > 2 && (strings.Contains(nk, n) || strings.Contains(n, nk)) {
			d = 2
		}
		if d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

func normName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// path resolves p against the directory of the config file.
func (fc *fileConfig) path(p string) string {
	if fc.dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(fc.dir, p)
}
