#!/bin/sh
# The cluster test's profiler command (Storm's worker.profiler.command): flight.bash PID jstack|jmap|dump DIR.
# Writes the dump into DIR, the worker's artifacts directory, where Storm's UI lists dumps.
pid="$1"; action="$2"; dir="$3"
bin="$(dirname "$(readlink /proc/"$pid"/exe)")"
now="$(date +%Y%m%d%H%M%S)"
case "$action" in
  jstack) "$bin/jstack" "$pid" > "$dir/$pid-$now.txt" ;;
  jmap) "$bin/jmap" -dump:format=b,file="$dir/$pid-$now.bin" "$pid" ;;
  *) echo "flight.bash: $action is not supported here" >&2; exit 2 ;;
esac
