package wxpay

import "github.com/wxpay-chain/wxpay/internal/configfile"

// LoadConfig reads the config file at path, loads the keys it names and
// returns the Config it describes, ready for New. It is the file that
// `wxpay emulator` writes for its own keys (wxpay.json) and that the wxpay
// command reads with --config, so one program runs unchanged against the
// emulator and against WeChat Pay:
//
//	{
//	  "mchid": "1900000109",
//	  "serial": "3775B6A45ACD588826D15E583A95F5DD12345678",
//	  "private_key": "apiclient_key.pem",
//	  "certs": {"PUB_KEY_ID_0114232134912410000000000000": "pub_key.pem"},
//	  "apiv3_key": "...",
//	  "base_url": "https://api.mch.weixin.qq.com/"
//	}
//
// mchid, serial, private_key and certs (the WeChat Pay public keys or
// platform certificates, by id) are required; apiv3_key (32 bytes) and
// base_url (DefaultBaseURL if absent) are optional. private_key and each
// certs value is a file name, resolved against the directory of the config
// file when relative, or the key itself (PEM text or the bare base64 body,
// as rsaenc.LoadPrivateKey and rsaenc.LoadPublicKey take it). A file that
// does not start with '{' is read as KEY=VALUE lines with the names
// WXPAY_MCHID, WXPAY_SERIAL, WXPAY_PRIVATE_KEY, WXPAY_CERTS (id=path pairs
// separated by commas), WXPAY_APIV3_KEY and WXPAY_BASE_URL; blank lines,
// '#' comments, "export " and quoted values are allowed. LoadConfig reads
// only the file, never the environment.
//
// A key the JSON does not know, or a line naming another setting, is
// refused with the name it probably misspells, rather than ignored. Every
// error wraps ErrInvalidConfig (and, for a file that cannot be read, the
// file system's error, so errors.Is(err, fs.ErrNotExist) works) and names
// the file and the setting, never a key or the APIv3 key. The other fields
// of Config (Timeout, Retry, ...) are left zero for the caller to set.
func LoadConfig(path string) (Config, error) {
	s, err := configfile.Read(path)
	var l *configfile.Loaded
	if err == nil {
		l, err = s.Load(true)
	}
	if err != nil {
		return Config{}, &loadConfigError{err: err}
	}
	return Config{
		MchID:      l.MchID,
		Serial:     l.Serial,
		PrivateKey: l.PrivateKey,
		Certs:      l.Certs,
		APIv3Key:   l.APIv3Key,
		BaseURL:    l.BaseURL,
	}, nil
}

// loadConfigError is an error of LoadConfig: it matches ErrInvalidConfig
// and the cause of the problem.
type loadConfigError struct{ err error }

func (e *loadConfigError) Error() string   { return "wxpay: " + e.err.Error() }
func (e *loadConfigError) Unwrap() []error { return []error{ErrInvalidConfig, e.err} }
