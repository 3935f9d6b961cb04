package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// signIn is the OpenID Connect relying party: authorization code with
// PKCE. Discovery is lazy, so the console may start before its provider.
type signIn struct {
	issuer, clientID, redirect string
	client                     *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

func (s *signIn) ctx(ctx context.Context) context.Context {
	if s.client != nil {
		return oidc.ClientContext(ctx, s.client)
	}
	return ctx
}

func (s *signIn) discover(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	p, err := oidc.NewProvider(s.ctx(ctx), s.issuer)
	if err != nil {
		return nil, err
	}
	s.provider = p
	return p, nil
}

func (s *signIn) oauth(p *oidc.Provider) *oauth2.Config {
	// A public client: PKCE, not a client secret, binds the code to this
	// login.
	return &oauth2.Config{
		ClientID:    s.clientID,
		Endpoint:    p.Endpoint(),
		RedirectURL: s.redirect,
		Scopes:      []string{oidc.ScopeOpenID, "profile"},
	}
}

// loginLifetime bounds how long a person may take at the provider's form.
const loginLifetime = 10 * time.Minute

func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) {
	p, err := c.oidc.discover(r.Context())
	if err != nil {
		c.log.Warn("sign-in provider unreachable", "err", err)
		c.renderError(w, r, http.StatusServiceUnavailable, "The sign-in provider is not reachable. Try again shortly.")
		return
	}
	l := &pendingLogin{state: randomID(), nonce: randomID(), verifier: oauth2.GenerateVerifier(), expires: c.now().Add(loginLifetime)}
	id := randomID()
	c.store.putLogin(id, l)
	c.setCookie(w, loginCookie, id, http.SameSiteLaxMode, l.expires)
	u := c.oidc.oauth(p).AuthCodeURL(l.state, oidc.Nonce(l.nonce), oauth2.S256ChallengeOption(l.verifier))
	http.Redirect(w, r, u, http.StatusFound)
}

var errLogin = errors.New("sign-in failed")

func (c *Console) handleCallback(w http.ResponseWriter, r *http.Request) {
	ss, err := c.finishLogin(r)
	c.setCookie(w, loginCookie, "", http.SameSiteLaxMode, time.Time{})
	if err != nil {
		// The cause goes to the log without the code or tokens.
		c.log.Warn("sign-in failed", "err", err)
		c.renderError(w, r, http.StatusUnauthorized, "Sign-in failed. Please sign in again.")
		return
	}
	c.setCookie(w, sessionCookie, ss.id, http.SameSiteStrictMode, ss.expires)
	// A Strict cookie set on a response to a cross-site navigation is not
	// sent on a redirect from it; a same-origin page that moves on is.
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, http.StatusOK, "signedin", &view{Title: "Signed in"})
}

func (c *Console) finishLogin(r *http.Request) (*session, error) {
	ck, err := r.Cookie(loginCookie)
	if err != nil {
		return nil, fmt.Errorf("%w: no login in progress", errLogin)
	}
	l := c.store.takeLogin(ck.Value, c.now())
	if l == nil {
		return nil, fmt.Errorf("%w: unknown or expired login", errLogin)
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return nil, fmt.Errorf("%w: provider answered %q", errLogin, e)
	}
	if q.Get("state") != l.state {
		return nil, fmt.Errorf("%w: state mismatch", errLogin)
	}
	p, err := c.oidc.discover(r.Context())
	if err != nil {
		return nil, err
	}
	ctx := c.oidc.ctx(r.Context())
	tok, err := c.oidc.oauth(p).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(l.verifier))
	if err != nil {
		return nil, fmt.Errorf("%w: code exchange: %w", errLogin, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, fmt.Errorf("%w: no ID token", errLogin)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.oidc.clientID, Now: c.now}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: ID token: %w", errLogin, err)
	}
	if idt.Nonce != l.nonce {
		return nil, fmt.Errorf("%w: nonce mismatch", errLogin)
	}
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
	}
	_ = idt.Claims(&claims)
	name := claims.PreferredUsername
	if name == "" {
		name = idt.Subject
	}
	// The session ends when the ID token does: the services would refuse
	// it after that anyway.
	exp := c.now().Add(c.sessionTTL)
	if idt.Expiry.Before(exp) {
		exp = idt.Expiry
	}
	return c.store.newSession(idt.Subject, name, raw, exp), nil
}

func (c *Console) handleLogout(w http.ResponseWriter, r *http.Request) {
	if ss := c.sessionOf(r); ss != nil {
		c.store.drop(ss.id)
	}
	c.setCookie(w, sessionCookie, "", http.SameSiteStrictMode, time.Time{})
	http.Redirect(w, r, "/signed-out", http.StatusSeeOther)
}
