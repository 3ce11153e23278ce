// Starting a process inside a cell's cgroup from its very first instruction: a tiny /bin/sh
// wrapper writes its own pid into each cgroup.procs file, then execs the command (same pid, so
// the process group, the recorded pid and its exit status are the command's). Nothing it starts
// can run before it is in the cgroup. The script is constant; the files and the command are argv.
const JOIN = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/** The argv ([file, ...args]) that runs `argv` inside the cgroups whose cgroup.procs are `procs`. */
export function inCgroup(procs: string[], argv: [string, ...string[]]): [string, ...string[]] {
  if (procs.length === 0) return argv;
  return ['/bin/sh', '-c', JOIN, 'hive-cgroup-join', ...procs, '--', ...argv];
}
