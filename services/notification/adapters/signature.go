package adapters

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Webhook signing is keyed hashing, so it lives here and not in the domain
// (which only decides what a notice says and to whom).

// SignatureHeader is the HTTP header carrying a webhook signature.
const SignatureHeader = "DDR-Signature"

// DefaultSignatureTolerance is how far a signature's timestamp may be from
// the receiver's clock. It bounds replay of a captured notice.
const DefaultSignatureTolerance = 5 * time.Minute

// Signature errors, compared with errors.Is.
var (
	ErrSignatureMalformed = errors.New("webhook signature: malformed header")
	ErrSignatureMismatch  = errors.New("webhook signature: no matching signature")
	ErrSignatureStale     = errors.New("webhook signature: timestamp outside tolerance")
	ErrSignatureNoSecret  = errors.New("webhook signature: empty secret")
)

// SignWebhook returns the header value "t=<unix>,v1=<hex>" where the hex is
// HMAC-SHA256 with secret over "<unix>.<body>". The timestamp is inside the
// MAC, so a receiver that checks it can refuse replays of old notices.
func SignWebhook(secret, body []byte, t time.Time) (string, error) {
	if len(secret) == 0 {
		return "", ErrSignatureNoSecret
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body)), nil
}

// VerifyWebhook checks a header made by [SignWebhook] against body at now:
// the timestamp must be within tolerance either way, and one v1 signature
// must match (several are allowed, so a sender can sign with an old and a
// new secret while rotating).
func VerifyWebhook(secret, body []byte, header string, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return ErrSignatureNoSecret
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrSignatureMalformed
		}
		switch k {
		case "t":
			if ts != "" {
				return ErrSignatureMalformed
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil {
				return ErrSignatureMalformed
			}
			sigs = append(sigs, sig)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrSignatureMalformed
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureStale
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrSignatureMismatch
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}
