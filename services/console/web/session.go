package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Cookie names. The session cookie holds only a random id: everything it
// stands for (the person, their ID token, the CSRF token) stays on the
// server, so a stolen or logged cookie value reveals nothing and a session
// ends for good when the server forgets it.
const (
	sessionCookie = "ddr_session"
	loginCookie   = "ddr_login"
)

// session is one signed-in person.
type session struct {
	id      string
	subject string // the OIDC subject (dev users: alice, bob, ...)
	name    string // what the page shows: preferred_username or the subject
	idToken string // forwarded to the services on every call
	csrf    string
	expires time.Time
}

// pendingLogin is a login begun at /auth/login and not yet called back:
// the state, nonce and PKCE verifier of that authorization request.
type pendingLogin struct {
	state, nonce, verifier string
	expires                time.Time
}

// store keeps sessions and pending logins in memory. A restart signs
// everybody out, which is the safe direction.
type store struct {
	mu       sync.Mutex
	sessions map[string]*session
	logins   map[string]*pendingLogin
}

func newStore() *store {
	return &store{sessions: map[string]*session{}, logins: map[string]*pendingLogin{}}
}

// randomID is 256 bits from crypto/rand, URL-safe.
func randomID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *store) newSession(subject, name, idToken string, expires time.Time) *session {
	ss := &session{id: randomID(), subject: subject, name: name, idToken: idToken, csrf: randomID(), expires: expires}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[ss.id] = ss
	return ss
}

// get returns the live session of id; an expired one is forgotten.
func (s *store) get(id string, now time.Time) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[id]
	if ss == nil {
		return nil
	}
	if !now.Before(ss.expires) {
		delete(s.sessions, id)
		return nil
	}
	return ss
}

func (s *store) drop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
}

func (s *store) putLogin(id string, l *pendingLogin) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Forget abandoned logins so the map cannot grow without bound.
	for k, v := range s.logins {
		if time.Now().After(v.expires) {
			delete(s.logins, k)
		}
	}
	s.logins[id] = l
}

// takeLogin returns the pending login of id once: a callback cannot be
// replayed.
func (s *store) takeLogin(id string, now time.Time) *pendingLogin {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.logins[id]
	delete(s.logins, id)
	if l == nil || now.After(l.expires) {
		return nil
	}
	return l
}

// validCSRF compares in constant time.
func (ss *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(ss.csrf)) == 1
}

// setCookie writes a host-only, HttpOnly cookie. The session cookie is
// SameSite=Strict (no cross-site request carries it, so a POST from
// another site is not the person's); the login cookie must come back on
// the OpenID provider's redirect to the callback, a cross-site top-level
// navigation, so it is Lax.
func (c *Console) setCookie(w http.ResponseWriter, name, value string, sameSite http.SameSite, expires time.Time) {
	ck := &http.Cookie{ //nolint:gosec // Secure follows the public URL's scheme: a loopback http console cannot set it
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   c.secure,
		SameSite: sameSite,
	}
	if value == "" {
		ck.MaxAge = -1
	} else {
		ck.Expires = expires
	}
	http.SetCookie(w, ck)
}
