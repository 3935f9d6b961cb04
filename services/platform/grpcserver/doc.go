// Package grpcserver builds the gRPC server every ddr service runs, so that
// health checks, reflection, tracing, caller identity, error mapping, access
// logs and graceful shutdown behave the same in all of them and no service
// can forget one. Handlers return plain errors (see package ddrerr); the
// server turns them into gRPC statuses with machine-readable details.
package grpcserver
