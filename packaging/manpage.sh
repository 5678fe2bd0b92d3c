#!/usr/bin/env bash
# Writes the csr-simulator(1) man page (troff) to stdout, generated from the
# binary's own --help and --version so that it never drifts from the flags.
#   packaging/manpage.sh build/csr-simulator > csr-simulator.1
set -euo pipefail
binary="$1"
version="$("$binary" --version | awk '{print $2}')"
escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
cat <<HEADER
.TH CSR-SIMULATOR 1 "" "csr-simulator $version" "User Commands"
.SH NAME
csr-simulator \\- a local simulator of Bandwidth's CSR Lookup API
.SH DESCRIPTION
Serves Bandwidth's CSR lookup routes (subscriptions, CSR orders, notes, callbacks) and a
control API under /_sim for tests: a manual clock, the callback and request journals,
resets and fault injection. The output of \\fBcsr-simulator --help\\fR follows.
.SH OPTIONS
.nf
HEADER
"$binary" --help | escape
cat <<'FOOTER'
.fi
.SH FILES
.TP
.I /usr/share/csr-simulator/scenarios/
the bundled scenario files (the same default scenarios are compiled into the binary)
.TP
.I /usr/lib/systemd/system/csr-simulator.service
a unit for a shared team instance on 127.0.0.1:8080
.SH EXIT STATUS
0 after SIGTERM or SIGINT; 2 for a bad flag, an invalid scenario or config file, a port
in use or an unusable state file; \fBvalidate\fR exits 1 for invalid scenario files.
.SH SEE ALSO
README.md, docs/control-api.md and docs/scenarios.md in the csr-simulator sources.
FOOTER
