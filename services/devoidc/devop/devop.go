// Package devop is the development OpenID provider: a real OpenID Connect
// provider (zitadel/oidc's op package) on loopback with the dev users, so
// that the console's sign-in and the services' check of a person's token
// run the same protocol on a laptop and in tests as against the
// organisation's own provider. It is for development only: its users share
// one published password and it serves plain http; [Start] refuses any
// address that is not loopback. No production binary links it.
package devop

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/text/language"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Defaults of [Config].
const (
	DefaultAddr        = "127.0.0.1:7701"
	DefaultClientID    = "ddr-console"
	DefaultRedirectURI = "http://127.0.0.1:7700/auth/callback"
	// DefaultIDTokenLifetime is how long a person's ID token is good for:
	// the console signs the person in again after it.
	DefaultIDTokenLifetime = time.Hour
)

// DevPassword is every dev user's password. It is published here on
// purpose: the dev provider is for a laptop and tests, never a deployment.
const DevPassword = "dev"

// DevUsers are the people who can sign in. Each one's OIDC subject is the
// name itself; the roles file maps it to a staff or group-member identity
// (alice, bob and carol are staff; reception-acme-eu works the desk of the
// group member acme-eu).
var DevUsers = []string{"alice", "bob", "carol", "reception-acme-eu"}

// Config of the dev provider. The zero value serves on [DefaultAddr].
type Config struct {
	// Addr is where it listens; a loopback address only. Port 0 picks a
	// free port ([Server.Issuer] says which).
	Addr string
	// ClientID is the console's client id; default [DefaultClientID].
	ClientID string
	// ExtraClientIDs are further public clients with the same redirect
	// URIs (tests: a token issued to another client).
	ExtraClientIDs []string
	// RedirectURIs are allowed besides [DefaultRedirectURI] (a loopback
	// redirect of any port is allowed anyway, RFC 8252 7.3).
	RedirectURIs []string
	// IDTokenLifetime; default [DefaultIDTokenLifetime]. Tests set a
	// negative one to get a token that is already expired.
	IDTokenLifetime time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Server is a running dev provider.
type Server struct {
	issuer   string
	srv      *http.Server
	done     chan error
	lifetime *atomic.Int64
}

// Start listens on cfg.Addr and serves until ctx ends or Close is called.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.IDTokenLifetime == 0 {
		cfg.IDTokenLifetime = DefaultIDTokenLifetime
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("devop: address %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("devop: %q is not a loopback IP address: the dev provider's users share a published password", cfg.Addr)
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("devop: %w", err)
	}
	issuer := "http://" + lis.Addr().String()
	lifetime := new(atomic.Int64)
	lifetime.Store(int64(cfg.IDTokenLifetime))
	handler, err := newHandler(issuer, cfg, lifetime)
	if err != nil {
		_ = lis.Close()
		return nil, err
	}
	s := &Server{
		issuer:   issuer,
		srv:      &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second},
		done:     make(chan error, 1),
		lifetime: lifetime,
	}
	go func() {
		err := s.srv.Serve(lis)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	go func() {
		<-ctx.Done()
		_ = s.Close()
	}()
	cfg.Logger.Info("dev OpenID provider ready (development only)", "issuer", issuer, "client_id", cfg.ClientID)
	return s, nil
}

// Issuer is the provider's issuer URL, e.g. http://127.0.0.1:7701.
func (s *Server) Issuer() string { return s.issuer }

// SetIDTokenLifetime changes the lifetime of the ID tokens issued from now
// on; tests set a negative one to get an expired token from the issuer the
// services trust.
func (s *Server) SetIDTokenLifetime(d time.Duration) { s.lifetime.Store(int64(d)) }

// Close stops serving at once.
func (s *Server) Close() error {
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(sctx)
}

// Wait returns once the server has stopped, with the reason if it failed.
func (s *Server) Wait() error {
	err := <-s.done
	s.done <- err
	return err
}

func newHandler(issuer string, cfg Config, lifetime *atomic.Int64) (http.Handler, error) {
	redirects := append([]string{DefaultRedirectURI}, cfg.RedirectURIs...)
	clients := map[string]*storage.Client{}
	for _, id := range append([]string{cfg.ClientID}, cfg.ExtraClientIDs...) {
		// A public client: the console keeps no secret, PKCE binds the
		// code to the browser session that asked for it.
		clients[id] = storage.NativeClient(id, slices.Clone(redirects)...)
	}
	store := &lifetimeStorage{
		Storage:  storage.NewStorageWithClients(devUserStore{}, clients),
		lifetime: lifetime,
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:          key,
		CodeMethodS256:     true,
		SupportedUILocales: []language.Tag{language.English},
	}, store, op.StaticIssuer(issuer),
		// http on loopback: development only (Start checks the address).
		op.WithAllowInsecure(),
	)
	if err != nil {
		return nil, fmt.Errorf("devop: %w", err)
	}
	l := &login{store: store.Storage, callback: op.AuthCallbackURL(provider), logger: cfg.Logger}
	mux := http.NewServeMux()
	mux.Handle(loginPath, op.NewIssuerInterceptor(provider.IssuerFromRequest).Handler(l))
	mux.Handle("/", provider)
	return mux, nil
}

// lifetimeStorage sets the ID tokens' lifetime, which the example
// storage's clients fix at one hour.
type lifetimeStorage struct {
	*storage.Storage
	lifetime *atomic.Int64
}

func (s *lifetimeStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return lifetimeClient{Client: c, lifetime: time.Duration(s.lifetime.Load())}, nil
}

type lifetimeClient struct {
	op.Client
	lifetime time.Duration
}

func (c lifetimeClient) IDTokenLifetime() time.Duration { return c.lifetime }

// devUserStore holds [DevUsers]; a user's ID, the token's subject, is
// its name.
type devUserStore struct{}

func (devUserStore) GetUserByID(id string) *storage.User { return devUser(id) }

func (devUserStore) GetUserByUsername(name string) *storage.User { return devUser(name) }

// ExampleClientID names the example storage's JWT-profile service user,
// which no dev flow uses.
func (devUserStore) ExampleClientID() string { return "ddr-dev-service" }

func devUser(name string) *storage.User {
	if !slices.Contains(DevUsers, name) {
		return nil
	}
	return &storage.User{
		ID:                name,
		Username:          name,
		Password:          DevPassword,
		FirstName:         name,
		Email:             name + "@dev.invalid",
		EmailVerified:     true,
		PreferredLanguage: language.English,
	}
}
