package devop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// SignIn signs username in as a browser would, through the authorization
// code flow with PKCE (form post on the login page, cookies kept), and
// returns the ID token as issued, unverified (a test may want an expired
// one): verify it before trusting it. Tests use it to get a real person
// token without a browser; redirectURI must be one the client accepts
// (any loopback one does), and nothing needs to listen there.
func SignIn(ctx context.Context, issuer, clientID, redirectURI, username, password string) (string, error) {
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return "", err
	}
	conf := oauth2.Config{
		ClientID:    clientID,
		Endpoint:    provider.Endpoint(),
		RedirectURL: redirectURI,
		Scopes:      []string{oidc.ScopeOpenID, "profile"},
	}
	// A public client: no secret, the client id goes in the form.
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	state, err := random()
	if err != nil {
		return "", err
	}
	verifier := oauth2.GenerateVerifier()
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{
		Jar: jar,
		// Stop at the redirect back to the client: that is where the
		// code is, and nothing need listen there.
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), redirectURI) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != loginPath {
		return "", fmt.Errorf("devop: authorize led to %s (%s), not the login page", resp.Request.URL.Path, resp.Status)
	}
	authRequestID := resp.Request.URL.Query().Get("authRequestID")
	form := url.Values{"id": {authRequestID}, "username": {username}, "password": {password}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, issuer+loginPath, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = client.Do(req)
	if err != nil {
		return "", err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("devop: sign-in refused (%s)", resp.Status)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", err
	}
	if got := back.Query().Get("state"); got != state {
		return "", errors.New("devop: the redirect's state is not ours")
	}
	code := back.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("devop: no code in the redirect (error %q)", back.Query().Get("error"))
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", err
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return "", errors.New("devop: no id_token in the token response")
	}
	return raw, nil
}

func random() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
