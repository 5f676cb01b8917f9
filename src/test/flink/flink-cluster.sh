#!/usr/bin/env bash
# Starts or stops a real Flink 1.19 standalone session cluster on loopback: one JobManager
# (StandaloneSessionClusterEntrypoint) and one TaskManager (TaskManagerRunner) as separate `java`
# processes, without Flink's distribution or shell scripts.
#
#   src/test/flink/flink-cluster.sh start CONF_DIR   # writes CONF_DIR/config.yaml, starts, waits
#   src/test/flink/flink-cluster.sh stop  CONF_DIR   # kills both processes (and their children)
#
# After start: CONF_DIR/rest.port holds the REST port (submit with --flinkMaster=localhost:PORT,
# web UI and REST API at http://localhost:PORT/), CONF_DIR/*.pid the process ids and
# CONF_DIR/*.log each process's output (slf4j-simple on stderr: read it to see why one exited).
#
# Classpath: $FLINK_CLASSPATH if set, else the project's bundled jar (it holds Flink 1.19.0's
# runtime via beam-runners-flink-1.19); build it first with `mvn package -DskipTests`.
# Readiness: polls GET /overview until it reports 1 TaskManager and 2 slots (bounded: 120 s).
set -euo pipefail

cmd=${1:-}
conf=${2:-}
if [[ -z "$cmd" || -z "$conf" ]]; then
  echo "usage: $0 start|stop CONF_DIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../../.." && pwd)

free_port() {
  # Asks the kernel for a free ephemeral port on loopback.
  java_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  echo "$java_port"
}

kill_tree() {
  local pid=$1
  local child
  for child in $(pgrep -P "$pid" 2>/dev/null || true); do
    kill_tree "$child"
  done
  kill "$pid" 2>/dev/null || true
}

stop() {
  local name pid i
  for name in taskmanager jobmanager; do
    [[ -f "$conf/$name.pid" ]] || continue
    pid=$(cat "$conf/$name.pid")
    kill_tree "$pid"
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$conf/$name.pid"
  done
}

start() {
  mkdir -p "$conf"
  conf=$(cd "$conf" && pwd)
  local cp=${FLINK_CLASSPATH:-$project/target/example-connector-0.1.0-SNAPSHOT-bundled.jar}
  local rest rpc
  rest=$(free_port)
  rpc=$(free_port)
  mkdir -p "$conf/tmp"
  # Every TaskManager memory component is explicit: TaskManagerRunner started without Flink's
  # scripts (which compute the JVM and memory flags) refuses to start otherwise.
  cat > "$conf/config.yaml" <<YAML
jobmanager:
  bind-host: 127.0.0.1
  rpc:
    address: 127.0.0.1
    port: $rpc
  memory:
    process:
      size: 1024m
taskmanager:
  bind-host: 127.0.0.1
  host: 127.0.0.1
  rpc:
    port: 0
  data:
    port: 0
  numberOfTaskSlots: 2
  cpu:
    cores: 2
  memory:
    framework:
      heap:
        size: 128m
      off-heap:
        size: 128m
    task:
      heap:
        size: 512m
      off-heap:
        size: 64m
    managed:
      size: 128m
    # Beam's batch graph (5 tables, ~40 operators each, parallelism 2) needs more network
    # buffers than Flink's 64m default: 64m failed with "Insufficient number of network buffers".
    network:
      min: 384m
      max: 384m
    jvm-metaspace:
      size: 256m
    jvm-overhead:
      min: 192m
      max: 192m
  # Each blocking result partition of a batch job reserves this many buffers (default 512):
  # with Beam's many operators per slot that exhausts even 384m of network memory.
  network:
    sort-shuffle:
      min-buffers: 64
rest:
  address: 127.0.0.1
  bind-address: 127.0.0.1
  port: $rest
blob:
  server:
    port: "0"
io:
  tmp:
    dirs: $conf/tmp
parallelism:
  default: 2
YAML
  echo "$rest" > "$conf/rest.port"
  # JVM heap: framework + task heap (640m) plus room; direct memory: framework + task off-heap
  # + network (576m); metaspace as configured. java.util opened for Kryo, which serializes
  # checkpointed state (continuous jobs) on Java 17: Flink's own scripts pass it from the
  # distribution's env.java.opts.all, which this script, starting the JVMs itself, does not read.
  local opens=--add-opens=java.base/java.util=ALL-UNNAMED
  java -Xmx768m -XX:MaxDirectMemorySize=640m -XX:MaxMetaspaceSize=256m $opens \
    -cp "$cp" org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint -c "$conf" \
    > "$conf/jobmanager.log" 2>&1 < /dev/null &
  echo $! > "$conf/jobmanager.pid"
  java -Xmx768m -XX:MaxDirectMemorySize=640m -XX:MaxMetaspaceSize=256m $opens \
    -cp "$cp" org.apache.flink.runtime.taskexecutor.TaskManagerRunner -c "$conf" \
    > "$conf/taskmanager.log" 2>&1 < /dev/null &
  echo $! > "$conf/taskmanager.pid"

  local i overview
  for i in $(seq 1 240); do
    for name in jobmanager taskmanager; do
      if ! kill -0 "$(cat "$conf/$name.pid")" 2>/dev/null; then
        echo "flink-cluster: the $name exited; its log ($conf/$name.log) ends:" >&2
        tail -n 40 "$conf/$name.log" >&2
        stop
        exit 1
      fi
    done
    overview=$(curl -fsS "http://127.0.0.1:$rest/overview" 2>/dev/null || true)
    if [[ "$overview" == *'"taskmanagers":1'* && "$overview" == *'"slots-total":2'* ]]; then
      echo "flink-cluster: ready at http://localhost:$rest ($overview)"
      return 0
    fi
    sleep 0.5
  done
  echo "flink-cluster: not ready after 120 s; last /overview: ${overview:-none}" >&2
  stop
  exit 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop CONF_DIR" >&2; exit 2 ;;
esac
