#!/usr/bin/env bash
# make demo: five requests through a running suite with ddrctl, each taking
# another path of the policy, then their record and the transparency report.
#
#   A  disclose after notice   the customer is told before anything goes out (4.1.2)
#   B  hold                    a non-adequate country: hold, consult the DPA, a second
#                              person confirms its answer, the hold lifts (2.2, 4.2.1)
#   C  bulk                    a disclosure is refused (6.1), the request rejected
#   D  redirect                the authority agrees to go to the customer (4.1.1)
#   E  redirect declined       the authority will not go to the customer: the case goes
#                              back to review, a new decision (four eyes again), the
#                              customer's notice, then the disclosure (4.1.1, 4.1.2)
#
# Needs the suite running (`make run` in another terminal). Settings:
# DDR_ADDR (default 127.0.0.1:7600), DDR_DATA_DIR (default ./data, where a
# development PKI of `make certs` is looked for), DDR_PKI_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
export DDR_ADDR=${DDR_ADDR:-127.0.0.1:7600}
DATA_DIR=${DDR_DATA_DIR:-./data}
BIN=.build/demo
MAILBOX_ADDR=${DEMO_MAILBOX_ADDR:-127.0.0.1:7690} # make run sends notices here
MEMBER=spiffe://ddr.local/group-member/acme-eu
ALICE=spiffe://ddr.local/staff/alice # reviewer
BOB=spiffe://ddr.local/staff/bob     # approver: the second pair of eyes

mkdir -p "$BIN"
echo "building ddrctl and the demo mailbox..."
$GO build -o "$BIN/" ./services/ddrctl/cmd/ddrctl ./services/ddrctl/cmd/demo-mailbox
DDRCTL=$BIN/ddrctl

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
# as WHO ddrctl-args...: show the command, then run it as WHO.
as() {
	local who=$1
	shift
	local shown="" a
	for a in "$@"; do
		[[ $a == *[[:space:]\;]* ]] && a="\"$a\""
		shown+=" $a"
	done
	printf '\n$ ddrctl%s   \033[2m# as %s\033[0m\n' "$shown" "${who##*/}" >&2
	"$DDRCTL" --identity "$who" "$@"
}
# quietly WHO args...: run without showing (polling, ids).
quietly() {
	local who=$1
	shift
	"$DDRCTL" --identity "$who" "$@"
}
json_field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" | head -1; }
# until_ok WHAT cmd...: retry cmd for up to 30 s (the suite reacts to events
# asynchronously: a case opens, a plan is derived, a notice is delivered).
until_ok() {
	local what=$1
	shift
	for _ in $(seq 1 150); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	echo "timed out waiting for $what" >&2
	exit 1
}
# packet_out ID: the DPA packet of clause 2.2 reached every competent DPA.
packet_out() { quietly "$ALICE" plan get "$1" | grep -Eq '^notify_dpa +[^ ]+ +2\.2 +done'; }
plan_is() { quietly "$ALICE" plan get "$1" -o json | grep -q "\"status\": *\"PLAN_STATUS_$2\""; }
case_state_is() { quietly "$ALICE" case get "$1" -o json | grep -q "\"lifecycle_state\": *\"$2\""; }
stage_is() { quietly "$MEMBER" request get "$1" -o json | grep -q "\"stage\": *\"STAGE_$2\""; }

# --- is the suite there, and how does it identify callers? ----------------
PKI=${DDR_PKI_DIR:-$DATA_DIR/pki}
mode=""
if [[ -f "$PKI/ca.crt" ]] && DDR_PKI_DIR=$PKI quietly "$MEMBER" request list >/dev/null 2>&1; then
	export DDR_PKI_DIR=$PKI
	mode="mTLS with the development certificates in $PKI"
elif (unset DDR_PKI_DIR; quietly "$MEMBER" request list >/dev/null 2>&1); then
	unset DDR_PKI_DIR
	mode="development identity header"
fi
if [[ -z $mode ]]; then
	cat >&2 <<EOF
No ddr suite answers at $DDR_ADDR.

Start it in another terminal from the repository root, then run make demo again:

    make run

(The demo's customer and DPA receive their notices by e-mail from the suite:
make run's defaults send them to the demo mailbox this script starts. If you
start the all-in-one yourself, give it
    --notification-contacts services/ddrctl/demo/contacts.json
    --notification-smtp-addr $MAILBOX_ADDR)
EOF
	exit 1
fi
echo "the suite answers at $DDR_ADDR ($mode)"

# --- the customer and the DPA: they receive the suite's e-mail --------------
MAILBOX_LOG=$(mktemp)
"$BIN/demo-mailbox" -listen "$MAILBOX_ADDR" >"$MAILBOX_LOG" 2>&1 &
mailbox_pid=$!
work=$(mktemp -d)
trap 'kill "$mailbox_pid" 2>/dev/null || true; rm -rf "$work" "$MAILBOX_LOG"' EXIT

# Requests are dated in the last finished half-year, so that the
# transparency report (only of finished periods, clause 5.1) can show them;
# intake flags them as forwarded late (clause 3.1), which is true.
if (($(date -u +%-m) <= 6)); then
	year=$(($(date -u +%Y) - 1))
	received="$year-12-15T09:00:00Z" period="$year-H2"
else
	year=$(date -u +%Y)
	received="$year-06-15T09:00:00Z" period="$year-H1"
fi
from=$(date -u -d "$received - 90 days" +%Y-%m-%dT00:00:00Z)
to=$(date -u -d "$received - 1 day" +%Y-%m-%dT00:00:00Z)
run=$(date -u +%Y%m%dT%H%M%S)

# review ID: alice claims the case and records the review of clause 3.3.
review() {
	until_ok "the case of $1" quietly "$ALICE" case get "$1"
	as "$ALICE" case claim "$1" >/dev/null && echo "(claimed)"
	as "$ALICE" case factors "$1" --all "assessed against the demand and its legal process" \
		--rights "the affected people's rights and freedoms weighed; proportionate" >/dev/null && echo "(six factors and the rights weighing recorded)"
	as "$ALICE" case challenge "$1" --reasoning "valid legal process; no grounds to challenge" >/dev/null && echo "(challenge considered)"
}
# submit args...: submit as the group member, showing the answer; ID is the
# request id (asked again with the same key: idempotent, so no second request).
submit() {
	as "$MEMBER" request submit "$@"
	ID=$(quietly "$MEMBER" request submit "$@" -o json | json_field request_id)
}
timeline() {
	bold "Timeline of request $2 as the group member sees it"
	as "$MEMBER" request get "$2"
}

# ==========================================================================
bold "A. Disclose after notice to the customer (clauses 2.1, 4.1.1, 4.1.2)"
cat >"$work/a.yaml" <<EOF
idempotency_key: demo-$run-a
request:
  received_at: "$received"
  channel: CHANNEL_LETTER
  received_by: EU support desk
  authority: {name: Landeskriminalamt Berlin, kind: AUTHORITY_KIND_POLICE, country: DE}
  legal_process: {type: LEGAL_PROCESS_TYPE_COURT_ORDER, reference: AG Tiergarten 351 Gs 12/26}
  customer_id: demo-customer
  targets: [{kind: TARGET_KIND_ACCOUNT, value: acct-1001}]
  data_categories: [DATA_CATEGORY_SUBSCRIBER]
  time_range: {from: "$from", to: "$to"}
  stated_purpose: fraud investigation
EOF
echo "The demand, as the EU support desk received it (a.yaml):"
sed 's/^/    /' "$work/a.yaml"
submit -f "$work/a.yaml"
A=$ID
review "$A"
as "$ALICE" case decide "$A" --kind disclose --basis compelling-legal-obligation | sed -n '/^DECISION/,$p'
as "$BOB" case approve "$A" | sed -n '/^DECISION/,$p'
until_ok "the plan of $A" quietly "$ALICE" plan get "$A"
as "$ALICE" plan get "$A"
echo
echo "The customer controls the data: the authority is asked to go to the customer first."
as "$ALICE" plan redirect "$A" --outcome declined | sed -n '/^STEPS/,/^$/p'
# A notice that failed earlier (no mailbox yet) waits for its backoff: ask now.
quietly "$ALICE" plan retry "$A" >/dev/null 2>&1 || true
until_ok "the customer notice of $A" plan_is "$A" CLEARED
as "$ALICE" plan get "$A"
echo
echo "What the demo mailbox received (the customer's notice, and the lead DPA's notice of clause 2.2):"
sed 's/^/    /' "$MAILBOX_LOG"
as "$ALICE" record disposition "$A" --category subscriber --accounts 1 --means secure-portal
timeline A "$A"

# ==========================================================================
bold "B. Hold for a country without adequate protection (clause 4.2.1)"
submit --key "demo-$run-b" --received-at "$received" --channel email \
	--authority "Federal Bureau of Investigation" --authority-kind police --country US \
	--legal-process subpoena --legal-reference "GJ-2026-0117" \
	--target email-address=user@example.org --category subscriber --from "$from" --to "$to" \
	--purpose "wire fraud investigation"
B=$ID
review "$B"
as "$ALICE" case decide "$B" --kind disclose --basis compelling-legal-obligation >/dev/null && echo "(disclose proposed)"
as "$BOB" case approve "$B" >/dev/null && echo "(approved)"
until_ok "the hold of $B" stage_is "$B" ON_HOLD
as "$ALICE" plan holds
as "$ALICE" plan get "$B"
echo
echo "The consultation packet goes to the lead DPA by e-mail (clauses 2.2, 4.2.1)."
quietly "$ALICE" plan retry "$B" >/dev/null 2>&1 || true
until_ok "the DPA packet of $B" packet_out "$B"
echo
echo "The lead DPA answers with no objection. Alice records its answer, with the"
echo "DPA's reply reference and date: one person's record lifts nothing."
as "$ALICE" plan dpa-outcome "$B" --authority DPC-IE --outcome no-objection \
	--reply-reference "DPC-2026-118" --reply-date "$(date -u +%Y-%m-%d)" --summary "no objection (letter of the DPC)" |
	sed -n '1p;/^STATUS/p;/^SAFEGUARDS/,$p'
LIFT=$(quietly "$ALICE" plan get "$B" -o json | json_field id)
echo
echo "Bob, a second person who did not propose the decision, confirms it: only now does the hold lift."
as "$BOB" plan confirm "$B" --lift "$LIFT" | sed -n '/^STATUS/p;/^HOLD LIFTED/p;/^STEPS/,$p'
until_ok "the clearance of $B" plan_is "$B" CLEARED
echo
echo "What the demo mailbox received for the hold (the DPA's consultation packet):"
grep -i "consult.*$B" "$MAILBOX_LOG" | sed 's/^/    /' || true
as "$ALICE" record disposition "$B" --category subscriber --accounts 1 --means encrypted-email
timeline B "$B"

# ==========================================================================
bold "C. A bulk demand: disclosure refused (clause 6.1), then rejected"
submit --key "demo-$run-c" --received-at "$received" --channel portal \
	--authority "Gendarmerie nationale" --authority-kind police --country FR \
	--legal-process production-order --scope-selector whole-tenant \
	--scope-description "every user of the tenant shop-42 and their tickets" \
	--category subscriber --category content --from "$from" --to "$to"
C=$ID
review "$C"
set +e
as "$ALICE" case decide "$C" --kind disclose --basis compelling-legal-obligation
rc=$?
set -e
echo "(exit code $rc: refused by the policy)"
as "$ALICE" case decide "$C" --kind reject --grounds "bulk demand for a whole tenant: massive, disproportionate and indiscriminate (6.1)" | sed -n '/^DECISION/,$p'
until_ok "the closing of $C" stage_is "$C" CLOSED
timeline C "$C"

# ==========================================================================
bold "D. Redirect: the customer is controller and the authority agrees (clause 4.1.1)"
echo "A phone call, no legal process (clause 3.2):"
submit --key "demo-$run-d" --received-at "$received" --channel phone \
	--authority "Politie Amsterdam" --authority-kind police --country NL --legal-process none \
	--customer demo-customer --target user=agent-77 --category subscriber --from "$from" --to "$to"
D=$ID
review "$D"
as "$ALICE" case decide "$D" --kind redirect-to-customer | sed -n '/^DECISION/,$p'
until_ok "the plan of $D" quietly "$ALICE" plan get "$D"
as "$ALICE" plan redirect "$D" --outcome agreed --support "sent the customer the demand and our contractual assistance terms"
until_ok "the closing of $D" stage_is "$D" CLOSED
timeline D "$D"

# ==========================================================================
bold "E. Redirect declined: back in review, a new decision, the notice, the disclosure (4.1.1, 4.1.2)"
submit --key "demo-$run-e" --received-at "$received" --channel email \
	--authority "Polizia di Stato" --authority-kind police --country IT \
	--legal-process production-order --legal-reference "PM Milano 4471/26" \
	--customer demo-customer --target account=acct-2002 --category subscriber --from "$from" --to "$to" \
	--purpose "extortion investigation"
E=$ID
review "$E"
echo "The customer controls the data: Alice decides to ask the authority to go to the customer."
as "$ALICE" case decide "$E" --kind redirect-to-customer | sed -n '/^DECISION/,$p'
until_ok "the plan of $E" quietly "$ALICE" plan get "$E"
echo
echo "The authority declines. The decision in effect can no longer be carried out:"
echo "the case goes back to review (the redirect decision stays in the record)."
as "$ALICE" plan redirect "$E" --outcome declined | sed -n '/^STATUS/p'
until_ok "the reopening of $E" case_state_is "$E" in_review
as "$ALICE" case get "$E" -o yaml | sed -n '/^lifecycle_state/p;/^reopenings/,/^[a-z_]*:$/p' | sed '$d'
echo
echo "A new decision, through four eyes again: Alice proposes the disclosure, Bob approves."
as "$ALICE" case decide "$E" --kind disclose --basis compelling-legal-obligation >/dev/null && echo "(disclose proposed)"
as "$BOB" case approve "$E" | sed -n '/^DECISION/,$p'
echo
echo "The new plan keeps the authority's recorded answer: the customer's notice is owed before anything goes out."
quietly "$ALICE" plan retry "$E" >/dev/null 2>&1 || true
until_ok "the customer notice of $E" plan_is "$E" CLEARED
as "$ALICE" plan get "$E"
as "$ALICE" record disposition "$E" --category subscriber --accounts 1 --means secure-portal
timeline E "$E"

# ==========================================================================
bold "The written record of request A: every event, in order, hash-chained"
as "$ALICE" record get "$A"
as "$ALICE" record verify "$A"

bold "The transparency report of $period (clause 5.1)"
as "$ALICE" report generate --period "$period"
as "$ALICE" report export --period "$period" --format json --out "$work/report.json"
as "$ALICE" report verify "$work/report.json"

bold "Done: five requests, five paths. Look around with: $DDRCTL --help"
