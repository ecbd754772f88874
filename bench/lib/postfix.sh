# Shared by the benchmarks that compare Veil with a throwaway Postfix on the same machine (bench/alias.sh,
# bench/mailbox.sh): installing Postfix without configuring the system's, waiting for a port, and the master.cf
# of an instance that runs only what a benchmark needs. Source it; it defines functions only.

# Installs the Debian package postfix (for smtp-source, smtp-sink and postfix itself) when missing, answering
# "No configuration" so the system Postfix is never configured or started.
ensure_postfix() {
  if ! command -v smtp-source >/dev/null || ! command -v postfix >/dev/null; then
    echo "== installing postfix (No configuration)"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null
  fi
}

wait_port() { for _ in $(seq 1 600); do ss -ltn | grep -q "127.0.0.1:$1 " && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

# Writes $1/master.cf: smtpd on 127.0.0.1:$2 and the daemons a queue needs, plus the delivery agents named after it
# (smtp, relay, virtual, discard, ...: one line each, run unchrooted).
postfix_master_cf() {
  local etc=$1 port=$2; shift 2
  {
    echo "127.0.0.1:$port inet n - n - - smtpd"
    cat <<'MASTER'
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
postlog   unix-dgram n - n - 1 postlogd
MASTER
    for agent in "$@"; do
      case $agent in
        virtual) echo "virtual   unix  - n n - - virtual" ;;   # delivers as the mailbox owner: not unprivileged
        relay) echo "relay     unix  - - n - - smtp" ;;
        *) printf '%-9s unix  - - n - - %s\n' "$agent" "$agent" ;;
      esac
    done
  } > "$etc/master.cf"
}
