#!/usr/bin/env bash
# Serve a crowd from one machine: N Streamlit processes (replicas) behind nginx, one vote store.
#
#   bash scripts/serve.sh --replicas 2 [--db postgresql+psycopg://user@host/db] [--port 8501] [--app study|full]
#
# --app study (default) serves the participant-only deployment (deploy/study/study_app.py, as scripts/study.sh);
# --app full serves the whole app. Each replica is a separate Python process, so N replicas use N cores.
# Sticky sessions: a Streamlit session lives in one process (its websocket, its media files), so nginx hashes
# a cookie it sets on the first response (musicgen_replica) to pick the replica; when a replica dies, nginx
# moves its browsers to a live one, and because a participant's state is in the vote store and their id is in
# their link (?pid=), a reload there resumes the study where it was.
# --db: every replica must share one store. The default is the SQLite file under $MUSICGEN_DATA (fine on one
# machine); use PostgreSQL (--db or $MUSICGEN_DB_URL) for many participants or several machines.
# Stop with Ctrl-C: nginx and every replica stop with this script. Files: $MUSICGEN_DATA/serve/.
set -euo pipefail
cd "$(dirname "$0")/.."

replicas=2 port=8501 app=study db="${MUSICGEN_DB_URL:-}"
while (($#)); do
  case "$1" in
    --replicas) replicas="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --db) db="$2"; shift 2 ;;
    --app) app="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "serve: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$replicas" =~ ^[1-9][0-9]?$ ]] || { echo "serve: --replicas must be 1-99, not '$replicas'" >&2; exit 2; }
[[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port + replicas < 65536)) || { echo "serve: bad --port '$port'" >&2; exit 2; }
case "$app" in
  study) entry=deploy/study/study_app.py; flags=(--client.toolbarMode minimal --client.showErrorDetails none) ;;
  full) entry=app.py; flags=() ;;
  *) echo "serve: --app must be study or full, not '$app'" >&2; exit 2 ;;
esac

MUSICGEN_SETUP_EXTRA=serve bash scripts/setup.sh
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x "$NGINX" ]] || { echo "serve: nginx is missing; run:  sudo apt-get install -y nginx-light" >&2; exit 1; }

data="${MUSICGEN_DATA:-$HOME/.local/share/musicgen}"
run="$data/serve"
mkdir -p "$run/tmp"
chmod 755 "$data" "$run" && chmod 777 "$run/tmp"  # nginx's workers run as nobody when started as root
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" MUSICGEN_DATA="$data"
[[ -n "$db" ]] && export MUSICGEN_DB_URL="$db"
# One cookie secret for all replicas: a browser moved to another replica keeps a valid XSRF cookie.
secret_file="$run/cookie_secret"
[[ -s "$secret_file" ]] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > "$secret_file")
STREAMLIT_SERVER_COOKIE_SECRET=$(cat "$secret_file")
export STREAMLIT_SERVER_COOKIE_SECRET  # Streamlit refuses this one as a command-line flag

pids=()
stop() {
  trap - EXIT INT TERM
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

servers=""
for ((i = 1; i <= replicas; i++)); do
  p=$((port + i))
  .venv/bin/python -m musicgen.ui.launch run "$entry" --server.headless true --server.port "$p" \
    --server.address 127.0.0.1 --browser.gatherUsageStats false --server.fileWatcherType none \
    "${flags[@]}" > "$run/replica-$i.log" 2>&1 &
  pids+=($!)
  echo $! > "$run/replica-$i.pid"
  servers+="    server 127.0.0.1:$p max_fails=1 fail_timeout=5s;"$'\n'
done

cat > "$run/nginx.conf" <<EOF
worker_processes 1;
pid $run/nginx.pid;
error_log $run/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $run/tmp/body; proxy_temp_path $run/tmp/proxy; fastcgi_temp_path $run/tmp/fastcgi;
  uwsgi_temp_path $run/tmp/uwsgi; scgi_temp_path $run/tmp/scgi;
  client_max_body_size 200m;
  map \$http_upgrade \$connection_upgrade { default upgrade; "" close; }
  # A browser's replica: the cookie set on its first response (a random key), hashed over the replicas.
  map \$cookie_musicgen_replica \$replica_key { "" \$request_id; default \$cookie_musicgen_replica; }
  upstream musicgen {
    hash \$replica_key consistent;
$servers  }
  server {
    listen $port;
    location / {
      proxy_pass http://musicgen;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_read_timeout 1d; proxy_send_timeout 1d;
      proxy_next_upstream error timeout http_502 http_503;
      add_header Set-Cookie "musicgen_replica=\$replica_key; Path=/; HttpOnly; SameSite=Lax" always;
      add_header X-Musicgen-Replica \$upstream_addr always;  # which process answered (no study data)
    }
  }
}
EOF

for ((i = 1; i <= replicas; i++)); do  # nginx only once every replica answers
  for _ in $(seq 1 180); do
    curl -fsS "http://127.0.0.1:$((port + i))/_stcore/health" >/dev/null 2>&1 && break
    kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { echo "serve: replica $i exited; see $run/replica-$i.log" >&2; exit 1; }
    sleep 0.5
  done
done
"$NGINX" -c "$run/nginx.conf" -p "$run" -e "$run/nginx-error.log" -g 'daemon off;' &
pids+=($!)
echo $! > "$run/nginx.pid.main"
echo "serve: $replicas replicas of $entry behind nginx at http://0.0.0.0:$port (store: ${MUSICGEN_DB_URL:-SQLite in $data})"
wait -n "${pids[@]}" || true
echo "serve: a process stopped; the others keep serving until Ctrl-C" >&2
wait
