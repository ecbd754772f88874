#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, on a loopback port, in a temporary directory.
#   scripts/postgres.sh start DIR [PORT] [--tls]
#                                          initdb + start; prints the connection string on stdout. With --tls the
#                                          server also speaks TLS with a certificate for localhost/127.0.0.1 from a
#                                          throwaway CA at DIR/ca.pem; the printed string still says SSL Mode=Disable
#                                          (tests that want TLS ask for it).
#   scripts/postgres.sh stop DIR           stop and delete the cluster
# initdb refuses to run as root, so as root the cluster runs as the 'postgres' system user.
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop DIR [PORT]}
dir=${2:?usage: postgres.sh start|stop DIR [PORT]}
port=${3:-55432}
tls=${4:-}

bin=""
for candidate in /usr/lib/postgresql/*/bin; do
  [ -x "$candidate/initdb" ] && bin=$candidate
done
if [ -z "$bin" ] && command -v initdb >/dev/null; then bin=$(dirname "$(command -v initdb)"); fi
[ -n "$bin" ] || { echo "postgres.sh: PostgreSQL server binaries not found (Debian: apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U veil --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    ssl_options="" suffix=""
    if [ "$tls" = --tls ]; then
      command -v openssl >/dev/null || { echo "postgres.sh: --tls needs openssl" >&2; exit 1; }
      (cd "$dir" \
        && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=veil-test-ca \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout ca.key -out ca.pem \
        && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -keyout server.key -out server.csr \
        && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext \
        && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.crt \
        && rm -f ca.key server.csr server.ext ca.srl && chmod 600 server.key && chmod 644 ca.pem) >"$dir/tls.log" 2>&1 \
        || { cat "$dir/tls.log" >&2; exit 1; }
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/server.key" "$dir/server.crt"
      ssl_options="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
      suffix=";SSL Mode=Disable"
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 $ssl_options" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "Host=127.0.0.1;Port=$port;Username=veil;Database=postgres$suffix"
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *) echo "usage: postgres.sh start|stop DIR [PORT]" >&2; exit 2 ;;
esac
