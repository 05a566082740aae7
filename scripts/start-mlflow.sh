#!/usr/bin/env bash
# Start an MLflow tracking server in the background for CI (same setup as test/support/mlflow-server.ts)
# and wait until /health answers. Prints MLFLOW_TEST_URI=... and appends it to $GITHUB_ENV when set.
#
#   scripts/start-mlflow.sh          start
#   scripts/start-mlflow.sh stop     stop the server started from the same MLFLOW_DATA_DIR
#
# Env: MLFLOW_PORT (5000), MLFLOW_DATA_DIR (${RUNNER_TEMP:-/tmp}/mlflow-ci), MLFLOW_PYTHON (python3),
#      MLFLOW_START_TIMEOUT seconds (90).
set -euo pipefail

port="${MLFLOW_PORT:-5000}"
data_dir="${MLFLOW_DATA_DIR:-${RUNNER_TEMP:-/tmp}/mlflow-ci}"
python="${MLFLOW_PYTHON:-python3}"
timeout_s="${MLFLOW_START_TIMEOUT:-90}"
pid_file="$data_dir/server.pid"
log_file="$data_dir/server.log"
uri="http://127.0.0.1:$port"

if [[ "${1:-start}" == "stop" ]]; then
  [[ -f "$pid_file" ]] || { echo "no $pid_file: nothing to stop"; exit 0; }
  pid="$(cat "$pid_file")"
  # setsid made the server its own process-group leader: signal the group to reach uvicorn too.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pid_file"
  echo "stopped MLflow server (pid $pid)"
  exit 0
fi

mkdir -p "$data_dir/artifacts"
echo "mlflow $("$python" -m mlflow --version 2>&1 | awk '{print $NF}') on $uri, data in $data_dir"

launcher=()
command -v setsid >/dev/null && launcher=(setsid)
MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false PYTHONUNBUFFERED=1 nohup "${launcher[@]}" "$python" -m mlflow server \
  --host 127.0.0.1 \
  --port "$port" \
  --workers 1 \
  --backend-store-uri "sqlite:///$data_dir/mlflow.db" \
  --serve-artifacts \
  --artifacts-destination "$data_dir/artifacts" \
  >"$log_file" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pid_file"

healthy() {
  if command -v curl >/dev/null; then
    curl -sf --max-time 2 "$uri/health" >/dev/null
  else
    "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$uri/health" 2>/dev/null
  fi
}

start=$SECONDS
until healthy; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "MLflow server exited during start-up. Log tail:" >&2
    tail -n 40 "$log_file" >&2
    exit 1
  fi
  if (( SECONDS - start >= timeout_s )); then
    echo "MLflow server did not answer $uri/health within ${timeout_s}s. Log tail:" >&2
    tail -n 40 "$log_file" >&2
    exit 1
  fi
  sleep 0.5
done

echo "MLflow server healthy after $((SECONDS - start))s (pid $pid, log $log_file)"
echo "MLFLOW_TEST_URI=$uri"
if [[ -n "${GITHUB_ENV:-}" ]]; then echo "MLFLOW_TEST_URI=$uri" >>"$GITHUB_ENV"; fi
