#!/usr/bin/env bash
# The raw operations of provisioning a one-service cell, by hand: worktree add, start the server,
# wait for its port, then remove everything. Usage: baseline.sh REPO NAME PORT
set -euo pipefail
repo=$1 name=$2 port=$3
dir="$repo/.cells/$name"
# Parallel git worktree commands in one repository trip over each other's half-written admin folder
# ("failed to read .git/worktrees/<id>/commondir"): a script has to retry them, as Hive does.
retry() {
  for try in 1 2 3 4 5 6 7 8; do
    "$@" 2>/dev/null && return 0
    sleep 0.05
  done
  "$@"
}
retry git -C "$repo" worktree add -q -b "bench/$name" "$dir" HEAD
cd "$dir"
# No job control in a script: setsid does not fork, so $! leads the server's new process group.
PORT=$port setsid node server.js </dev/null >/dev/null 2>&1 &
pid=$!
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.02; done
kill -- "-$pid"
cd "$repo"
retry git worktree remove --force "$dir"
retry git branch -q -D "bench/$name"
