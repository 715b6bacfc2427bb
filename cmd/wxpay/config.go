package main

import (
	"strconv"

	"github.com/wxpay-chain/wxpay"
	"github.com/wxpay-chain/wxpay/internal/configfile"
	"github.com/wxpay-chain/wxpay/internal/keytext"
)

// The environment variables credentials are read from. A config file in
// env style uses the same names (see wxpay.LoadConfig).
const (
	envMchID      = configfile.EnvMchID
	envSerial     = configfile.EnvSerial
	envPrivateKey = configfile.EnvPrivateKey
	envCerts      = configfile.EnvCerts
	envAPIv3Key   = configfile.EnvAPIv3Key
	envBaseURL    = configfile.EnvBaseURL
)

// loadConfig reads the credentials from the file at path with
// wxpay.LoadConfig, or from the environment when path is empty, and loads
// the keys they name. Every problem is a usage error of cmd: nothing has
// been sent. Errors name the setting and the file but never a key or the
// APIv3 key.
//
// "wxpay certificates" may run before any WeChat Pay key is known (with
// --tofu): for it, certs may be empty.
func (m *Main) loadConfig(cmd, path string) (wxpay.Config, error) {
	needCerts := cmd != "certificates"
	if path != "" && needCerts {
		cfg, err := wxpay.LoadConfig(path)
		if err != nil {
			return wxpay.Config{}, asUsage(cmd, err)
		}
		return cfg, nil
	}
	var s *configfile.Settings
	var err error
	if path != "" {
		s, err = configfile.Read(path)
	} else {
		s, err = m.envConfig(cmd)
	}
	var l *configfile.Loaded
	if err == nil {
		l, err = s.Load(needCerts)
	}
	if err != nil {
		return wxpay.Config{}, asUsage(cmd, err)
	}
	return wxpay.Config{
		MchID:      l.MchID,
		Serial:     l.Serial,
		PrivateKey: l.PrivateKey,
		Certs:      l.Certs,
		APIv3Key:   l.APIv3Key,
		BaseURL:    l.BaseURL,
	}, nil
}

// envConfig reads the settings from the environment.
func (m *Main) envConfig(cmd string) (*configfile.Settings, error) {
	set := false
	for _, n := range configfile.EnvNames {
		if m.getenv(n) != "" {
			set = true
		}
	}
	if !set {
		return nil, usagef(cmd, "no credentials: give --config FILE, or set %s, %s, %s and %s", envMchID, envSerial, envPrivateKey, envCerts)
	}
	return configfile.FromVars("the environment", m.getenv)
}

// quoteArg quotes a command-line argument in a message, unless it may be
// key text or a secret pasted in the wrong place.
func quoteArg(s string) string {
	if keytext.Showable(s) {
		return strconv.Quote(s)
	}
	return "(argument not shown)"
}

// jsonProblem describes a JSON decoding error without quoting the input.
func jsonProblem(err error) string { return configfile.JSONProblem(err) }
