// Package natsx starts an embedded NATS server and opens client connections
// with the settings every ddr service needs, so that the all-in-one binary,
// the services and the tests all run NATS the same way: JetStream on, file
// store, fsync policy chosen explicitly, reconnect forever, errors in slog.
package natsx

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Defaults for [EmbeddedConfig].
const (
	DefaultHost         = "127.0.0.1"
	DefaultPort         = 4222
	DefaultStartTimeout = 10 * time.Second
	// RandomPort asks the server to pick a free port (tests, several servers
	// in one process).
	RandomPort = server.RANDOM_PORT
)

// ErrNotReady is returned when the embedded server did not accept
// connections within the start timeout.
var ErrNotReady = errors.New("natsx: embedded server not ready for connections")

// ErrInvalidConfig is wrapped by every configuration error.
var ErrInvalidConfig = errors.New("natsx: invalid config")

// EmbeddedConfig describes an in-process NATS server with JetStream.
type EmbeddedConfig struct {
	// StoreDir is where JetStream keeps its files. Required: the stream is
	// the system of record, so it must never land in a surprising place.
	StoreDir string
	// Host to listen on for clients. If empty, 127.0.0.1: an embedded
	// server is for this process and its neighbours, not the network.
	Host string
	// Port for clients. If 0, 4222; [RandomPort] (-1) picks a free one.
	Port int
	// ServerName must be unique within a cluster. If empty the server
	// generates one.
	ServerName string
	// SyncAlways fsyncs every write. The server default syncs every two
	// minutes, which can lose acknowledged events on an OS crash; callers
	// should default this to true for a single node.
	SyncAlways bool
	// Cluster, if set, makes the server join a cluster (replicated streams).
	Cluster *ClusterConfig
	// StartTimeout bounds the wait for the server to accept connections.
	// If 0, [DefaultStartTimeout].
	StartTimeout time.Duration
	// TLS, when set, makes clients speak TLS and present a certificate the
	// config verifies (tls.RequireAndVerifyClientCert).
	TLS *tls.Config
	// Users, with TLS, are the only users: a client is the user named by
	// its certificate's URI SAN (verify_and_map) and gets its permissions.
	Users []*server.User
	// MaxPayload bounds a message, in bytes. If 0, the server default
	// (1 MiB). Tests lower it to make an append fail for real.
	MaxPayload int32
}

// ClusterConfig joins an embedded server to a NATS cluster.
type ClusterConfig struct {
	Name   string
	Host   string
	Port   int
	Routes []string // nats-route://host:port of every member, this one included is fine
}

// Validate reports configuration errors, wrapped with [ErrInvalidConfig].
func (c EmbeddedConfig) Validate() error {
	var errs []error
	if c.StoreDir == "" {
		errs = append(errs, errors.New("StoreDir is required"))
	}
	if c.Port < RandomPort || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("Port %d out of range", c.Port)) //nolint:staticcheck // ST1005: Port is the field's name, like StoreDir in the messages around it
	}
	if c.StartTimeout < 0 {
		errs = append(errs, errors.New("StartTimeout must not be negative"))
	}
	if cl := c.Cluster; cl != nil {
		if cl.Name == "" {
			errs = append(errs, errors.New("Cluster.Name is required"))
		}
		if c.ServerName == "" {
			errs = append(errs, errors.New("ServerName is required in a cluster"))
		}
		if cl.Port < RandomPort || cl.Port > 65535 {
			errs = append(errs, fmt.Errorf("Cluster.Port %d out of range", cl.Port))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

// StartEmbedded starts a JetStream-enabled NATS server in this process and
// waits, bounded by cfg.StartTimeout, until it accepts connections. Server
// logs go to logger (nil discards them). Stop it with [Shutdown].
func StartEmbedded(cfg EmbeddedConfig, logger *slog.Logger) (*server.Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := &server.Options{
		ServerName: cfg.ServerName,
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		SyncAlways: cfg.SyncAlways,
		// The process owns signal handling (graceful shutdown of everything).
		NoSigs:     true,
		MaxPayload: cfg.MaxPayload,
	}
	if opts.Host == "" {
		opts.Host = DefaultHost
	}
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	if cfg.TLS != nil {
		opts.TLSConfig = cfg.TLS
		opts.TLSVerify = true
		opts.TLSTimeout = 5
		if len(cfg.Users) > 0 {
			opts.TLSMap = true
			opts.Users = cfg.Users
		}
	}
	if cl := cfg.Cluster; cl != nil {
		opts.Cluster = server.ClusterOpts{Name: cl.Name, Host: cl.Host, Port: cl.Port}
		if opts.Cluster.Host == "" {
			opts.Cluster.Host = DefaultHost
		}
		if len(cl.Routes) > 0 {
			opts.Routes = server.RoutesFromStr(strings.Join(cl.Routes, ","))
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsx: new server: %w", err)
	}
	s.SetLoggerV2(&slogAdapter{l: logger.With("component", "nats-server")}, false, false, false)
	s.Start()
	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = DefaultStartTimeout
	}
	if !s.ReadyForConnections(timeout) {
		Shutdown(s)
		return nil, fmt.Errorf("%w after %s", ErrNotReady, timeout)
	}
	return s, nil
}

// Shutdown stops s and waits until it has released its store and ports, so
// a restart on the same directory or port cannot race the old instance.
func Shutdown(s *server.Server) {
	if s == nil {
		return
	}
	s.Shutdown()
	s.WaitForShutdown()
}

// Connect dials url with the ddr defaults: the connection name (shows in
// server monitoring), unlimited reconnects every second (a service must
// outlive a NATS restart), and connection events logged through
// slog.Default. opts are applied after the defaults and override them; use
// [WithLogger] for another logger.
func Connect(url, name string, opts ...nats.Option) (*nats.Conn, error) {
	all := append(defaultOptions(name), opts...)
	nc, err := nats.Connect(url, all...)
	if err != nil {
		return nil, fmt.Errorf("natsx: connect %s: %w", url, err)
	}
	return nc, nil
}

// ConnectInProcess connects to an embedded server without a socket: no port
// to collide on, nothing on the network to secure.
func ConnectInProcess(s *server.Server, name string, opts ...nats.Option) (*nats.Conn, error) {
	all := append(defaultOptions(name), nats.InProcessServer(s))
	all = append(all, opts...)
	nc, err := nats.Connect(s.ClientURL(), all...)
	if err != nil {
		return nil, fmt.Errorf("natsx: connect in process: %w", err)
	}
	return nc, nil
}

func defaultOptions(name string) []nats.Option {
	return []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		WithLogger(slog.Default()),
	}
}

// WithLogger logs disconnects, reconnects, closes and asynchronous errors
// (slow consumer, permission violations) to l.
func WithLogger(l *slog.Logger) nats.Option {
	return func(o *nats.Options) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidConfig)
		}
		l = l.With("component", "nats", "conn", o.Name)
		o.DisconnectedErrCB = func(_ *nats.Conn, err error) {
			if err != nil {
				l.Warn("nats disconnected", "error", err)
				return
			}
			l.Debug("nats disconnected") // a deliberate close
		}
		o.ReconnectedCB = func(nc *nats.Conn) {
			l.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}
		o.ClosedCB = func(*nats.Conn) { l.Debug("nats connection closed") }
		o.AsyncErrorCB = func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			l.Error("nats async error", "subject", subject, "error", err)
		}
		return nil
	}
}

// slogAdapter routes the server's printf-style logs into slog.
type slogAdapter struct{ l *slog.Logger }

func (a *slogAdapter) Noticef(format string, v ...any) { a.l.Info(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Warnf(format string, v ...any)   { a.l.Warn(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Fatalf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Errorf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Debugf(format string, v ...any)  { a.l.Debug(fmt.Sprintf(format, v...)) }
func (a *slogAdapter) Tracef(format string, v ...any)  { a.l.Debug(fmt.Sprintf(format, v...)) }
