#!/usr/bin/env bash
# make run: the whole suite on this machine, as a person uses it.
#
#   the dev OpenID provider  http://127.0.0.1:7701  (services/devoidc; dev users
#                            alice, bob, carol, reception-acme-eu, password "dev")
#   the all-in-one           127.0.0.1:7600 over mTLS (embedded NATS + the four
#                            services), trusting the provider's ID tokens
#                            (--oidc-issuer) from the console only
#   the console              http://127.0.0.1:7700 (services/console), once it
#                            exists in this tree
#
# Ctrl-C stops all three; when one of them exits, the others are stopped.
# Settings: the all-in-one's DDR_* variables and ARGS as before; DDR_OIDC_ISSUER
# set to another provider starts no dev provider; DEVOIDC_ADDR and CONSOLE_ADDR
# move the dev provider and the console; CONSOLE_ARGS for the console.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
BIN=.build/run
DATA_DIR=${DDR_DATA_DIR:-./data}
PKI_DIR=${DDR_PKI_DIR:-$DATA_DIR/pki}
OP_ADDR=${DEVOIDC_ADDR:-127.0.0.1:7701}
CONSOLE_ADDR=${CONSOLE_ADDR:-127.0.0.1:7700}
read -r -a args <<<"${ARGS:-}"
read -r -a console_args <<<"${CONSOLE_ARGS:-}"

have_console=""
[[ -d services/console/cmd/console ]] && have_console=1

mkdir -p "$BIN"
echo "building the all-in-one, the dev OpenID provider${have_console:+ and the console}..."
$GO build -o "$BIN/" ./services/allinone/cmd/ddr
start_op=""
if [[ -z ${DDR_OIDC_ISSUER:-} ]]; then
	start_op=1
	export DDR_OIDC_ISSUER=http://$OP_ADDR
	$GO build -o "$BIN/" ./services/devoidc/cmd/devoidc
fi
[[ -n $have_console ]] && $GO build -o "$BIN/" ./services/console/cmd/console

pids=()
stop() {
	trap - INT TERM EXIT
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
}
trap stop INT TERM EXIT

# wait_port ADDR: until something accepts on ADDR (60 s at most).
wait_port() {
	local host=${1%:*} port=${1##*:}
	for _ in $(seq 1 300); do
		if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
		sleep 0.2
	done
	echo "nothing listens on $1 after 60 s" >&2
	return 1
}

if [[ -n $start_op ]]; then
	"$BIN/devoidc" -addr "$OP_ADDR" &
	pids+=($!)
	wait_port "$OP_ADDR"
fi

"$BIN/ddr" "${args[@]}" &
pids+=($!)

if [[ -n $have_console ]]; then
	grpc=${DDR_GRPC_ADDR:-127.0.0.1:7600}
	wait_port "$grpc"
	"$BIN/console" -addr "$CONSOLE_ADDR" -public-url "http://$CONSOLE_ADDR" -pki-dir "$PKI_DIR" -oidc-issuer "$DDR_OIDC_ISSUER" \
		-intake-addr "$grpc" -assessment-addr "$grpc" -notification-addr "$grpc" -reporting-addr "$grpc" "${console_args[@]}" &
	pids+=($!)
	wait_port "$CONSOLE_ADDR"
	printf '\n\033[1mconsole: http://%s\033[0m  (dev users alice, bob, carol, reception-acme-eu; password "dev")\n\n' "$CONSOLE_ADDR"
else
	printf '\n\033[1mno console in this tree yet (services/console/cmd/console); the services and the dev OpenID provider run\033[0m\n\n'
fi

# The first to exit stops the rest.
wait -n "${pids[@]}" || true
