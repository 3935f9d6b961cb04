// Package ddrerr holds the error vocabulary shared by domain code and the
// transports. Domain packages must stay free of gRPC and NATS, yet their
// refusals have to reach callers as precise gRPC statuses; these plain Go
// types carry exactly the facts the transport needs (which field, which
// policy clause) and nothing else. It imports only the standard library and
// platform/policy (the clause vocabulary, itself standard library only).
package ddrerr
